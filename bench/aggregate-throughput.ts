/**
 * Aggregator throughput, measured at the HANDLER: the demo generator's realistic, time-ordered
 * traffic, pseudonymised into StoredEvents as ingest does and encoded as Kinesis records (base64
 * JSON), goes through makeAggregateHandler in KinesisStreamEvent batches of 2,000 (the mapping's),
 * wired as in production (makeAggregate over SqlRollupStore on real PostgreSQL, an in-memory live
 * store in place of Redis). Decoding, validation, rollups, sketches, the transaction and the live counters
 * are all inside the measured time; generating and encoding the records is not.
 *
 * A first run warms the process up and is not counted (WARMUP=0 counts it): the process's CPU
 * includes V8's compiler threads, busy through the first 100,000 events (Node CPU 24.0 µs an
 * event in a first run, per 10 batches 32, 22, 28, 20, 17; 15.9-16.9 in the three runs after it),
 * and an aggregate's container serves many batches once warm.
 *
 * Each run uses a fresh schema (dropped afterwards). Prints per run the events/s and the CPU time
 * per event of the Node process and of its PostgreSQL backend (user + system, from /proc when
 * PostgreSQL runs on this machine): their sum is the work of one event on one core, and is less
 * noisy than the wall clock on a shared machine. Then the medians.
 * After the measured batches, the roll-up (the scheduled function's step loop) folds all their
 * minutes into hour and day rows; its time is reported apart, as events/s of traffic it folds, and
 * with the handler's as the whole cost per event.
 *
 * Two shapes of the same traffic (SHAPE=history,live by default):
 * - history: as generated, 29 days of it, so the 200,000 events come about 19 to a minute (a
 *   backfill, such as the demo or a history import): nearly every minute row a batch writes is new;
 * - live: the same events re-timed to arrive at 20,000 a second, the target rate: a batch of 2,000
 *   spans 100 ms, so it adds to minute rows the batches before it wrote.
 *
 *   npx tsx bench/aggregate-throughput.ts      (env: DATABASE_URL, EVENTS=200000, RUNS=3, WARMUP=1, SHAPE, BATCH)
 *
 * Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/aggregate-throughput.ts
 */
import { randomBytes } from 'node:crypto';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { emfMetrics } from '../functions/adapters/aws/emf-metrics';
import { MemoryLiveStore } from '../functions/adapters/local/memory-live-store';
import { jsonLogger } from '../functions/adapters/log';
import { postgresDatabase } from '../functions/adapters/pg/database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../functions/domain/events/validate';
import { makeAggregateHandler } from '../functions/handlers/aggregate';
import { pseudonymisers } from '../functions/handlers/ingest';
import { AGGREGATE_BATCH_SIZE, makeAggregate } from '../functions/use-cases/aggregate';
import { METRICS_NAMESPACE } from '../functions/ports/anomalies';
import { dropSchema, median, processCpuMicros, schemaUrl } from './support';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 1);
const BATCH = Number(process.env.BATCH ?? AGGREGATE_BATCH_SIZE);
const USERS = 5_000;
const DAYS = 29;
const NOW = new Date('2026-11-20T12:00:00Z');
const clock = { now: () => NOW };
const LIVE_RATE = 20_000;
const SHAPES = (process.env.SHAPE ?? 'history,live').split(',') as ('history' | 'live')[];

/** EVENTS events of the demo generator, as the Kinesis event source mapping delivers them. */
function kinesisBatches(shape: 'history' | 'live'): KinesisStreamEvent[] {
  const liveStart = NOW.getTime() - (EVENTS / LIVE_RATE) * 1000;
  const pseudonymise = pseudonymisers(new Uint8Array(32).fill(7));
  const batches: KinesisStreamEvent[] = [];
  let records: KinesisStreamRecord[] = [];
  let count = 0;
  for (const generated of syntheticTraffic({ seed: 42, clock, users: USERS, days: DAYS })) {
    if (count === EVENTS) break;
    const incoming = shape === 'live' ? { ...generated, occurredAt: new Date(liveStart + (count * 1000) / LIVE_RATE).toISOString() } : generated;
    const stored = toStoredEvent(incoming, pseudonymise, new Date(Date.parse(incoming.occurredAt) + 1_500));
    const sequenceNumber = String(49_000_000_000_000 + count++);
    records.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: stored.subject,
        sequenceNumber,
        data: Buffer.from(JSON.stringify(stored)).toString('base64'),
        approximateArrivalTimestamp: Date.parse(stored.receivedAt) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/aggregate',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/events',
    });
    if (records.length === BATCH) {
      batches.push({ Records: records });
      records = [];
    }
  }
  if (records.length > 0) batches.push({ Records: records });
  if (count < EVENTS) throw new Error(`the generator gave ${count} events, fewer than EVENTS=${EVENTS}`);
  return batches;
}

