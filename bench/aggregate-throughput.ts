/**
 * Aggregator throughput, measured at the HANDLER: the demo generator's realistic, time-ordered
 * traffic, pseudonymised into StoredEvents as ingest does and encoded as Kinesis records (base64
 * JSON), goes through makeAggregateHandler in KinesisStreamEvent batches of 500, wired as in
 * production (makeAggregate over SqlRollupStore on real PostgreSQL, an in-memory live store in
 * place of Redis). Decoding, validation, rollups, sketches, the transaction and the live counters
 * are all inside the measured time; generating and encoding the records is not.
 *
 * Each run uses a fresh schema (dropped afterwards). Prints per run the events/s and the Node
 * process's CPU time per event (user + system, less noisy on a shared machine), then the medians.
 * After the measured batches, the roll-up (the scheduled function's step loop) folds all their
 * minutes into hour and day rows; its time is reported apart, as events/s of traffic it folds, and
 * with the handler's as the whole cost per event.
 *
 *   npx tsx bench/aggregate-throughput.ts      (env: DATABASE_URL, EVENTS=200000, RUNS=3)
 *
 * Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/aggregate-throughput.ts
 */
import { randomBytes } from 'node:crypto';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { MemoryLiveStore } from '../functions/adapters/local/memory-live-store';
import { jsonLogger } from '../functions/adapters/log';
import { postgresDatabase } from '../functions/adapters/pg/database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../functions/domain/events/validate';
import { makeAggregateHandler } from '../functions/handlers/aggregate';
import { pseudonymisers } from '../functions/handlers/ingest';
import { makeAggregate } from '../functions/use-cases/aggregate';
import { dropSchema, median, schemaUrl } from './support';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = 500;
const USERS = 5_000;
const DAYS = 29;
const NOW = new Date('2026-11-20T12:00:00Z');
const clock = { now: () => NOW };

/** EVENTS events of the demo generator, as the Kinesis event source mapping delivers them. */
function kinesisBatches(): KinesisStreamEvent[] {
  const pseudonymise = pseudonymisers(new Uint8Array(32).fill(7));
  const batches: KinesisStreamEvent[] = [];
  let records: KinesisStreamRecord[] = [];
  let count = 0;
  for (const incoming of syntheticTraffic({ seed: 42, clock, users: USERS, days: DAYS })) {
    if (count === EVENTS) break;
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
      aggregate: makeAggregate({ rollups, live: new MemoryLiveStore({ clock }), clock, logger }),
      logger,
    });
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let failed = 0;
    for (const batch of batches) failed += (await handler(batch)).batchItemFailures.length;
    const used = process.cpuUsage(cpu);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (failed > 0) throw new Error(`${failed} records failed to decode`);
    const rollUpStarted = process.hrtime.bigint();
    while (!(await rollups.rollUp(NOW.getTime())).done);
    const rollUpSeconds = Number(process.hrtime.bigint() - rollUpStarted) / 1e9;
    return { rate: EVENTS / seconds, cpuPerEvent: (used.user + used.system) / EVENTS, rollUpRate: EVENTS / rollUpSeconds, combinedRate: EVENTS / (seconds + rollUpSeconds) };
  } finally {
    await db.close();
    await dropSchema(schema);
  }
}

async function main(): Promise<void> {
  const batches = kinesisBatches();
  const results: RunResult[] = [];
  const line = (r: RunResult) =>
    `${Math.round(r.rate)} events/s, Node CPU ${r.cpuPerEvent.toFixed(1)} µs/event; roll-up ${Math.round(r.rollUpRate)} events/s; both ${Math.round(r.combinedRate)} events/s`;
  for (let i = 0; i < RUNS; i++) {
    results.push(await run(batches));
    console.log(`run ${i + 1}: ${line(results.at(-1)!)}`);
  }
  const of = (pick: (r: RunResult) => number) => median(results.map(pick));
  const medians = { rate: of((r) => r.rate), cpuPerEvent: of((r) => r.cpuPerEvent), rollUpRate: of((r) => r.rollUpRate), combinedRate: of((r) => r.combinedRate) };
  console.log(`median: ${line(medians)} (${EVENTS} events in ${batches.length} batches of ${BATCH}, ${USERS} users over ${DAYS} days, ${RUNS} runs)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
