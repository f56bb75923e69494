import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { dynamoDbClient, s3Client } from '../../functions/adapters/aws/clients';
import { DynamoConsentRegistry, ensureConsentTable } from '../../functions/adapters/aws/dynamo-consent-registry';
import { ensureBucket } from '../../functions/adapters/aws/s3-object-store';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { jsonLogger } from '../../functions/adapters/log';
import { makeImportHandler, type ObjectCreatedEvent } from '../../functions/handlers/import';
import { pseudonymisers } from '../../functions/handlers/ingest';
import { makeImportHistory } from '../../functions/use-cases/import-history';
import { queryMetric } from '../../functions/use-cases/query-metric';
import { makeEvent } from '../support/events';
import { describeWithServices, freshPostgresUrl, urls } from '../support/services';

const DAY = 86_400_000;
const OLD_DAY = Math.floor((Date.now() - 60 * DAY) / DAY) * DAY;
const USERS = ['import-a', 'import-b', 'import-c'];
const LINES = [
  ...USERS.flatMap((userId) => [0, 1].map((i) => JSON.stringify(makeEvent({ eventId: randomUUID(), userId, occurredAt: new Date(OLD_DAY + (i + 1) * 3_600_000).toISOString() }, 'session.started')))),
  'not json',
];

const objectCreated = (bucket: string, key: string): ObjectCreatedEvent =>
  ({ 'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: bucket }, object: { key } } }) as ObjectCreatedEvent;

describeWithServices(['postgres', 'moto'], 'the import function: a file under imports/ in S3 (moto), into PostgreSQL, its summary beside it', () => {
  const bucket = `imports-${randomBytes(4).toString('hex')}`;
  const s3 = s3Client({ endpoint: urls.moto });
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let handle: ReturnType<typeof makeImportHandler>;
  const resultOf = async (key: string) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}.result.json` }))).Body!.transformToString());
  // Read as the API reads it: the history's day, ungrouped.
  const storedSessions = async () => {
    const answer = await queryMetric(new SqlRollupStore(db), { metric: 'sessions', interval: 'day', from: new Date(OLD_DAY).toISOString(), to: new Date(OLD_DAY + DAY).toISOString() }, { k: 2 });
    return answer.series.flatMap((series) => series.points.map((point) => point.count));
  };

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    drop = postgres.drop;
    db = postgresDatabase(postgres.url);
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    await ensureBucket(s3, bucket);
    const table = `consent-${randomBytes(4).toString('hex')}`;
    const dynamo = dynamoDbClient({ endpoint: urls.moto });
    await ensureConsentTable(dynamo, table);
    const consent = new DynamoConsentRegistry(dynamo, table);
    const pseudonymise = pseudonymisers(Buffer.alloc(32, 7));
    for (const userId of USERS) await consent.put({ subject: pseudonymise.user(userId), scopes: { analytics: true, research: false, safety_monitoring: false }, updatedAt: new Date().toISOString() });
    const rollups = new SqlRollupStore(db);
    handle = makeImportHandler({
      importHistory: makeImportHistory({ consent, pseudonymise, clock: { now: () => new Date() }, rollups }),
      s3,
      logger: jsonLogger('import', 'silent'),
    });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('imports a gzipped file and writes its summary beside it; the same file again changes nothing', async () => {
    const key = 'imports/2026-10/history.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(LINES.join('\n')) }));

    await handle(objectCreated(bucket, key));
    const first = await resultOf(key);
    await handle(objectCreated(bucket, key));
    const second = await resultOf(key);

    expect(first).toMatchObject({ status: 'done', file: key, read: 7, accepted: 6, duplicates: 0, rejected: { malformed_line: 1 }, errors: [{ line: 7, code: 'malformed_line' }] });
    expect(second).toMatchObject({ status: 'done', read: 7, accepted: 0, duplicates: 6 });
    expect(await storedSessions()).toEqual([6]);
  });

  it('writes why it stopped for a cut-off file, and leaves anything not a JSON Lines file under imports/ alone', async () => {
    const key = 'imports/cut.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(LINES.join('\n').repeat(50)).subarray(0, 100) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'imports/notes.txt', Body: LINES.join('\n') }));

    await handle(objectCreated(bucket, key));
    await handle(objectCreated(bucket, 'imports/notes.txt'));
    await handle(objectCreated(bucket, 'imports/gone.jsonl'));

    expect(await resultOf(key)).toMatchObject({ status: 'failed', error: { code: 'unreadable_file' } });
    await expect(resultOf('imports/notes.txt')).rejects.toThrow();
    expect(await resultOf('imports/gone.jsonl')).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    expect(await storedSessions()).toEqual([6]);
  });
});
