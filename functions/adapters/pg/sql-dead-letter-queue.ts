import type { DeadLetter, DeadLetterHeading, DeadLetterQueue, SubjectRecords } from '../../ports';

// The subject's records leave each letter that holds them ($1 partition key); a letter left with
// no record goes. Answers the records removed.
const ERASE_RECORDS = `
  WITH touched AS (
    SELECT id,
      (SELECT coalesce(jsonb_agg(r ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(letter -> 'records') WITH ORDINALITY AS e(r, n) WHERE r ->> 'partitionKey' <> $1) AS kept,
      (SELECT count(*) FROM jsonb_array_elements(letter -> 'records') r WHERE r ->> 'partitionKey' = $1) AS removed
    FROM dead_letters WHERE letter -> 'records' @> jsonb_build_array(jsonb_build_object('partitionKey', $1::text))
  ),
  emptied AS (DELETE FROM dead_letters d USING touched t WHERE d.id = t.id AND jsonb_array_length(t.kept) = 0 RETURNING 1),
  trimmed AS (UPDATE dead_letters d SET letter = jsonb_set(d.letter, '{records}', t.kept) FROM touched t WHERE d.id = t.id AND jsonb_array_length(t.kept) > 0 RETURNING 1)
  SELECT coalesce(sum(removed), 0)::int4 AS n FROM touched, (SELECT count(*) FROM emptied) e, (SELECT count(*) FROM trimmed) t`;
import type { SqlDatabase } from './database';

/** The embedded mode's on-failure destination: a table instead of an SQS queue. */
export class SqlDeadLetterQueue implements DeadLetterQueue, SubjectRecords {
  constructor(private readonly db: SqlDatabase) {}

  async send(letter: DeadLetter): Promise<void> {
    await this.db.query('INSERT INTO dead_letters (letter) VALUES ($1::jsonb)', [JSON.stringify(letter)]);
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const { rows } = await this.db.query<{ letter: DeadLetter }>('SELECT letter FROM dead_letters ORDER BY id LIMIT $1', [
      limit,
    ]);
    return rows.map((row) => row.letter);
  }

  async headings(limit: number): Promise<DeadLetterHeading[]> {
    const { rows } = await this.db.query<{ consumer: string; reason: string; attempts: number; records: number; created_at: Date | string }>(
      `SELECT letter ->> 'consumer' AS consumer, letter ->> 'reason' AS reason, (letter ->> 'attempts')::int4 AS attempts,
         jsonb_array_length(letter -> 'records') AS records, created_at
       FROM dead_letters ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ consumer: row.consumer, reason: row.reason, attempts: row.attempts, records: row.records, sentAt: new Date(row.created_at) }));
  }

  async eraseRecordsOf(partitionKey: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(ERASE_RECORDS, [partitionKey]);
    return rows[0]?.n ?? 0;
  }
}
