/**
 * Aggregator throughput: realistic StoredEvents folded into the rollups on real PostgreSQL in
 * batches of 500, as the Kinesis event source mapping delivers them. Prints the median events/s
 * and the Node process's CPU time per event (user + system, less noisy on a shared machine)
 * over several runs. `npx tsx bench/aggregate-throughput.ts` (DATABASE_URL, EVENTS, RUNS).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { postgresDatabase } from '../functions/adapters/pg/database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { CHOICE_TYPES, INTERVENTION_TYPES, PLATFORMS, type StoredEvent } from '../functions/domain/events/schema';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.EVENTS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = 500;
const USERS = 2_000;
const SCENARIOS = Array.from({ length: 12 }, (_, i) => `scenario-${i}`);

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const users = Array.from({ length: USERS }, () => ({ subject: randomBytes(32).toString('hex'), platform: pick(PLATFORMS) }));

function attributesOf(type: StoredEvent['type']): object {
  switch (type) {
    case 'session.started':
      return { scenarioId: pick(SCENARIOS) };
    case 'session.ended':
      return { scenarioId: pick(SCENARIOS), durationSec: Math.round(60 + Math.random() * 1_800), completed: Math.random() < 0.7 };
    case 'choice.made':
      return {
        scenarioId: pick(SCENARIOS),
        sceneId: 'scene-1',
        choiceId: 'choice-1',
        choiceType: pick(CHOICE_TYPES),
        therapeuticValue: Math.random(),
        responseTimeMs: Math.round(Math.exp(7.5 + Math.random() * 2)),
      };
    case 'intervention.delivered':
      return { interventionType: pick(INTERVENTION_TYPES), urgency: pick(['standard', 'elevated', 'crisis']), completion: pick(['completed', 'skipped', 'abandoned']) };
    case 'mood.reported':
      return { valence: Math.random() * 2 - 1, arousal: Math.random() };
    case 'assessment.completed':
      return { instrument: 'PHQ-9', score: Math.floor(Math.random() * 28) };
    case 'progress.milestone':
      return { goalId: 'goal-1', milestone: 'skill_acquired' };
    case 'crisis.signal':
      return { severity: 'low', source: 'classifier' };
    case 'engagement.heartbeat':
      return { screen: 'home', activeSec: 30 };
  }
}

// A mix where choices and heartbeats dominate, as in the app; every type appears.
const MIX: StoredEvent['type'][] = [
  ...Array<StoredEvent['type']>(8).fill('choice.made'),
  ...Array<StoredEvent['type']>(4).fill('engagement.heartbeat'),
  'session.started',
  'session.ended',
  'intervention.delivered',
  'mood.reported',
  'assessment.completed',
  'progress.milestone',
  'crisis.signal',
];

/** Batches whose events fall within a few minutes, time moving on ~2 minutes per batch. */
function generate(count: number, start: number): StoredEvent[][] {
  const batches: StoredEvent[][] = [];
  for (let b = 0; b * BATCH < count; b++) {
    const batchStart = start + b * 120_000;
    batches.push(
      Array.from({ length: Math.min(BATCH, count - b * BATCH) }, () => {
        const user = pick(users);
        const type = pick(MIX);
        const at = new Date(batchStart + Math.floor(Math.random() * 180_000)).toISOString();
        return {
          v: 1,
          eventId: randomUUID(),
          type,
          occurredAt: at,
          receivedAt: at,
          subject: user.subject,
          session: randomBytes(32).toString('hex'),
          attributes: attributesOf(type),
          context: { platform: user.platform, appVersion: '4.2.1' },
        } as StoredEvent;
      }),
    );
  }
  return batches;
}

async function withSchema<T>(work: (url: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const url = new URL(DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return await work(url.toString());
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

interface RunResult {
  rate: number;
  /** CPU time (user + system) of this Node process per event, microseconds. */
  cpuPerEvent: number;
}

async function run(): Promise<RunResult> {
  return withSchema(async (url) => {
    const db = postgresDatabase(url, { max: 1 });
    try {
      await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR).filter((m) => m.name === '001-rollups.sql'));
      const store = new SqlRollupStore(db);
      const batches = generate(EVENTS, Date.parse('2026-11-20T06:00:00Z'));
      const started = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      for (const batch of batches) await store.applyEvents(batch);
      const used = process.cpuUsage(cpu);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { rate: EVENTS / seconds, cpuPerEvent: (used.user + used.system) / EVENTS };
    } finally {
      await db.close();
    }
  });
}

async function main(): Promise<void> {
  const rates: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { rate, cpuPerEvent } = await run();
    rates.push(rate);
    cpus.push(cpuPerEvent);
    console.log(`run ${i + 1}: ${Math.round(rate)} events/s, Node CPU ${cpuPerEvent.toFixed(1)} µs/event`);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    `median: ${Math.round(median(rates))} events/s, Node CPU ${median(cpus).toFixed(1)} µs/event ` +
      `(${EVENTS} events, batches of ${BATCH}, ${USERS} users, ${RUNS} runs)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
