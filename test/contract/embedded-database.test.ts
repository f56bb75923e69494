import { embeddedDatabase, embeddedDatabaseClient, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';

/** The embedded database as the local runtime shares it: an owner and clients over ports. */
describe('embedded database connections', () => {
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  });
  afterAll(() => db.close());

  it('lets a client over a port write in transactions of its own, and read what the owner wrote', async () => {
    const client = embeddedDatabaseClient(db.connect());
    await db.query('INSERT INTO notes VALUES (1, $1)', ['from the owner']);
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (2, $1)', ['committed by the client']);
    });
    await expect(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (3, $1)', ['rolled back']);
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect((await client.query<{ id: number; body: string }>('SELECT id, body FROM notes ORDER BY id')).rows).toEqual([
      { id: 1, body: 'from the owner' },
      { id: 2, body: 'committed by the client' },
    ]);
    // Closing a client closes its port only: the owner and other clients carry on.
    await client.close();
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 2 }]);
  });
});
