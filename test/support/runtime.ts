import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { EMBEDDED_MIGRATIONS_DIR, PRODUCT_MIGRATIONS_DIR } from '../../functions/adapters/pg/migrator';
import { parseEnv } from '../../functions/config/env';
import { localEnv } from '../../functions/config/local';
import { startRuntime, type Runtime } from '../../functions/local/runtime';
import { putConsent } from '../../functions/local/consent-client';
import type { ConsentScopes } from '../../functions/domain/privacy/consent';

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly dataDir: string;
  request(method: string, path: string, options?: { body?: unknown; rawBody?: string; token?: string | null }): Promise<{ status: number; body: any }>;
  /** PUT /v1/consent for each user (analytics and safety monitoring unless `scopes` says otherwise). */
  consent(userIds: Iterable<string>, scopes?: ConsentScopes): Promise<void>;
  /** Grants consent to every user of the events, then POSTs them: what a consenting client does. */
  postEvents(events: readonly Record<string, unknown>[]): Promise<{ status: number; body: any }>;
  /** A report asked for earlier, once the runtime's report jobs are done: its page and its first file, read through its link. */
  madeReport(id: string): Promise<{ page: any; file: Buffer; text: string }>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const EMBEDDED_DATABASES = ['pg', 'stream'];

/**
 * The embedded databases as a runtime's first start leaves them (initdb, then every migration:
 * seconds of WASM per database, on each of some forty test runtimes), made once per set of
 * migrations and PGlite version and kept in the system's temporary folder. They hold only what
 * the migrations wrote; the secrets of a data folder are files beside them, made by each runtime.
 */
async function migratedDatabases(): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(join(__dirname, '../../node_modules/@electric-sql/pglite/package.json')));
  for (const dir of [PRODUCT_MIGRATIONS_DIR, EMBEDDED_MIGRATIONS_DIR]) {
    for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  }
  const template = join(tmpdir(), `analytics-test-databases-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(template)) return template;
  const building = mkdtempSync(`${template}.building-`);
  const runtime = await startRuntime(parseEnv(localEnv, { PORT: '0', DATA_DIR: building, LOG_LEVEL: 'silent' }));
  await runtime.stop();
  for (const entry of readdirSync(building)) if (!EMBEDDED_DATABASES.includes(entry)) rmSync(join(building, entry), { recursive: true, force: true });
  try {
    renameSync(building, template);
  } catch {
    // Another test file's worker made it first.
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/** The local runtime on a free port with a throw-away DATA_DIR; `env` picks its adapters. */
export async function startTestRuntime(env: Record<string, string> = {}): Promise<TestRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'analytics-'));
  if (env['DATABASE_URL'] === undefined) {
    const template = await migratedDatabases();
    for (const database of EMBEDDED_DATABASES) cpSync(join(template, database), join(dataDir, database), { recursive: true });
  }
  const config = parseEnv(localEnv, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', STREAM_NAME: `events-${randomBytes(4).toString('hex')}`, ...env });
  let runtime = await startRuntime(config);
  const handle: TestRuntime = {
    get runtime() {
      return runtime;
    },
    dataDir,
    async request(method, path, options = {}) {
      const token = options.token === undefined ? runtime.tokens.devToken : options.token;
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const response = await fetch(`${runtime.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
        body,
      });
      const text = await response.text();
      return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
    },
    consent(userIds, scopes) {
      return putConsent(runtime.url, runtime.tokens.devToken, userIds, scopes);
    },
    async postEvents(events) {
      await handle.consent(events.map((event) => String(event['userId'])));
      return handle.request('POST', '/v1/events', { body: { events } });
    },
    async madeReport(id) {
      await runtime.reportsIdle();
      const page = await handle.request('GET', `/v1/reports/${id}`);
      expect([page.status, page.body.status]).toEqual([200, 'done']);
      const download = await fetch(page.body.files[0].url as string);
      expect(download.status).toBe(200);
      const file = Buffer.from(await download.arrayBuffer());
      return { page: page.body, file, text: file.toString('utf8') };
    },
    async restart() {
      await runtime.stop();
      runtime = await startRuntime(config);
    },
    async stop() {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Every event counted over the day either side of now (GET /v1/metrics/events, ungrouped, by day), after a drain. */
export async function countedEvents(app: TestRuntime): Promise<number> {
  await app.runtime.drain();
  const day = 86_400_000;
  const from = new Date(Date.now() - day).toISOString();
  const to = new Date(Date.now() + day).toISOString();
  const metric = await app.request('GET', `/v1/metrics/events?from=${from}&to=${to}&interval=day`);
  expect(metric.status).toBe(200);
  return metric.body.series.flatMap((s: { points: { count: number }[] }) => s.points).reduce((sum: number, p: { count: number }) => sum + p.count, 0);
}
