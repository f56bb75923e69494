import { randomBytes, randomUUID } from 'node:crypto';
import { postgresDatabase } from '../../functions/adapters/pg/database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../../functions/adapters/pg/migrator';
import { prepared, preparedName } from '../../functions/adapters/pg/prepared-statements';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import type { StoredEvent } from '../../functions/domain/events/schema';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const mood = (subject: string, at: string): StoredEvent =>
  ({
    v: 1,
    eventId: randomUUID(),
    type: 'mood.reported',
    occurredAt: at,
    receivedAt: at,
    subject,
    session: randomBytes(32).toString('hex'),
    attributes: { valence: 0.25, arousal: 0.5 },
    context: { platform: 'ios' },
  });

describe('prepared statements', () => {
  it('gives a name to one text only', () => {
    const text = `SELECT ${randomBytes(4).readUInt32BE()} AS n`;
    expect(prepared('test.one-text', text)).toBe(text);
    expect(prepared('test.one-text', text)).toBe(text);
    expect(preparedName(text)).toBe('test.one-text');
    expect(() => prepared('test.one-text', `${text} -- changed`)).toThrow('two statements are prepared as test.one-text');
    expect(preparedName('SELECT 1')).toBeUndefined();
  });
});

describeWithServices(['postgres'], 'the aggregate on PostgreSQL', () => {
  it('prepares its write statements once on its connection and runs them by name on the next batches', async () => {
    const fresh = await freshPostgresUrl();
    const db = postgresDatabase(fresh.url, { max: 1 });
    try {
      await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
      const store = new SqlRollupStore(db);
      const users = Array.from({ length: 3 }, () => randomBytes(32).toString('hex'));
      const namesOnConnection = async () =>
        (await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((row) => row.name);

      const first = await store.applyEvents(users.map((user) => mood(user, '2027-02-01T10:00:05.000Z')));
      expect(first).toMatchObject({ applied: 3, duplicates: 0 });
      const afterFirst = await namesOnConnection();
      expect(afterFirst).toEqual(expect.arrayContaining(['event-ids.append', 'event-ids.read-changed', 'features.read-changed', 'features.write', 'rollups.upsert']));

      // The same users again and a batch delivered twice: counted once, through the same statements.
      const again = users.map((user) => mood(user, '2027-02-01T10:00:35.000Z'));
      expect(await store.applyEvents(again)).toMatchObject({ applied: 3, duplicates: 0 });
      expect(await store.applyEvents(again)).toMatchObject({ applied: 0, duplicates: 3 });
      expect(await namesOnConnection()).toEqual(afterFirst);
      const { rows } = await db.query<{ metric: string; count: number }>("SELECT metric, count FROM rollups WHERE interval = 'minute' ORDER BY metric");
      expect(rows).toEqual([
        { metric: 'events', count: 6 },
        { metric: 'mood.valence', count: 6 },
      ]);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
