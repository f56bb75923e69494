import { Pool, types, type PoolClient } from 'pg';

/**
 * The SQL surface the pg adapters need. Two implementations: a `pg` pool (PostgreSQL, Aurora
 * through RDS Proxy) and PGlite (the embedded mode), so every SQL adapter runs on both.
 */
export interface SqlDatabase {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /**
   * Rows as arrays of their column values in select order: no object per row, which is a fifth of
   * reading a 30-day series of thousands of rows.
   */
  queryArrays<Row extends readonly unknown[]>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type SqlExecutor = Pick<SqlDatabase, 'query' | 'queryArrays' | 'exec'>;

const INT8_OID = 20;
// Counts and sums in this schema stay far below 2^53; numbers are easier to use than strings.
types.setTypeParser(INT8_OID, (value) => Number(value));

/** The statements of a pool (each on a connection it picks) or of one checked-out connection. */
function executorOver(target: Pool | PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await target.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as Row[] };
    },
    async queryArrays<Row extends readonly unknown[]>(sql: string, params?: readonly unknown[]) {
      const result = await target.query({ text: sql, values: params as unknown[] | undefined, rowMode: 'array' });
      return { rows: result.rows as unknown as Row[] };
    },
    async exec(script) {
      await target.query(script);
    },
  };
}

export function postgresDatabase(connectionString: string, options: { max?: number } = {}): SqlDatabase {
  const pool = new Pool({ connectionString, max: options.max ?? 4 });
  return {
    ...executorOver(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const value = await work(executorOver(client));
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
