import { ConfigError, parseEnv, retentionEnv, retentionPolicy } from '../../../functions/config/env';
import { jsonLogger } from '../../../functions/adapters/log';
import { DEFAULT_RETENTION, purgeCutoffs, type PurgeCutoffs } from '../../../functions/domain/privacy/retention';
import type { RollupStore } from '../../../functions/ports/rollups';
import { makePurge } from '../../../functions/use-cases/purge';
import { MAX_POINTS_PER_GROUP } from '../../../functions/domain/rollups/metric-query';
import { INTERVAL_MS } from '../../../functions/domain/rollups/rollup';

const DAY = 86_400_000;

describe('retention', () => {
  it('cuts each kind of data off its own number of days before now', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    expect(purgeCutoffs({ idempotencyKeyDays: 31, minuteRollupDays: 14, hourRollupDays: 400, auditDays: 2190, reportDays: 365, alertDays: 90 }, now)).toEqual({
      idempotencyKeys: now.getTime() - 31 * DAY,
      minuteRollups: now.getTime() - 14 * DAY,
      hourRollups: now.getTime() - 400 * DAY,
      audit: now.getTime() - 2190 * DAY,
      reports: now.getTime() - 365 * DAY,
      alerts: now.getTime() - 90 * DAY,
    });
  });

  it('reads the policy from the environment, with the defaults where unset', () => {
    expect(retentionPolicy(parseEnv(retentionEnv, {}))).toEqual(DEFAULT_RETENTION);
    expect(retentionPolicy(parseEnv(retentionEnv, { RETENTION_MINUTE_ROLLUP_DAYS: '3', RETENTION_HOUR_ROLLUP_DAYS: '90', RETENTION_AUDIT_DAYS: '3000', RETENTION_ALERT_DAYS: '60' }))).toEqual({
      idempotencyKeyDays: 31,
      minuteRollupDays: 3,
      hourRollupDays: 90,
      auditDays: 3000,
      reportDays: 365,
      alertDays: 60,
    });
  });

  it('refuses to forget resolved alerts within a month', () => {
    expect(() => parseEnv(retentionEnv, { RETENTION_ALERT_DAYS: '29' })).toThrow(/RETENTION_ALERT_DAYS/);
  });

  it('keeps minute rows by default for the week that one minute series can span, and no longer', () => {
    const widestMinuteSeriesDays = (MAX_POINTS_PER_GROUP * INTERVAL_MS.minute) / DAY;
    expect(DEFAULT_RETENTION.minuteRollupDays).toBe(Math.ceil(widestMinuteSeriesDays));
  });

  it('refuses to forget event ids while ingest still accepts their events', () => {
    // Ingest takes events up to 30 days old: an id forgotten sooner lets a resent event count twice.
    expect(() => parseEnv(retentionEnv, { RETENTION_IDEMPOTENCY_KEY_DAYS: '30' })).toThrow(ConfigError);
    expect(() => parseEnv(retentionEnv, { RETENTION_IDEMPOTENCY_KEY_DAYS: '30' })).toThrow(/RETENTION_IDEMPOTENCY_KEY_DAYS/);
    expect(() => parseEnv(retentionEnv, { RETENTION_MINUTE_ROLLUP_DAYS: 'two' })).toThrow(/RETENTION_MINUTE_ROLLUP_DAYS/);
  });

  it('refuses an audit trail kept less than a year', () => {
    expect(() => parseEnv(retentionEnv, { RETENTION_AUDIT_DAYS: '364' })).toThrow(/RETENTION_AUDIT_DAYS/);
  });

  it('purges with the cutoffs of the time the clock gives, and logs what went', async () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const asked: PurgeCutoffs[] = [];
    const rollups = { purge: async (cutoffs: PurgeCutoffs) => (asked.push(cutoffs), { idempotencyKeys: 5, minuteRows: 7, hourRows: 2 }) };
    const lines: string[] = [];
    const auditCutoffs: Date[] = [];
    const audit = { purgeBefore: async (cutoff: Date) => (auditCutoffs.push(cutoff), 4) };
    const reportCutoffs: Date[] = [];
    const deleted: string[] = [];
    const reports = {
      index: { purgeBefore: async (cutoff: Date) => (reportCutoffs.push(cutoff), ['reports/research/a.csv', 'reports/research/b.csv']) },
      objects: { delete: async (key: string) => void deleted.push(key) },
    };
    const minuteCutoffs: Date[] = [];
    const operationalMinutes = { purgeBefore: async (cutoff: Date) => (minuteCutoffs.push(cutoff), 9) };
    const alertCutoffs: Date[] = [];
    const alerts = { purgeResolvedBefore: async (cutoff: Date) => (alertCutoffs.push(cutoff), 6) };
    const conditions = { purgeIdleBefore: async (cutoff: Date) => (alertCutoffs.push(cutoff), 8) };
    const moodCutoffs: Date[] = [];
    const interventions = { purgeBefore: async (cutoff: Date) => (alertCutoffs.push(cutoff), 3), forgetMoodsBefore: async (cutoff: Date) => (moodCutoffs.push(cutoff), 4) };
    const recipients = { purgeBefore: async (cutoff: Date) => (alertCutoffs.push(cutoff), 2) };
    const purge = makePurge({
      rollups: rollups as unknown as RollupStore,
      audit,
      reports,
      operationalMinutes,
      alerts,
      conditions,
      interventions,
      recipients,
      policy: DEFAULT_RETENTION,
      clock: { now: () => now },
      logger: jsonLogger('test', 'info', (line) => lines.push(line)),
    });
    expect(await purge()).toEqual({ idempotencyKeys: 5, minuteRows: 7, hourRows: 2, auditEntries: 4, reports: 2, operationalMinutes: 9, alerts: 6, conditions: 8, interventions: 3, moods: 4, digests: 2 });
    // Resolved alerts, idle conditions, interventions and digests go after their year, all at the same cutoff.
    expect(alertCutoffs).toEqual([0, 1, 2, 3].map(() => new Date(now.getTime() - 365 * 86_400_000)));
    // A last mood is kept a week: only as long as it can be the mood before a recommendation.
    expect(moodCutoffs).toEqual([new Date(now.getTime() - 7 * 86_400_000)]);
    // The ingest minutes go with the hour rows: the operational report reads both for its days.
    expect(minuteCutoffs).toEqual([new Date(purgeCutoffs(DEFAULT_RETENTION, now).hourRollups)]);
    expect(reportCutoffs).toEqual([new Date(now.getTime() - 365 * 86_400_000)]);
    expect(deleted).toEqual(['reports/research/a.csv', 'reports/research/b.csv']);
    expect(asked).toEqual([purgeCutoffs(DEFAULT_RETENTION, now)]);
    expect(auditCutoffs).toEqual([new Date(now.getTime() - 2190 * 86_400_000)]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: 'purged', idempotencyKeys: 5, minuteRows: 7, hourRows: 2, auditEntries: 4 });
  });

  it('compacts the database after it has deleted, where it is given how', async () => {
    const steps: string[] = [];
    const purge = makePurge({
      rollups: { purge: async () => (steps.push('rollups'), { idempotencyKeys: 0, minuteRows: 0, hourRows: 0 }) } as unknown as RollupStore,
      audit: { purgeBefore: async () => (steps.push('audit'), 0) },
      reports: { index: { purgeBefore: async () => (steps.push('reports'), []) } },
      operationalMinutes: { purgeBefore: async () => (steps.push('operational minutes'), 0) },
      alerts: { purgeResolvedBefore: async () => (steps.push('alerts'), 0) },
      conditions: { purgeIdleBefore: async () => (steps.push('conditions'), 0) },
      interventions: { purgeBefore: async () => (steps.push('interventions'), 0), forgetMoodsBefore: async () => (steps.push('moods'), 0) },
      recipients: { purgeBefore: async () => (steps.push('digests'), 0) },
      policy: DEFAULT_RETENTION,
      compact: async () => void steps.push('compact'),
      clock: { now: () => new Date('2026-11-25T12:00:00Z') },
      logger: jsonLogger('test', 'silent'),
    });
    await purge();
    expect(steps).toEqual(['reports', 'rollups', 'audit', 'operational minutes', 'alerts', 'conditions', 'interventions', 'moods', 'digests', 'compact']);
  });
});
