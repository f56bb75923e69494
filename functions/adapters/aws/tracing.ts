import { Tracer } from '@aws-lambda-powertools/tracer';
import type { SqlDatabase, SqlExecutor } from '../pg/database';

let tracer: Tracer | undefined;

/**
 * The functions' X-Ray tracer (tracing is active on every HouseFunction). Off outside Lambda,
 * where every call below passes through untouched. HTTP is not patched: the only HTTP callers
 * are the SDK clients, captured by name of service and operation instead.
 */
export const lambdaTracer = (): Tracer => (tracer ??= new Tracer({ captureHTTPsRequests: false }));

/** An X-Ray segment as far as a subsegment around a statement needs it. */
interface Segment {
  addNewSubsegment(name: string): Subsegment;
}
interface Subsegment extends Segment {
  addError(error: Error): void;
  close(): void;
}

/** The part of Powertools' Tracer that `tracedDatabase` uses, so a test can stand in for X-Ray. */
export type StatementTracer = { isTracingEnabled(): boolean; getSegment(): unknown; setSegment(segment: never): void };

/**
 * Each statement as a subsegment named by its verb ("PostgreSQL SELECT"): no SQL text and no
 * parameters, which carry pseudonyms and values people sent.
 */
export function tracedDatabase(db: SqlDatabase, statements: StatementTracer = lambdaTracer()): SqlDatabase {
  const within = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const parent = statements.isTracingEnabled() ? (statements.getSegment() as Segment | undefined) : undefined;
    if (parent === undefined) return work();
    const subsegment = parent.addNewSubsegment(name);
    statements.setSegment(subsegment as never);
    try {
      return await work();
    } catch (error) {
      subsegment.addError(error as Error);
      throw error;
    } finally {
      subsegment.close();
      statements.setSegment(parent as never);
    }
  };
  const verb = (sql: string) => `PostgreSQL ${/^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'statement'}`;
  const traced = (executor: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => within(verb(sql), () => executor.query(sql, params)),
    queryArrays: (sql, params) => within(verb(sql), () => executor.queryArrays(sql, params)),
    exec: (script) => within('PostgreSQL script', () => executor.exec(script)),
  });
  return {
    ...traced(db),
    transaction: (work) => within('PostgreSQL transaction', () => db.transaction((tx) => work(traced(tx)))),
    close: () => db.close(),
  };
}
