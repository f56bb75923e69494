import { Pool, types, type PoolClient } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { StoreUnavailableError, isUnavailable } from '../../ports/unavailable';
import { preparedName } from './prepared-statements';
import { jsonLogger, logLevelFromEnv, type Logger } from '../log';

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

/** Node's socket errors that mean the server could not be reached or the connection broke. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), the server shutting
 * down or terminating the backend (57P01 is what `pg_terminate_backend` sends), starting up, or
 * out of connection slots.
 */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '53300']);
// pg reports a socket closed under it and a connect timeout by message only.
const CONNECTION_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect/i;

/** True when `error` says the connection, not the statement, failed: the same work may succeed on a new connection. */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SOCKET_ERRORS.has(code) || SERVER_GONE.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/** A connection error becomes StoreUnavailableError (callers retry the work); any other error is the statement's and passes as it is. */
async function classified<T>(statement: Promise<T>): Promise<T> {
  try {
    return await statement;
  } catch (error) {
    throw isConnectionError(error) ? new StoreUnavailableError('PostgreSQL', error) : error;
  }
}

/** The statements of one checked-out connection. */
function executorOver(target: PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await classified(target.query({ name: preparedName(sql), text: sql, values: params as unknown[] | undefined }));
      return { rows: result.rows as Row[] };
    },
    async queryArrays<Row extends readonly unknown[]>(sql: string, params?: readonly unknown[]) {
      const result = await classified(target.query({ text: sql, values: params as unknown[] | undefined, rowMode: 'array' }));
      return { rows: result.rows as unknown as Row[] };
    },
    async exec(script) {
      await classified(target.query(script));
    },
  };
}

export interface PostgresOptions {
  readonly max?: number;
  /**
   * Shown in `pg_stat_activity`: operators (and the fault tests) find this process's connections
   * by it, to watch them or to terminate them.
   */
  readonly applicationName?: string;
  /** Attempts to open a connection before a statement fails as unavailable; 6 by default (~3 s of backoff). */
  readonly connectAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly logger?: Pick<Logger, 'warn'>;
  /**
   * The password of each new connection, for credentials that rotate (the connection string then
   * has none): `fresh` asks for it to be read again because the server refused the last one.
   */
  readonly password?: (fresh: boolean) => Promise<string>;
}

/** SQLSTATEs of a refused login: invalid_password and invalid_authorization_specification. */
const AUTHENTICATION_FAILED = new Set(['28P01', '28000']);

const isAuthenticationFailure = (error: unknown): boolean => AUTHENTICATION_FAILED.has(String((error as { code?: unknown } | null)?.code));

const MAX_BACKOFF_MS = 2_000;
/** How long one connection attempt may take: a server that does not answer is as down as one that refuses. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A `pg` pool behind the SqlDatabase port, the same in the Lambdas and the local runtime.
 *
 * Faults: a pooled connection that dies while idle (the server restarted, an operator or a
 * failover terminated it) makes the pool emit `error`; without a listener Node treats that as an
 * uncaught exception and ends the process (or the worker thread). Here it is logged and the pool
 * drops the connection. Opening a connection is retried with exponential backoff, since no
 * statement has been sent yet, and fails as StoreUnavailableError after the last attempt. A
 * statement whose connection breaks under it is not retried here, because whether it committed
 * is unknown: it fails with StoreUnavailableError, and its owner retries the whole unit of work
 * (the stream poller its batch, which the aggregator dedupes by event id; an API client its
 * request, answered 503).
 */
export function postgresDatabase(connectionString: string, options: PostgresOptions = {}): SqlDatabase {
  const logger = options.logger ?? jsonLogger('postgres', logLevelFromEnv());
  const attempts = options.connectAttempts ?? 6;
  const baseMs = options.backoffBaseMs ?? 100;
  const readPassword = options.password;
  let passwordRefused = false;
  const pool = new Pool({
    // pg lets a connection string's (empty) password override a password function: parse it here.
    ...(readPassword
      ? {
          ...parseIntoClientConfig(connectionString),
          password: () => {
            const fresh = passwordRefused;
            passwordRefused = false;
            return readPassword(fresh);
          },
        }
      : { connectionString }),
    max: options.max ?? 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(options.applicationName !== undefined && { application_name: options.applicationName }),
  });
  pool.on('error', (error: Error & { code?: string }) => {
    logger.warn('an idle PostgreSQL connection was lost; the pool opens a new one when needed', { error: error.message, code: error.code });
  });
  // For a connection's whole life: after a failed statement the pool drops the connection and
  // stops listening to it, and the server's closing message can still arrive as an `error`
  // event, which with no listener ended the aggregator's thread.
  pool.on('connect', (client) => client.on('error', () => undefined));

  async function connect(): Promise<PoolClient> {
    let reread = false;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await pool.connect();
      } catch (error) {
        // A rotation may have changed the password since it was cached: read it again, once.
        if (readPassword && !reread && isAuthenticationFailure(error)) {
          reread = passwordRefused = true;
          continue;
        }
        // Whatever refused it (network, server starting, out of slots, a login refused during a
        // credentials rotation), no statement ran, so trying again is safe; and to the caller the
        // store is unavailable, not its work faulty.
        if (attempt >= attempts) throw new StoreUnavailableError('PostgreSQL', error);
        const delay = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        logger.warn('PostgreSQL connection failed, retrying', { attempt, delayMs: delay, error: (error as Error).message });
        await new Promise((done) => setTimeout(done, delay));
      }
    }
  }

  /**
   * `work` on a connection of its own, given back afterwards; a connection that broke goes out of
   * the pool instead (pg also drops one it knows is dead, but not one that merely timed out).
   */
  async function onConnection<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await connect();
    let broken: Error | undefined;
    // pg-pool listens for errors only on idle connections: one that breaks while checked out and
    // between statements (a transaction while the aggregator merges its batch) emits `error` to
    // nobody, which ended the aggregator's thread. The statement in progress fails on its own.
    const onError = (error: Error) => {
      broken = error;
      logger.warn('a PostgreSQL connection in use was lost', { error: error.message });
    };
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      if (isUnavailable(error)) broken ??= error as Error;
      throw broken && !isUnavailable(error) ? new StoreUnavailableError('PostgreSQL', error) : error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  return {
    query: (sql, params) => onConnection((client) => executorOver(client).query(sql, params)),
    queryArrays: (sql, params) => onConnection((client) => executorOver(client).queryArrays(sql, params)),
    exec: (script) => onConnection((client) => executorOver(client).exec(script)),
    transaction: (work) =>
      onConnection(async (client) => {
        const tx = executorOver(client);
        await tx.exec('BEGIN');
        try {
          const value = await work(tx);
          await tx.exec('COMMIT');
          return value;
        } catch (error) {
          if (!isUnavailable(error)) await tx.exec('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    async close() {
      await pool.end();
    },
  };
}
