import { randomUUID } from 'node:crypto';
import type { Logger } from '../../functions/adapters/log';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAlertStore } from '../../functions/adapters/pg/sql-alert-store';
import { SqlSilenceStore } from '../../functions/adapters/pg/sql-silence-store';
import { SqlCaseloadStore } from '../../functions/adapters/pg/sql-caseload-store';
import { SqlRecipientStore } from '../../functions/adapters/pg/sql-recipient-store';
import { alertTopicOf, severityAttribute } from '../../functions/domain/alerting/message';
import type { AlertMessage, Channel, RuleRef, Transition } from '../../functions/domain/alerting/model';
import type { AlertStore, RecipientStore, SilenceStore } from '../../functions/ports/alerts';
import { StoreUnavailableError } from '../../functions/ports/unavailable';
import type { Deliver } from '../../functions/ports/notifications';
import { AlertResolvedError, InvalidSilenceError, makeAlertManager, type AlertManager } from '../../functions/use-cases/alert-manager';
import { erasureTargets } from '../../functions/use-cases/erase-user';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const t0 = new Date('2026-11-20T10:00:00.000Z');
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const crisis: RuleRef = {
  id: 'crisis-signal',
  severity: 'critical',
  labels: { team: 'clinical' },
  routing: { channels: ['sns', 'email'], groupBy: ['rule'], repeatIntervalSec: 600, escalateAfterSec: 300 },
};
const deterioration: RuleRef = {
  id: 'phq9-rise',
  severity: 'warning',
  labels: {},
  routing: { channels: ['dashboard'], groupBy: ['rule'], repeatIntervalSec: 3600 },
};
const worklist: RuleRef = {
  id: 'phq9-item9',
  severity: 'critical',
  labels: {},
  routing: { channels: ['dashboard', 'digest'], groupBy: ['rule'], repeatIntervalSec: 86_400 },
};
const user = (n: number) => ({ kind: 'user', id: String(n).padStart(64, '0') }) as const;
const fire = (rule: RuleRef, n: number, at = t0): Transition => ({ state: 'firing', rule, subject: user(n), at, summary: `${rule.id} for user ${n}` });
const resolve = (rule: RuleRef, n: number, at = t0): Transition => ({ state: 'resolved', rule, subject: user(n), at, summary: '' });

/**
 * Records every message; `failing` channels answer undelivered, `crash` makes it throw like a
 * sender dying mid-send, and `stall` holds a send until it settles, like a sender that stopped.
 */
function fakeDeliver() {
  const sent: { message: AlertMessage; channels: readonly Channel[] }[] = [];
  const state = { failing: [] as Channel[], crash: false, now: t0, stall: undefined as Promise<void> | undefined };
  const deliver: Deliver = async (message, channels) => {
    if (state.crash) throw new Error('process died');
    await state.stall;
    sent.push({ message, channels });
    return channels.map((channel) =>
      state.failing.includes(channel)
        ? { channel, status: 'undelivered' as const, attempts: 3, at: state.now, error: 'ServiceUnavailable' }
        : { channel, status: 'delivered' as const, attempts: 1, at: state.now },
    );
  };
  return { deliver, sent, state };
}

function harness(dbs: readonly SqlDatabase[], options: { silences?: (db: SqlDatabase) => SilenceStore; alerts?: (db: SqlDatabase) => AlertStore; recipients?: (db: SqlDatabase) => RecipientStore; logger?: Logger } = {}) {
  const fake = fakeDeliver();
  const clock = { now: () => fake.state.now };
  const slept: number[] = [];
  const managers = dbs.map((db) =>
    makeAlertManager({
      alerts: options.alerts?.(db) ?? new SqlAlertStore(db),
      sleep: async (ms) => void slept.push(ms),
      silences: options.silences?.(db) ?? new SqlSilenceStore(db),
      recipients: options.recipients?.(db) ?? new SqlRecipientStore(db),
      deliver: fake.deliver,
      clock,
      newId: randomUUID,
      dashboardUrl: 'https://dash.example',
      logger: options.logger ?? quiet,
    }),
  );
  const advance = (sec: number) => {
    fake.state.now = new Date(t0.getTime() + sec * 1000);
  };
  const kinds = () => fake.sent.map((s) => `${s.message.kind}:${s.message.alerts.map((a) => a.subject.slice(-1)).join(',')}`);
  return { manager: managers[0] as AlertManager, managers, fake, advance, kinds, slept };
}

