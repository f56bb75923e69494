import type { DeadLetter, DeadLetterQueue } from '../../ports';
import type { SqlDatabase } from './database';

/** The embedded mode's on-failure destination: a table instead of an SQS queue. */
export class SqlDeadLetterQueue implements DeadLetterQueue {
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
}
