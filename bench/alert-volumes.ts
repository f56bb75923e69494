/**
 * Alert volumes a clinician lives with: the demo's three weeks of traffic (the generator of
 * `npm run demo`: 2,000 users, 21 days, seed 42, every user consenting to safety monitoring)
 * through detect and the monitor's tick, on a simulated clock, with 1,800 of the users in the
 * caseloads of 20 clinicians (90 each) and 200 in none (the on-call route's).
 *
 * Twice: "before", the alerting of the commit before the two tiers (PHQ-9 item 9 paged and
 * escalated like a crisis, a PHQ-9 rise and an at-risk user's absence paged as warnings, stored
 * as rules over the defaults; no cap on warning pages), and "after", the shipped defaults, with
 * half of the clinicians choosing quiet hours 22:00-07:00 in Europe/London and a digest at 08:00.
 *
 * The people answer as attentive ones would, the same in both runs: a paged alert is
 * acknowledged at the first tick at least 10 minutes after it opens, before that tick's monitor
 * could escalate it; an alert on the worklist alone a day after. The monitor ticks every 15
 * simulated minutes (every minute in production: 21 days of that re-apply every holding
 * condition 30,000 times, too slow for a bench); detect takes the traffic in batches of up to
 * 500 events between ticks.
 *
 * Prints per run: pages (SMS or e-mail sent at once; a message naming two rules counts under
 * each in the breakdown), worklist entries (alerts put in a digest) and digests, per clinician per day (mean over the 20 and the 21 days, and the busiest
 * clinician's busiest day) and for the on-call route per day.
 *
 *   npx tsx bench/alert-volumes.ts          (env: DATABASE_URL; a schema of its own, dropped after)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { postgresDatabase } from '../functions/adapters/pg/database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../functions/adapters/pg/migrator';
import { SqlAlertRuleStore } from '../functions/adapters/pg/sql-alert-rules';
import { SqlAlertStore } from '../functions/adapters/pg/sql-alert-store';
import { SqlCaseloadStore } from '../functions/adapters/pg/sql-caseload-store';
import { SqlRecipientStore } from '../functions/adapters/pg/sql-recipient-store';
import { SqlSilenceStore } from '../functions/adapters/pg/sql-silence-store';
import type { SqlDatabase } from '../functions/adapters/pg/database';
import { jsonLogger } from '../functions/adapters/log';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import type { StoredEvent } from '../functions/domain/events/schema';
import { toStoredEvent } from '../functions/domain/events/validate';
import { ON_CALL } from '../functions/domain/alerting/recipient';
import { DEFAULT_RULES, type AlertRule } from '../functions/domain/alerting/rules';
import type { AlertMessage, Channel, DeliveryOutcome } from '../functions/domain/alerting/model';
import type { RecipientStore } from '../functions/ports/alerts';
import { pseudonymisers } from '../functions/handlers/ingest';
import { ruleEngine } from '../functions/handlers/monitoring-parts';
import { makeAlertManager } from '../functions/use-cases/alert-manager';
import { makeDetect } from '../functions/use-cases/detect';
import { makeMonitor } from '../functions/use-cases/monitor';
import { makeAlertRulesAdmin } from '../functions/use-cases/rule-engine';
import { dropSchema, schemaUrl } from './support';

const USERS = 2_000;
const DAYS = 21;
const SEED = 42;
const CLINICIANS = 20;
const PER_CLINICIAN = 90;
const END = new Date('2026-11-20T12:00:00Z');
const TICK_MS = 15 * 60_000;
const BATCH = 500;
const PAGED_ACK_MS = 10 * 60_000;
const WORKLIST_ACK_MS = 24 * 3_600_000;

interface Volumes {
  pages: Map<string, number>;
  criticalPages: Map<string, number>;
  worklist: Map<string, number>;
  digests: Map<string, number>;
  /** Pages to clinicians by kind (firing, repeat, escalation, resolved) and rule. */
  pagesByKind: Map<string, number>;
}

const dayOf = (at: Date) => at.toISOString().slice(0, 10);
const bump = (counts: Map<string, number>, key: string, by = 1) => counts.set(key, (counts.get(key) ?? 0) + by);

/** The rules of the commit before the two tiers, stored over the defaults. */
function rulesBefore(): AlertRule[] {
  const paged = { channels: ['sns', 'email', 'dashboard'] as Channel[], groupBy: ['rule'], repeatIntervalSec: 3_600, escalateAfterSec: 900 };
  const warned = { channels: ['sns', 'dashboard'] as Channel[], groupBy: ['rule'], repeatIntervalSec: 4 * 3_600 };
  const routingOf: Record<string, AlertRule['routing']> = { 'phq9-item9': paged, 'phq9-rise': warned, 'at-risk-no-session': warned };
  return DEFAULT_RULES.filter((rule) => routingOf[rule.id] !== undefined).map((rule) => ({ ...rule, routing: routingOf[rule.id]! }));
}

