/**
 * The embedded stream's put of 100 ingest-sized records (600 bytes), as POST /v1/events makes
 * it: the SQL stream on PGlite (the stream's first home) against the LMDB stream, both durable on
 * disk in a temporary folder. Prints each adapter's p50 and p95 per put over ROUNDS rounds of PUTS.
 *
 *   npx tsx bench/stream-put.ts      (env: PUTS=200, ROUNDS=3)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbEventStream } from '../functions/adapters/local/lmdb-event-stream';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { SqlEventStream } from '../functions/adapters/pg/sql-stream';
import type { EventStreamWriter, StreamRecordInput } from '../functions/ports';
import { format, sampleLatency } from './support';

const PUTS = Number(process.env.PUTS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const options = { streamName: 'bench', shardCount: 2 };
const put = (): StreamRecordInput[] => Array.from({ length: 100 }, () => ({ partitionKey: randomBytes(32).toString('hex'), data: randomBytes(600) }));

async function measure(name: string, stream: EventStreamWriter): Promise<void> {
  const puts = Array.from({ length: PUTS }, put);
  for (let round = 1; round <= ROUNDS; round += 1) {
    const summary = await sampleLatency(PUTS, async (index) => {
      const results = await stream.putRecords(puts[index]!);
      if (!results.every((result) => result.ok)) throw new Error(`${name}: a put failed`);
    });
    console.log(`${name} round ${round}: ${format(summary)}`);
  }
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'stream-put-'));
  try {
    const db = await embeddedDatabase(join(folder, 'pglite'));
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
    await measure('SQL stream on PGlite', new SqlEventStream(db, options));
    await db.close();
    const lmdb = LmdbEventStream.open(join(folder, 'lmdb'), options);
    await measure('LMDB stream', lmdb);
    await lmdb.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
