import type { ResearchValueReader } from '../../use-cases/research-export';
import type { SqlDatabase } from './database';

/** The research dataset's values of one metric in a range, by the 64-bit hash of their user. */
export class SqlResearchValues implements ResearchValueReader {
  constructor(private readonly db: SqlDatabase) {}

  async valuesOf(metric: string, from: Date, to: Date): Promise<{ subjectHash: bigint; value: number }[]> {
    const { rows } = await this.db.queryArrays<[string, number]>(
      'SELECT subject_hash::text, value FROM research_values WHERE metric = $1 AND occurred_at >= $2 AND occurred_at < $3',
      [metric, from.toISOString(), to.toISOString()],
    );
    return rows.map(([subjectHash, value]) => ({ subjectHash: BigInt(subjectHash), value }));
  }

  async holdsAnyone(): Promise<boolean> {
    const { rows } = await this.db.queryArrays<[boolean]>('SELECT EXISTS (SELECT 1 FROM research_values)');
    return rows[0]?.[0] === true;
  }
}
