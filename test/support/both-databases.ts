/* eslint-disable jest/no-export, jest/valid-title, jest/expect-expect -- a helper the contract suites call: their titles come in as arguments, and the contract they pass holds the assertions */
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { describeWithServices, freshPostgresUrl } from './services';

/**
 * One contract, one test on each database the product runs on: an in-memory PGlite, and a fresh
 * PostgreSQL database when one is reachable (skipped, and said so, when not).
 */
export function contractOnBothDatabases(subject: string, behaviour: string, contract: (db: SqlDatabase) => Promise<void>, timeoutMs?: number): void {
  describe(subject, () => {
    it(`${behaviour} (PGlite)`, async () => {
      const db = await embeddedDatabase(undefined);
      try {
        await contract(db);
      } finally {
        await db.close();
      }
    }, timeoutMs);
  });

  describeWithServices(['postgres'], `${subject} on PostgreSQL`, () => {
    it(behaviour, async () => {
      const fresh = await freshPostgresUrl();
      const db = postgresDatabase(fresh.url);
      try {
        await contract(db);
      } finally {
        await db.close();
        await fresh.drop();
      }
    }, timeoutMs);
  });
}