interface RunResult {
  rate: number;
  /** Node CPU plus PostgreSQL backend CPU per event, µs (NaN when PostgreSQL is not local). */
  bothCpuPerEvent: number;
  /** Events/s of traffic whose minutes the roll-up folds, and of the handler and the roll-up together. */
  rollUpRate: number;
  combinedRate: number;
  /** CPU time (user + system) of this Node process per event, microseconds. */
  cpuPerEvent: number;
}

async function run(batches: readonly KinesisStreamEvent[]): Promise<RunResult> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db = postgresDatabase(await schemaUrl(schema), { max: 1 });
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    const logger = jsonLogger('bench', 'silent');
    const rollups = new SqlRollupStore(db);
    const handler = makeAggregateHandler({
      // The usage metrics' lines formatted as the function formats them, and written nowhere.
      aggregate: makeAggregate({ rollups, live: new MemoryLiveStore({ clock }), metrics: emfMetrics(METRICS_NAMESPACE, 'aggregate', () => undefined), clock, logger }),
      logger,
      // The batches are plain JSON, so no key is asked for: this measures the aggregation alone.
      keys: { keysById: async () => new Map() },
      metrics: { count: () => undefined },
    });
    const backend = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const backendCpu = processCpuMicros(backend);
    let failed = 0;
    for (const batch of batches) failed += (await handler(batch)).batchItemFailures.length;
    const used = process.cpuUsage(cpu);
    const backendUsed = processCpuMicros(backend) - backendCpu;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (failed > 0) throw new Error(`${failed} records failed to decode`);
    const rollUpStarted = process.hrtime.bigint();
    while (!(await rollups.rollUp(NOW.getTime())).done);
    const rollUpSeconds = Number(process.hrtime.bigint() - rollUpStarted) / 1e9;
    const cpuPerEvent = (used.user + used.system) / EVENTS;
    return { rate: EVENTS / seconds, cpuPerEvent, bothCpuPerEvent: cpuPerEvent + backendUsed / EVENTS, rollUpRate: EVENTS / rollUpSeconds, combinedRate: EVENTS / (seconds + rollUpSeconds) };
  } finally {
    await db.close();
    await dropSchema(schema);
  }
}

async function main(): Promise<void> {
  for (const shape of SHAPES) await measure(shape);
}

async function measure(shape: 'history' | 'live'): Promise<void> {
  const batches = kinesisBatches(shape);
  const results: RunResult[] = [];
  const line = (r: RunResult) =>
    `${Math.round(r.rate)} events/s, CPU ${r.bothCpuPerEvent.toFixed(1)} µs/event (Node ${r.cpuPerEvent.toFixed(1)}), ${Math.round(1e6 / r.bothCpuPerEvent)} events per CPU-second; roll-up ${Math.round(r.rollUpRate)} events/s; both ${Math.round(r.combinedRate)} events/s`;
  for (let i = 0; i < WARMUP; i++) console.log(`${shape} warm-up run ${i + 1} (not counted): ${line(await run(batches))}`);
  for (let i = 0; i < RUNS; i++) {
    results.push(await run(batches));
    console.log(`${shape} run ${i + 1}: ${line(results.at(-1)!)}`);
  }
  const of = (pick: (r: RunResult) => number) => median(results.map(pick));
  const medians = { rate: of((r) => r.rate), cpuPerEvent: of((r) => r.cpuPerEvent), bothCpuPerEvent: of((r) => r.bothCpuPerEvent), rollUpRate: of((r) => r.rollUpRate), combinedRate: of((r) => r.combinedRate) };
  console.log(`${shape} median: ${line(medians)} (${EVENTS} events in ${batches.length} batches of ${BATCH}, ${USERS} users over ${DAYS} days, ${RUNS} runs after ${WARMUP} to warm up)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
