import { tracedDatabase, type StatementTracer } from '../../../functions/adapters/aws/tracing';
import type { SqlDatabase, SqlExecutor } from '../../../functions/adapters/pg/database';

/** X-Ray as far as the wrapper sees it: segments that record their subsegments, names and errors. */
class FakeSegment {
  readonly subsegments: FakeSegment[] = [];
  readonly errors: string[] = [];
  closed = false;
  constructor(readonly name: string) {}
  addNewSubsegment(name: string): FakeSegment {
    const subsegment = new FakeSegment(name);
    this.subsegments.push(subsegment);
    return subsegment;
  }
  addError(error: Error): void {
    this.errors.push(error.message);
  }
  close(): void {
    this.closed = true;
  }
}

function fakeTracer(root: FakeSegment, enabled = true): StatementTracer & { current: () => FakeSegment } {
  let current = root;
  return { isTracingEnabled: () => enabled, getSegment: () => current, setSegment: (segment: never) => void (current = segment), current: () => current };
}

const statements: SqlExecutor = {
  query: async <Row>(sql: string) => {
    if (sql.startsWith('BROKEN')) throw new Error('syntax error');
    return { rows: [] as Row[] };
  },
  queryArrays: async <Row extends readonly unknown[]>() => ({ rows: [] as unknown as Row[] }),
  exec: async () => undefined,
};
const database: SqlDatabase = { ...statements, transaction: (work) => work(statements), close: async () => undefined };

describe('PostgreSQL statements in X-Ray', () => {
  it('makes each statement a closed subsegment named by its verb, with no SQL text or parameters', async () => {
    const root = new FakeSegment('handler');
    const tracer = fakeTracer(root);
    const db = tracedDatabase(database, tracer);
    await db.query('select count(*) FROM rollups WHERE metric = $1', ['mood']);
    await db.queryArrays(' INSERT INTO audit VALUES ($1)', ['pseudonym']);
    await db.transaction(async (tx) => tx.query('UPDATE alerts SET state = $1', ['resolved']));
    expect(root.subsegments.map((s) => [s.name, s.closed, s.subsegments.map((inner) => inner.name)])).toEqual([
      ['PostgreSQL SELECT', true, []],
      ['PostgreSQL INSERT', true, []],
      ['PostgreSQL transaction', true, ['PostgreSQL UPDATE']],
    ]);
    expect(JSON.stringify(root)).not.toMatch(/mood|pseudonym|rollups/);
    expect(tracer.current()).toBe(root);
  });

  it('records a failed statement as an error on its subsegment and gives the error back', async () => {
    const root = new FakeSegment('handler');
    const tracer = fakeTracer(root);
    await expect(tracedDatabase(database, tracer).query('BROKEN')).rejects.toThrow('syntax error');
    expect(root.subsegments).toEqual([expect.objectContaining({ name: 'PostgreSQL BROKEN', errors: ['syntax error'], closed: true })]);
    expect(tracer.current()).toBe(root);
  });

  it('passes statements through untouched when tracing is off (outside Lambda)', async () => {
    const root = new FakeSegment('handler');
    await tracedDatabase(database, fakeTracer(root, false)).query('SELECT 1');
    expect(root.subsegments).toEqual([]);
  });
});