async function migrated(db: SqlDatabase): Promise<SqlDatabase> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await db.query('TRUNCATE alerts, alert_notifications, silences, clinician_users, alert_recipients, alert_warning_pages, alert_digest_items, alert_digests');
  return db;
}

function lifecycleSuite(open: () => Promise<SqlDatabase>) {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await migrated(await open());
  });

  it('opens one alert for a repeated firing, and notifies it once', async () => {
    const { manager, kinds } = harness([db]);
    await manager.apply([fire(crisis, 1), fire(crisis, 1)]);
    await manager.apply([fire(crisis, 1, new Date(t0.getTime() + 5000))]);
    expect(kinds()).toEqual(['firing:1']);
    expect(await manager.list({})).toEqual([expect.objectContaining({ rule: 'crisis-signal', status: 'firing', subject: `user:${user(1).id}` })]);
  });

  it('notifies a firing record that arrives after the repeat interval as a repeat, without waiting for a tick', async () => {
    const { manager, advance, kinds } = harness([db]);
    await manager.apply([fire(deterioration, 1)]);
    advance(3599);
    await manager.apply([fire(deterioration, 1, new Date(t0.getTime() + 3_599_000))]);
    advance(3600);
    await manager.apply([fire(deterioration, 1, new Date(t0.getTime() + 3_600_000))]);
    expect(kinds()).toEqual(['firing:1', 'repeat:1']);
    expect(await manager.list({})).toEqual([expect.objectContaining({ summary: 'phq9-rise for user 1', updatedAt: new Date(t0.getTime() + 3_600_000).toISOString() })]);
  });

  it("pages each clinician with their own caseload's alerts only, the rest on the on-call route, the dashboard once, and escalates to the secondary on-call", async () => {
    const caseloads = new SqlCaseloadStore(db);
    await caseloads.replace('clinician-a', [`user:${user(1).id}`, `user:${user(2).id}`], t0);
    await caseloads.replace('clinician-b', [`user:${user(2).id}`], t0);
    const everywhere: RuleRef = { ...crisis, routing: { ...crisis.routing, channels: ['sns', 'email', 'dashboard'] } };
    const { manager, fake, advance } = harness([db]);

    await manager.apply([fire(everywhere, 1), fire(everywhere, 2), fire(everywhere, 3)]);

    const sent = fake.sent.map((s) => [s.message.clinician ?? 'on-call', s.channels.join(','), s.message.alerts.map((a) => a.subject.slice(-1)).join(',')]).sort();
    expect(sent).toEqual([
      ['clinician-a', 'sns', '1,2'],
      ['clinician-b', 'sns', '2'],
      ['on-call', 'dashboard', '1,2,3'],
      ['on-call', 'sns,email', '3'],
    ]);
    // Each alert holds one outcome per channel of its rule: the clinicians' topic stands for their SMS and e-mail.
    for (const alert of await manager.list({})) {
      expect(alert.notifications.map((n) => [n.kind, n.channel, n.status]).sort()).toEqual([
        ['firing', 'dashboard', 'delivered'],
        ['firing', 'email', 'delivered'],
        ['firing', 'sns', 'delivered'],
      ]);
    }

    // A send that failed for one of a user's two clinicians is a failure of that alert's page.
    fake.sent.length = 0;
    const failingForB: typeof fake.deliver = async (message, channels) => (message.clinician === 'clinician-b' ? channels.map((channel) => ({ channel, status: 'undelivered' as const, attempts: 4, at: t0, error: 'Throttled' })) : fake.deliver(message, channels));
    const partial = makeAlertManager({ alerts: new SqlAlertStore(db), silences: new SqlSilenceStore(db), recipients: new SqlRecipientStore(db), deliver: failingForB, sleep: async () => undefined, clock: { now: () => t0 }, newId: randomUUID, dashboardUrl: 'https://dash.example', logger: quiet });
    await partial.apply([fire(everywhere, 4)]);
    await caseloads.replace('clinician-b', [`user:${user(2).id}`, `user:${user(5).id}`], t0);
    await partial.apply([fire(everywhere, 5)]);
    const five = (await partial.list({})).find((alert) => alert.subject.endsWith('5'))!;
    expect(five.notifications.map((n) => [n.channel, n.status]).sort()).toEqual([
      ['dashboard', 'delivered'],
      ['email', 'undelivered'],
      ['sns', 'undelivered'],
    ]);

    advance(300);
    fake.sent.length = 0;
    await manager.tick();
    expect(fake.sent.filter((s) => s.message.kind === 'escalation').map((s) => [s.message.clinician, s.channels.join(','), s.message.alerts.length])).toEqual([[undefined, 'sns,email,dashboard', 5]]);
  });

  it('pages on the on-call route when the caseloads cannot be read, and logs it', async () => {
    await new SqlCaseloadStore(db).replace('clinician-a', [`user:${user(1).id}`], t0);
    const errors: string[] = [];
    const unreadable = (store: SqlDatabase) => Object.assign(new SqlAlertStore(store), { cliniciansOf: async () => Promise.reject(new StoreUnavailableError('PostgreSQL', new Error('connection reset'))) });
    const { manager, fake } = harness([db], { alerts: unreadable, logger: { ...quiet, error: (message) => void errors.push(message) } });

    await manager.apply([fire(crisis, 1)]);

    expect(fake.sent.map((s) => [s.message.clinician, s.channels.join(',')])).toEqual([[undefined, 'sns,email']]);
    expect(errors).toEqual(['caseloads could not be read; alerts go to the on-call route']);
  });

  it("puts worklist alerts in each recipient's digest, not on their phone, and sends each digest once at the recipient's time", async () => {
    await new SqlCaseloadStore(db).replace('clinician-a', [`user:${user(1).id}`, `user:${user(2).id}`], t0);
    const { manager, managers, fake, advance } = harness([db, db]);
    await manager.preferences.set('clinician-a', { timeZone: 'Europe/London', digestAt: '17:30', warningPagesPerDay: 10 });

    await manager.apply([fire(worklist, 1), fire(worklist, 2), fire(worklist, 3)]);

    // The dashboard has them at once; nobody is paged.
    expect(fake.sent.map((s) => [s.message.kind, s.channels.join(','), s.message.alerts.length])).toEqual([['firing', 'dashboard', 3]]);
    for (const alert of await manager.list({})) {
      expect(alert.notifications.map((n) => [n.channel, n.status]).sort()).toEqual([
        ['dashboard', 'delivered'],
        ['digest', 'queued'],
      ]);
    }
    fake.sent.length = 0;
    // 10:00Z: before the clinician's 17:30 in London (UTC in November) and after the on-call's default 08:00 UTC, which comes tomorrow.
    await Promise.all(managers.map((m) => m.tick()));
    expect(fake.sent).toEqual([]);

    await manager.acknowledge((await manager.list({})).find((a) => a.subject.endsWith('2'))!.id, 'clinician-a');
    advance(7.5 * 3600);
    await Promise.all(managers.map((m) => m.tick()));
    // One digest however many ticks find it due, of what is still firing and unacknowledged, e-mail only.
    expect(fake.sent.map((s) => [s.message.kind, s.message.clinician, s.channels.join(','), s.message.alerts.map((a) => a.subject.slice(-1)).join(',')])).toEqual([['digest', 'clinician-a', 'sns', '1']]);
    expect(fake.sent[0]!.message.dashboardUrl).toBe('https://dash.example/alerts');
    expect(alertTopicOf(fake.sent[0]!.message)).toBe('clinician');
    expect(severityAttribute(fake.sent[0]!.message)).toBe('digest');

    fake.sent.length = 0;
    advance(22 * 3600);
    await manager.tick();
    // The next morning the on-call gets the unassigned user's; the clinician's digest took theirs and sends none today.
    expect(fake.sent.map((s) => [s.message.kind, s.message.clinician ?? 'on-call', s.message.alerts.map((a) => a.subject.slice(-1)).join(',')])).toEqual([['digest', 'on-call', '3']]);
    expect(alertTopicOf(fake.sent[0]!.message)).toBe('warning');
    advance(26 * 3600);
    fake.sent.length = 0;
    await manager.tick();
    expect(fake.sent.filter((s) => s.message.kind === 'digest')).toEqual([]);
  });

  it("defers a warning's page over the recipient's daily cap or in their quiet hours to their digest, and never a critical page", async () => {
    await new SqlCaseloadStore(db).replace('clinician-a', [1, 2, 3, 4, 5].map((n) => `user:${user(n).id}`), t0);
    const { manager, fake, advance } = harness([db]);
    await manager.preferences.set('clinician-a', { timeZone: 'UTC', digestAt: '08:00', quietHours: { from: '22:00', to: '07:00' }, warningPagesPerDay: 2 });
    const paging: RuleRef = { ...deterioration, id: 'ingest-slow', routing: { channels: ['sns', 'dashboard'], groupBy: ['rule', 'subject'], repeatIntervalSec: 7 * 86_400 } };

    await manager.apply([fire(paging, 1), fire(paging, 2), fire(paging, 3)]);

    // The three groups go out side by side: which two take the cap is a race, that only two do is not.
    const paged = fake.sent.filter((s) => s.channels.includes('sns')).map((s) => s.message.alerts[0]!.subject.slice(-1));
    expect(paged).toHaveLength(2);
    const deferred = (await manager.list({})).filter((a) => a.notifications.some((n) => n.status === 'deferred'));
    expect(deferred.map((a) => a.notifications.map((n) => [n.channel, n.status]).sort())).toEqual([
      [
        ['dashboard', 'delivered'],
        ['sns', 'deferred'],
      ],
    ]);
    expect(paged).not.toContain(deferred[0]!.subject.slice(-1));

    // 23:00: quiet hours. The warning waits; a crisis pages.
    advance(13 * 3600);
    fake.sent.length = 0;
    await manager.apply([fire(paging, 4, new Date(t0.getTime() + 13 * 3_600_000)), fire(crisis, 5, new Date(t0.getTime() + 13 * 3_600_000))]);
    expect(fake.sent.filter((s) => s.channels.includes('sns')).map((s) => [s.message.severity, s.message.clinician])).toEqual([['critical', 'clinician-a']]);

    // 08:00 the next day: the digest lists the deferred warnings.
    advance(22 * 3600);
    fake.sent.length = 0;
    await manager.tick();
    const digest = fake.sent.find((s) => s.message.kind === 'digest')!;
    expect(digest.message.alerts.map((a) => a.subject.slice(-1)).sort()).toEqual([deferred[0]!.subject.slice(-1), '4'].sort());
  });

  it('pages a warning when its recipient\'s preferences or page count cannot be read, and logs it', async () => {
    const errors: string[] = [];
    const broken = (store: SqlDatabase) =>
      Object.assign(new SqlRecipientStore(store), {
        preferencesOf: async () => Promise.reject(new StoreUnavailableError('PostgreSQL', new Error('connection reset'))),
        takeWarningPage: async () => Promise.reject(new StoreUnavailableError('PostgreSQL', new Error('connection reset'))),
      });
    const { manager, fake } = harness([db], { recipients: broken, logger: { ...quiet, error: (message) => void errors.push(message) } });
    const paging: RuleRef = { ...deterioration, routing: { channels: ['sns'], groupBy: ['rule'], repeatIntervalSec: 3600 } };

    await manager.apply([fire(paging, 1)]);

    expect(fake.sent.map((s) => s.channels.join(','))).toEqual(['sns']);
    expect(errors).toEqual(['recipient preferences could not be read; the defaults apply', 'warning pages could not be counted; the page goes out']);
  });

  it('notifies new alerts of one group in one message, critical groups before warnings', async () => {
    const { manager, fake } = harness([db]);
    await manager.apply([fire(deterioration, 3), fire(crisis, 1), fire(crisis, 2)]);
    expect(fake.sent.map((s) => [s.message.kind, s.message.severity, s.message.alerts.length, s.channels])).toEqual([
      ['firing', 'critical', 2, ['sns', 'email']],
      ['firing', 'warning', 1, ['dashboard']],
    ]);
    const [first] = await manager.list({ severity: 'critical', limit: 1 });
    expect(fake.sent[0]?.message.dashboardUrl).toMatch(/^https:\/\/dash\.example\/alerts\/[0-9a-f-]{36}$/);
    expect(fake.sent[0]?.message.alerts.map((a) => a.id)).toContain(first?.id);
  });

  it('repeats a firing alert only after the repeat interval, once per interval', async () => {
    const { manager, advance, kinds } = harness([db]);
    await manager.apply([fire(deterioration, 1)]);
    advance(3599);
    await manager.tick();
    expect(kinds()).toEqual(['firing:1']);
    advance(3600);
    await manager.tick();
    await manager.tick();
    expect(kinds()).toEqual(['firing:1', 'repeat:1']);
    advance(7200);
    await manager.tick();
    expect(kinds()).toEqual(['firing:1', 'repeat:1', 'repeat:1']);
  });

  it('escalates an unacknowledged critical alert once, after the set time', async () => {
    const { manager, advance, kinds } = harness([db]);
    await manager.apply([fire(crisis, 1)]);
    advance(299);
    await manager.tick();
    advance(300);
    await manager.tick();
    advance(301);
    await manager.tick();
    expect(kinds()).toEqual(['firing:1', 'escalation:1']);
    expect((await manager.list({}))[0]?.escalatedAt).toBe(new Date(t0.getTime() + 300_000).toISOString());
  });

  it('stops repeats and escalation once acknowledged, and refuses to acknowledge a resolved alert', async () => {
    const { manager, advance, kinds } = harness([db]);
    await manager.apply([fire(crisis, 1)]);
    const [alert] = await manager.list({});
    advance(10);
    expect(await manager.acknowledge(alert?.id ?? '', 'clinician-7')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'clinician-7' });
    advance(100_000);
    await manager.tick();
    expect(kinds()).toEqual(['firing:1']);
    await manager.apply([resolve(crisis, 1)]);
    expect(kinds()).toEqual(['firing:1', 'resolved:1']);
    await expect(manager.acknowledge(alert?.id ?? '', 'clinician-7')).rejects.toBeInstanceOf(AlertResolvedError);
    expect(await manager.acknowledge(randomUUID(), 'clinician-7')).toBeUndefined();
  });

  it('sends a resolved notification for a notified alert, once', async () => {
    const { manager, kinds } = harness([db]);
    await manager.apply([fire(crisis, 1)]);
    await manager.apply([resolve(crisis, 1, new Date(t0.getTime() + 60_000)), resolve(crisis, 1)]);
    await manager.apply([resolve(crisis, 2)]);
    expect(kinds()).toEqual(['firing:1', 'resolved:1']);
    expect(await manager.list({})).toEqual([expect.objectContaining({ status: 'resolved', resolvedAt: new Date(t0.getTime() + 60_000).toISOString() })]);
  });

  it('stores a silenced alert with its notification marked silenced, sends nothing, and sends again once the silence is expired', async () => {
    const { manager, advance, kinds } = harness([db]);
    const silence = await manager.silences.create(
      { matchers: [{ name: 'rule', value: 'crisis-.*', isRegex: true }], endsAt: new Date(t0.getTime() + 86_400_000).toISOString(), comment: 'drill' },
      'admin-1',
    );
    await manager.apply([fire(crisis, 1)]);
    expect(kinds()).toEqual([]);
    const [alert] = await manager.list({});
    expect(alert?.notifications).toEqual([
      { kind: 'firing', channel: 'sns', status: 'silenced', attempts: 0, at: t0.toISOString() },
      { kind: 'firing', channel: 'email', status: 'silenced', attempts: 0, at: t0.toISOString() },
    ]);
    expect(await manager.silences.expire(silence.id, 'admin-1')).toBe(true);
    expect(await manager.silences.expire(randomUUID(), 'admin-1')).toBe(false);
    advance(600);
    await manager.tick();
    expect(kinds()).toEqual(['escalation:1', 'repeat:1']);
  });

  it('sends no resolved notification for an alert that was only ever silenced', async () => {
    const { manager, kinds } = harness([db]);
    await manager.silences.create({ matchers: [{ name: 'subject', value: `user:${user(1).id}` }], endsAt: '2026-11-21T00:00:00Z', comment: 'known' }, 'admin-1');
    await manager.apply([fire(crisis, 1)]);
    await manager.apply([resolve(crisis, 1)]);
    expect(kinds()).toEqual([]);
    expect((await manager.list({}))[0]?.status).toBe('resolved');
  });

  it('pages a crisis despite a silence it cannot evaluate, and logs which silence failed', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...quiet, error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields)}`) };
    const { manager, kinds } = harness([db], { logger });
    // A lookahead RE2 refuses, as a silence stored before RE2 was the engine could hold: written past the API's check.
    const id = randomUUID();
    await new SqlSilenceStore(db).add({ id, matchers: [{ name: 'rule', value: '(?=crisis).*', isRegex: true }], startsAt: t0, endsAt: new Date(t0.getTime() + 3_600_000), comment: 'legacy', createdBy: 'admin-1', createdAt: t0 });

    await manager.apply([fire(crisis, 1)]);

    expect(kinds()).toEqual(['firing:1']);
    expect(errors).toEqual([expect.stringContaining(`silence could not be evaluated; the alert is notified {"silence":"${id}"`)]);
  });

  it('pages unsilenced when the silences cannot be read', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...quiet, error: (message) => errors.push(message) };
    const unreadable = (inner: SqlDatabase): SilenceStore => {
      const store = new SqlSilenceStore(inner);
      return { add: (s) => store.add(s), list: (now) => store.list(now), expire: (i, a, at) => store.expire(i, a, at), eraseSubject: (s) => store.eraseSubject(s), active: () => Promise.reject(new Error('connection lost')) };
    };
    const { manager, kinds } = harness([db], { silences: unreadable, logger });

    await manager.apply([fire(crisis, 1)]);

    expect(kinds()).toEqual(['firing:1']);
    expect(errors).toEqual(['silences could not be read; alerts are notified unsilenced']);
  });

  it('refuses a silence whose end has passed', async () => {
    const { manager } = harness([db]);
    const input = { matchers: [{ name: 'rule', value: 'x' }], endsAt: '2026-11-19T00:00:00Z', comment: 'late' };
    await expect(manager.silences.create(input, 'admin-1')).rejects.toBeInstanceOf(InvalidSilenceError);
    expect(await manager.silences.list()).toEqual([]);
  });

  it('records a failed delivery as undelivered, visible in the list', async () => {
    const { manager, fake } = harness([db]);
    fake.state.failing = ['email'];
    await manager.apply([fire(crisis, 1)]);
    const [alert] = await manager.list({ status: 'firing' });
    expect(alert?.notifications).toEqual([
      { kind: 'firing', channel: 'sns', status: 'delivered', attempts: 1, at: t0.toISOString() },
      { kind: 'firing', channel: 'email', status: 'undelivered', attempts: 3, at: t0.toISOString(), error: 'ServiceUnavailable' },
    ]);
    expect(await manager.get(alert?.id ?? '')).toEqual(alert);
  });

  it('takes over a notification whose sender died after claiming it and before sending, a minute later', async () => {
    let dying = true;
    const { manager, advance, kinds } = harness([db], {
      alerts: (store) =>
        Object.assign(new SqlAlertStore(store), {
          async begin(...args: Parameters<SqlAlertStore['begin']>) {
            if (dying) throw new Error('process died');
            return SqlAlertStore.prototype.begin.apply(this, args);
          },
        }),
    });
    await manager.apply([fire(deterioration, 1)]).catch(() => undefined);
    dying = false;
    advance(59);
    await manager.tick();
    expect(kinds()).toEqual([]);
    advance(60);
    await manager.tick();
    await manager.tick();
    expect(kinds()).toEqual(['firing:1']);
  });

  it('sends nothing from a sender paused past its lease once its claim is retaken: the page goes out once', async () => {
    // Prepare: the first sender stops just before its send begins (a pause, a slow database),
    // for longer than the claim's lease.
    let resume!: () => void;
    let reachedBegin!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const atBegin = new Promise<void>((resolve) => (reachedBegin = resolve));
    let first = true;
    const { managers, advance, kinds } = harness([db, db], {
      alerts: (store) =>
        Object.assign(new SqlAlertStore(store), {
          async begin(...args: Parameters<SqlAlertStore['begin']>) {
            if (first) {
              first = false;
              reachedBegin();
              await paused;
            }
            return SqlAlertStore.prototype.begin.apply(this, args);
          },
        }),
    });
    const [slow, other] = managers as [AlertManager, AlertManager];
    const applying = slow.apply([fire(crisis, 1)]);
    await atBegin;

    // Act: another sender's tick finds the claim a lease old and takes it over; then the first resumes.
    advance(61);
    await other.tick();
    resume();
    await applying;

    // Assess
    expect(kinds()).toEqual(['firing:1']);
    const notifications = (await other.list({}))[0]?.notifications;
    expect(notifications?.map((n) => `${n.kind}:${n.channel}:${n.status}`)).toEqual(['firing:sns:delivered', 'firing:email:delivered']);
  });

  it('records a page whose sender stalled mid-send as unknown and never sends it twice; the sender\'s own outcome wins when it comes', async () => {
    let resume!: () => void;
    const { managers, fake, advance, kinds } = harness([db, db]);
    const [slow, other] = managers as [AlertManager, AlertManager];
    fake.state.stall = new Promise<void>((resolve) => (resume = resolve));
    const applying = slow.apply([fire(crisis, 1)]);
    await new Promise((resolve) => setTimeout(resolve, 50));

    advance(61);
    await other.tick();
    const whileStalled = (await other.list({}))[0]?.notifications;
    expect(whileStalled?.map((n) => `${n.channel}:${n.status}`)).toEqual(['sns:unknown', 'email:unknown']);
    resume();
    await applying;

    expect(kinds()).toEqual(['firing:1']);
    expect((await other.list({}))[0]?.notifications.map((n) => `${n.channel}:${n.status}`)).toEqual(['sns:delivered', 'email:delivered']);
  });

  it('escalates a critical page whose sender died mid-send, instead of paging it again', async () => {
    const { manager, fake, advance, kinds } = harness([db]);
    fake.state.crash = true;
    await manager.apply([fire(crisis, 1)]);
    fake.state.crash = false;
    advance(61);
    await manager.tick();
    expect(kinds()).toEqual([]);
    expect((await manager.list({}))[0]?.notifications.map((n) => `${n.kind}:${n.channel}:${n.status}`)).toEqual(['firing:sns:unknown', 'firing:email:unknown']);

    advance(crisis.routing.escalateAfterSec! + 1);
    await manager.tick();
    expect(kinds()).toEqual(['escalation:1']);
  });

  it("holds back a user's lesser alerts while the user has an open critical alert, lists them under it, and notifies them again once it is resolved", async () => {
    const { manager, advance, kinds } = harness([db]);
    await manager.apply([fire(crisis, 1)]);
    await manager.apply([fire(deterioration, 1), fire(deterioration, 2)]);

    // User 2 has no critical alert: its warning goes out; user 1's is held back under the crisis.
    expect(kinds()).toEqual(['firing:1', 'firing:2']);
    const alerts = await manager.list({});
    const critical = alerts.find((a) => a.rule === crisis.id)!;
    const held = alerts.find((a) => a.rule === deterioration.id && a.subject.endsWith('1'))!;
    expect(held).toMatchObject({ inhibitedBy: critical.id, notifications: [expect.objectContaining({ kind: 'firing', channel: 'dashboard', status: 'inhibited' })] });
    expect(critical.inhibits).toEqual([held.id]);
    expect(alerts.find((a) => a.rule === deterioration.id && a.subject.endsWith('2'))).not.toHaveProperty('inhibitedBy');

    // Acknowledged, the crisis still holds it back; resolved, the held alert's next repeat goes out.
    await manager.acknowledge(critical.id, 'clinician-1');
    advance(deterioration.routing.repeatIntervalSec);
    await manager.tick();
    expect(kinds()).toEqual(['firing:1', 'firing:2', 'repeat:2']);
    await manager.apply([resolve(crisis, 1, new Date(t0.getTime() + 3_700_000))]);
    advance(2 * deterioration.routing.repeatIntervalSec);
    await manager.tick();
    // The crisis' own resolution, then one repeat of both users' warnings.
    expect(kinds().slice(3).map((line) => line.replace('2,1', '1,2'))).toEqual(['resolved:1', 'repeat:1,2']);
    // What it held back stays listed under it while that alert is open.
    expect((await manager.get(critical.id))?.inhibits).toEqual([held.id]);
  });

  it('sends no resolution of a lesser alert that was only ever held back', async () => {
    const { manager, kinds } = harness([db]);
    await manager.apply([fire(crisis, 3), fire(deterioration, 3)]);
    await manager.apply([resolve(deterioration, 3)]);
    expect(kinds()).toEqual(['firing:3']);
  });

  it('keeps the outcome of a sent page through a database blip, so the page is never taken over and sent again', async () => {
    // Prepare: the store loses its connection twice as the sent page's outcome is written
    let blips = 2;
    const { manager, advance, kinds, slept } = harness([db], {
      alerts: (store) =>
        Object.assign(new SqlAlertStore(store), {
          async record(...args: Parameters<SqlAlertStore['record']>) {
            if (blips > 0) {
              blips -= 1;
              throw new StoreUnavailableError('postgresql', new Error('terminating connection due to administrator command'));
            }
            return SqlAlertStore.prototype.record.apply(this, args);
          },
        }),
    });

    // Act
    await manager.apply([fire(crisis, 1)]);
    advance(120);
    await manager.tick();

    // Assess
    expect(kinds()).toEqual(['firing:1']);
    expect(slept).toEqual([200, 400]);
    expect((await manager.list({}))[0]?.notifications).toEqual([expect.objectContaining({ channel: 'sns', status: 'delivered' }), expect.objectContaining({ channel: 'email', status: 'delivered' })]);
  });

  it('notifies on the next tick an alert whose invocation died before claiming its first notification', async () => {
    const { manager, kinds } = harness([db]);
    const opened = await new SqlAlertStore(db).upsertFiring({
      id: randomUUID(),
      fingerprint: 'fp-orphan',
      rule: crisis.id,
      severity: 'critical',
      subject: `user:${user(5).id}`,
      labels: { rule: crisis.id },
      summary: 'orphan',
      routing: crisis.routing,
      at: t0,
    });
    await manager.tick();
    await manager.tick();
    expect(kinds()).toEqual(['firing:5']);
    expect((await manager.get(opened.id))?.notifications).toHaveLength(2);
  });

  it("erases a subject's alerts and the silences naming it", async () => {
    const { manager } = harness([db]);
    await manager.silences.create({ matchers: [{ name: 'subject', value: `user:${user(1).id}` }], endsAt: '2026-11-21T00:00:00Z', comment: 'known' }, 'admin-1');
    await manager.apply([fire(crisis, 1), fire(crisis, 2)]);
    expect(await manager.eraseSubject(`user:${user(1).id}`)).toBe(2);
    expect((await manager.list({})).map((a) => a.subject)).toEqual([`user:${user(2).id}`]);
    expect(await manager.silences.list()).toEqual([]);
  });

  it("is one of the erasure's targets, erasing by the user's pseudonym", async () => {
    const { manager } = harness([db]);
    await manager.apply([fire(crisis, 1)]);
    const none = { remove: async () => false, eraseSubject: async () => ({ eventIds: 0, researchValues: 0, featureRows: 0, patternAssignments: 0 }), removeFromSet: async () => 0 };
    const noConditions = { eraseSubject: async () => 0 };
    const noFeed = { range: async () => [], removeFromList: async () => 0 };
    const noKeys = { deleteKeyOf: async () => undefined };
    const targets = erasureTargets({ consent: none, keys: noKeys, rollups: none, live: none, records: [], alerts: manager, conditions: noConditions, alertFeed: noFeed, interventions: noConditions });
    const removed = await Promise.all(targets.map(async (target) => [target.what, await target.erase(user(1).id, t0, {})]));
    expect(removed).toContainEqual([expect.stringContaining('alerts about the user'), 1]);
    expect(await manager.list({})).toEqual([]);
  });
}

describe('alert manager on PGlite', () => {
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
  });
  afterAll(async () => {
    await db.close();
  });
  lifecycleSuite(async () => db);
});

describeWithServices(['postgres'], 'alert manager on PostgreSQL', () => {
  const dbs: SqlDatabase[] = [];
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshPostgresUrl();
    drop = fresh.drop;
    // Eight detectors: each its own pool, so their statements race on separate connections.
    for (let i = 0; i < 8; i++) dbs.push(postgresDatabase(fresh.url, { max: 2 }));
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await drop();
  });

  lifecycleSuite(async () => dbs[0] as SqlDatabase);

  it('sends exactly one notification per alert when eight invocations apply the same records at once', async () => {
    await migrated(dbs[0] as SqlDatabase);
    const { managers, advance, fake } = harness(dbs);
    const records = [fire(crisis, 1), fire(crisis, 2), fire(crisis, 1), fire(deterioration, 3), fire(deterioration, 4)];
    await Promise.all(managers.map((m) => m.apply(records)));

    const notified = (kind: AlertMessage['kind']) => fake.sent.filter((s) => s.message.kind === kind).flatMap((s) => s.message.alerts.map((a) => a.subject.slice(-1))).sort();
    expect(notified('firing')).toEqual(['1', '2', '3', '4']);
    const alerts = await managers[0]?.list({});
    expect(alerts).toHaveLength(4);
    // One notification per alert, one outcome per channel of its rule.
    expect(alerts?.map((a) => [a.subject.slice(-1), a.notifications.length]).sort()).toEqual([['1', 2], ['2', 2], ['3', 1], ['4', 1]]);

    advance(600);
    await Promise.all(managers.map((m) => m.tick()));
    expect(notified('repeat')).toEqual(['1', '2']);
    expect(notified('escalation')).toEqual(['1', '2']);
    advance(3600);
    await Promise.all(managers.map((m) => m.tick()));
    expect(notified('repeat')).toEqual(['1', '1', '2', '2', '3', '4']);
    await Promise.all(managers.map((m) => m.apply([resolve(crisis, 1), resolve(deterioration, 3)])));
    expect(notified('resolved')).toEqual(['1', '3']);
  });
});