async function run(tiers: 'before' | 'after'): Promise<Volumes> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db: SqlDatabase = postgresDatabase(await schemaUrl(schema), { max: 4 });
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    const sim = { now: new Date(END.getTime() - DAYS * 86_400_000) };
    const clock = { now: () => sim.now };
    const logger = jsonLogger('bench', 'silent');
    const pseudonymise = pseudonymisers(new Uint8Array(32).fill(7));
    const volumes: Volumes = { pages: new Map(), criticalPages: new Map(), worklist: new Map(), digests: new Map(), pagesByKind: new Map() };

    const caseloads = new SqlCaseloadStore(db);
    for (let c = 0; c < CLINICIANS; c++) {
      const users = Array.from({ length: PER_CLINICIAN }, (_, i) => `user:${pseudonymise.user(`demo-user-${String(c * PER_CLINICIAN + i + 1).padStart(6, '0')}`)}`);
      await caseloads.replace(`clinician-${c}`, users, sim.now);
    }
    const store = new SqlRecipientStore(db);
    if (tiers === 'before') {
      await makeAlertRulesAdmin({ rules: new SqlAlertRuleStore(db) }).putRules({ rules: rulesBefore() }, 'bench');
      for (const recipient of [...Array.from({ length: CLINICIANS }, (_, c) => `clinician-${c}`), ON_CALL]) {
        await store.setPreferences(recipient, { timeZone: 'UTC', digestAt: '08:00', warningPagesPerDay: 1_000 }, END, sim.now);
      }
    } else {
      for (let c = 0; c < CLINICIANS / 2; c++) {
        await store.setPreferences(`clinician-${c}`, { timeZone: 'Europe/London', digestAt: '08:00', quietHours: { from: '22:00', to: '07:00' }, warningPagesPerDay: 10 }, sim.now, sim.now);
      }
    }
    const recipients: RecipientStore = Object.assign(Object.create(store) as RecipientStore, {
      queueForDigest: async (entries: Parameters<RecipientStore['queueForDigest']>[0], at: Date) => {
        for (const entry of entries) bump(volumes.worklist, `${entry.recipient}|${dayOf(at)}`);
        return store.queueForDigest(entries, at);
      },
    });
    const deliver = async (message: AlertMessage, channels: readonly Channel[]): Promise<DeliveryOutcome[]> => {
      const key = `${message.clinician ?? ON_CALL}|${dayOf(sim.now)}`;
      if (message.kind === 'digest') bump(volumes.digests, key);
      else if (channels.includes('sns') || channels.includes('email')) {
        bump(volumes.pages, key);
        if (message.severity === 'critical') bump(volumes.criticalPages, key);
        for (const rule of new Set(message.alerts.map((alert) => alert.rule))) bump(volumes.pagesByKind, `${message.kind} ${rule}`);
      }
      return channels.map((channel) => ({ channel, status: 'delivered', attempts: 1, at: sim.now }));
    };
    const alerts = makeAlertManager({
      alerts: new SqlAlertStore(db),
      silences: new SqlSilenceStore(db),
      recipients,
      deliver,
      sleep: async () => undefined,
      clock,
      newId: randomUUID,
      dashboardUrl: 'https://dashboard.example',
      logger,
    });
    const rules = ruleEngine(db, clock);
    const detect = makeDetect({ rules, alerts });
    const monitor = makeMonitor({ series: { tick: async () => [] }, rules, alerts });

    const acknowledge = () =>
      db.query(
        `UPDATE alerts SET status = 'acknowledged', acknowledged_by = 'bench', acknowledged_at = $1
         WHERE status = 'firing' AND starts_at <= $1::timestamptz - (CASE WHEN routing->'channels' ? 'sns' THEN $2::int ELSE $3::int END) * interval '1 millisecond'`,
        [sim.now.toISOString(), PAGED_ACK_MS, WORKLIST_ACK_MS],
      );
    let batch: StoredEvent[] = [];
    let nextTick = sim.now.getTime() + TICK_MS;
    const flush = async () => {
      if (batch.length === 0) return;
      sim.now = new Date(Date.parse(batch.at(-1)!.receivedAt));
      await detect(batch);
      batch = [];
    };
    const tickUntil = async (until: number) => {
      while (nextTick <= until) {
        sim.now = new Date(nextTick);
        if (nextTick % 86_400_000 === 0) process.stderr.write(`${tiers} ${dayOf(sim.now)}\n`);
        await acknowledge();
        await monitor();
        nextTick += TICK_MS;
      }
    };
    for (const generated of syntheticTraffic({ seed: SEED, clock: { now: () => END }, users: USERS, days: DAYS })) {
      const occurred = Date.parse(generated.occurredAt);
      if (occurred >= nextTick) {
        await flush();
        await tickUntil(occurred);
      }
      batch.push({ ...toStoredEvent(generated, pseudonymise, new Date(occurred + 1_500)), safety: true });
      if (batch.length === BATCH) await flush();
    }
    await flush();
    await tickUntil(END.getTime());
    return volumes;
  } finally {
    await db.close();
    await dropSchema(schema);
  }
}

function report(tiers: string, volumes: Volumes): void {
  const perClinicianDay = (counts: Map<string, number>) => {
    let total = 0;
    let busiest = 0;
    let onCall = 0;
    for (const [key, count] of counts) {
      if (key.startsWith(`${ON_CALL}|`)) onCall += count;
      else {
        total += count;
        busiest = Math.max(busiest, count);
      }
    }
    return `${(total / CLINICIANS / DAYS).toFixed(2)} per clinician per day (busiest clinician-day ${busiest}; ${total} in all), on-call ${(onCall / DAYS).toFixed(2)} per day (${onCall} in all)`;
  };
  console.log(`${tiers}: pages ${perClinicianDay(volumes.pages)}`);
  console.log(`${tiers}:   of which critical ${perClinicianDay(volumes.criticalPages)}`);
  console.log(`${tiers}: worklist entries ${perClinicianDay(volumes.worklist)}`);
  console.log(`${tiers}: digests ${perClinicianDay(volumes.digests)}`);
  console.log(`${tiers}: pages by kind and rule: ${[...volumes.pagesByKind].sort().map(([key, count]) => `${key} ${count}`).join(', ')}`);
}

async function main(): Promise<void> {
  for (const tiers of ['before', 'after'] as const) {
    const started = Date.now();
    const volumes = await run(tiers);
    report(tiers, volumes);
    console.log(`${tiers}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
