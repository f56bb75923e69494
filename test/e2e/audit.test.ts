import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { ROUTES, type RouteKey } from '../../functions/handlers/http/roles';
import { DEFAULT_RULES } from '../../functions/domain/alerting/rules';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const run = promisify(execFile);
const now = Date.now();
const range = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), interval: 'hour' };
const rangeQuery = new URLSearchParams(range).toString();
/** The range as the metrics answer reads it, widened to whole hours. */
const HOUR_MS = 3_600_000;
const hourAligned = (iso: string, round: (x: number) => number) => new Date(round(Date.parse(iso) / HOUR_MS) * HOUR_MS).toISOString().replace('.000Z', 'Z');

/**
 * A call of every audited route (`audit` in ROUTES) and the entry it must leave. A route marked
 * audited without a row here fails the first test.
 */
let reportId = '';
const AUDIT_SCHEDULE = { id: 'audit', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['csv'], recipients: ['lead@clinic.example'], enabled: true };
let alertId = '';
let silenceId = '';
let cohortId = '';
// Each call saves or deletes a dashboard of its own, so a second call finds it as the first did.
const dashboardsToSave: string[] = [];
const dashboardsToDelete: string[] = [];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const silenceEnds = new Date(now + 3_600_000).toISOString();
const AUDITED: Partial<Record<RouteKey, { method: string; path: string; role: 'analyst' | 'ingest' | 'admin'; body?: unknown; details: Record<string, unknown> }>> = {
  'POST /v1/research/exports': {
    method: 'POST',
    path: '/v1/research/exports',
    role: 'analyst',
    body: { metric: 'events', ...range, interval: undefined, epsilon: 0.1 },
    details: { metric: 'events', from: range.from, to: range.to, epsilon: 0.1, mechanism: 'laplace', maxContributionsPerUser: 10, outcome: 'suppressed' },
  },
  'POST /v1/reports': {
    method: 'POST',
    path: '/v1/reports',
    role: 'analyst',
    body: { kind: 'research', from: range.from, to: range.to, epsilon: 0.1 },
    details: { kind: 'research', from: range.from, to: range.to, format: 'csv', epsilon: 0.1, mechanism: 'laplace', maxContributionsPerUser: 10, outcome: 'queued', report: expect.stringMatching(/^[0-9a-f-]{36}$/) },
  },
  'GET /v1/reports': { method: 'GET', path: '/v1/reports?kind=research&limit=1', role: 'analyst', details: { kind: 'research', count: 1 } },
  // Who is mailed is not in the trail: how many.
  'PUT /v1/report-schedules': {
    method: 'PUT',
    path: '/v1/report-schedules',
    role: 'admin',
    body: { schedules: [AUDIT_SCHEDULE] },
    details: { schedules: [{ id: 'audit', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['csv'], enabled: true, recipients: 1 }] },
  },
  'POST /v1/report-schedules/{id}/test': { method: 'POST', path: '/v1/report-schedules/audit/test', role: 'admin', details: { schedule: 'audit', report: expect.stringMatching(/^[0-9a-f-]{36}$/) } },
  'GET /v1/reports/{id}': {
    method: 'GET',
    get path() {
      return `/v1/reports/${reportId}`;
    },
    role: 'analyst',
    details: {
      get id() {
        return reportId;
      },
    },
  },
  // Who the clinician looks after is not in the trail: how many.
  'PUT /v1/clinicians/{clinicianId}/users': {
    method: 'PUT',
    path: '/v1/clinicians/clinician-7/users',
    role: 'admin',
    body: { userIds: ['raw-user-canary-5', 'raw-user-canary-6'] },
    details: { clinician: 'clinician-7', users: 2 },
  },
  'PUT /v1/clinicians/{clinicianId}/preferences': {
    method: 'PUT',
    path: '/v1/clinicians/clinician-7/preferences',
    role: 'admin',
    body: { digestAt: '07:45', quietHours: { from: '22:00', to: '06:30' } },
    details: { clinician: 'clinician-7' },
  },
  'DELETE /v1/users/{userId}/data': {
    method: 'DELETE',
    path: '/v1/users/raw-user-canary-5/data',
    role: 'admin',
    details: {
      receiptId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      // PostgreSQL: the user's place in clinician-7's caseload (the row above).
      removed: { 'consent registry': 0, postgresql: 1, 'live store': 0, 'record keys': 0, 'event stream': 0, 'dead-letter queue': 0, 'alert outbox': 0 },
    },
  },
  'GET /v1/metrics/{metric}': {
    method: 'GET',
    path: `/v1/metrics/events?${rangeQuery}&filter=platform:ios`,
    role: 'analyst',
    details: { metric: 'events', interval: 'hour', timeZone: 'UTC', from: hourAligned(range.from, Math.floor), to: hourAligned(range.to, Math.ceil), groupBy: [], filter: { platform: ['ios'] } },
  },
  'GET /v1/alerts': { method: 'GET', path: '/v1/alerts?status=firing', role: 'admin', details: { status: 'firing', severity: 'any', count: 1 } },
  'POST /v1/alerts/{id}/ack': {
    method: 'POST',
    get path() {
      return `/v1/alerts/${alertId}/ack`;
    },
    role: 'admin',
    details: {
      get id() {
        return alertId;
      },
    },
  },
  'PUT /v1/alert-rules': { method: 'PUT', path: '/v1/alert-rules', role: 'admin', body: { rules: [] }, details: { rules: DEFAULT_RULES.length } },
  'POST /v1/silences': {
    method: 'POST',
    path: '/v1/silences',
    role: 'admin',
    body: { matchers: [{ name: 'rule', value: 'none' }], endsAt: silenceEnds, comment: 'audit test' },
    details: { silence: expect.stringMatching(/^[0-9a-f-]{36}$/), endsAt: silenceEnds },
  },
  'DELETE /v1/silences/{id}': {
    method: 'DELETE',
    get path() {
      return `/v1/silences/${silenceId}`;
    },
    role: 'admin',
    details: {
      get id() {
        return silenceId;
      },
    },
  },
  'GET /v1/patterns': { method: 'GET', path: '/v1/patterns?kind=archetype', role: 'analyst', details: { kind: 'archetype', count: 0 } },
  'GET /v1/anomalies': { method: 'GET', path: `/v1/anomalies?from=${range.from}&to=${range.to}`, role: 'analyst', details: { from: range.from, to: range.to, limit: 100, count: 0 } },
  'POST /v1/cohorts': {
    method: 'POST',
    path: '/v1/cohorts',
    role: 'analyst',
    body: { name: 'Web users: a name the trail does not keep', definition: { attribute: { platform: 'web' } } },
    details: { cohort: expect.stringMatching(/^[0-9a-f-]{36}$/), definition: { attribute: { platform: 'web' } } },
  },
  'GET /v1/cohorts': { method: 'GET', path: '/v1/cohorts', role: 'analyst', details: { count: expect.any(Number) } },
  'GET /v1/cohorts/{id}/retention': {
    method: 'GET',
    get path() {
      return `/v1/cohorts/${cohortId}/retention?periods=4`;
    },
    role: 'analyst',
    details: {
      get cohort() {
        return cohortId;
      },
      period: 'week',
      periods: 4,
    },
  },
  'GET /v1/cohorts/compare': {
    method: 'GET',
    get path() {
      return `/v1/cohorts/compare?a=${cohortId}&b=${cohortId}&metric=sessionsPerWeek,daysActive`;
    },
    role: 'analyst',
    details: {
      get a() {
        return cohortId;
      },
      get b() {
        return cohortId;
      },
      metric: ['sessionsPerWeek', 'daysActive'],
    },
  },
  // No model is trained in this runtime: the read is audited all the same.
  'GET /v1/predictions': { method: 'GET', path: '/v1/predictions?cohort=all', role: 'analyst', details: { cohort: 'all', model: null, count: 0 } },
  'GET /v1/interventions/effectiveness': {
    method: 'GET',
    path: '/v1/interventions/effectiveness?from=2026-11-10T00:00:00Z&to=2026-11-17T00:00:00Z',
    role: 'analyst',
    details: { from: '2026-11-09T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z', count: 0 },
  },
  // The title is free text: the trail keeps the dashboard's id and version only.
  'POST /v1/dashboards': { method: 'POST', path: '/v1/dashboards', role: 'analyst', body: { title: 'A title the trail does not keep' }, details: { dashboard: expect.stringMatching(UUID) } },
  'PUT /v1/dashboards/{id}': {
    method: 'PUT',
    get path() {
      return `/v1/dashboards/${dashboardsToSave.shift()}`;
    },
    role: 'admin',
    body: { version: 1, title: 'Saved', sharedWith: ['analyst'], widgets: [] },
    details: { dashboard: expect.stringMatching(UUID), version: 2 },
  },
  'DELETE /v1/dashboards/{id}': {
    method: 'DELETE',
    get path() {
      return `/v1/dashboards/${dashboardsToDelete.shift()}`;
    },
    role: 'admin',
    details: { dashboard: expect.stringMatching(UUID) },
  },
  'PUT /v1/consent/{userId}': {
    method: 'PUT',
    path: '/v1/consent/raw-user-canary-5',
    role: 'ingest',
    body: { analytics: true, research: false, safety_monitoring: true },
    details: { scopes: { analytics: true, research: false, safety_monitoring: true } },
  },
};

/** What the samples' paths name: a report, an alert and a silence of `target`. */
async function prepare(target: TestRuntime): Promise<void> {
  reportId = (await target.request('POST', '/v1/reports', { body: { kind: 'research', from: range.from, to: range.to, epsilon: 0.1 } })).body.id as string;
  await target.request('PUT', '/v1/report-schedules', { body: { schedules: [AUDIT_SCHEDULE] } });
  await target.postEvents([makeEvent({ userId: 'raw-user-canary-6', attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')]);
  await target.runtime.detect();
  alertId = (await target.request('GET', '/v1/alerts')).body.alerts[0].id as string;
  cohortId = (await target.request('POST', '/v1/cohorts', { body: { name: 'ios', definition: { attribute: { platform: 'ios' } } } })).body.id as string;
  silenceId = (await target.request('POST', '/v1/silences', { body: { matchers: [{ name: 'rule', value: 'none' }], endsAt: silenceEnds, comment: 'to end' } })).body.id as string;
  // Enough for every call the tests make of each route (three at most: two with canaries, one with a bad purpose).
  for (const pool of [dashboardsToSave, dashboardsToDelete]) {
    pool.length = 0;
    for (let i = 0; i < 3; i += 1) pool.push((await target.request('POST', '/v1/dashboards', { body: { title: 'to change' } })).body.id as string);
  }
}

type CallOptions = { body?: unknown; purpose?: string; headers?: Record<string, string> };
const callOn = (target: TestRuntime, method: string, path: string, token: string, options: CallOptions = {}) =>
  fetch(`${target.runtime.url}${path}`, {
    method,
    headers: { ...options.headers, authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(options.purpose ? { 'x-purpose': options.purpose } : {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });

describe('the audit trail through the embedded runtime', () => {
  let app: TestRuntime;
  const call = (method: string, path: string, token: string, options: CallOptions = {}) => callOn(app, method, path, token, options);
  const newest = async (limit = 1) => (await app.request('GET', `/v1/audit?limit=${limit}`)).body;

  beforeAll(async () => {
    app = await startTestRuntime();
    await prepare(app);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('has a row for every audited route', () => {
    const audited = (Object.keys(ROUTES) as RouteKey[]).filter((route) => 'audit' in ROUTES[route]);
    expect(Object.keys(AUDITED).sort()).toEqual(audited.sort());
  });

  it.each(Object.entries(AUDITED))('%s appends one entry with who, role, what, purpose and when, and no user id or pseudonym', async (route, sample) => {
    const before = (await newest()).entries[0]?.seq ?? 0;
    const token = app.runtime.tokens.issue(sample.role, `${sample.role}-person-1`);

    const response = await call(sample.method, sample.path, token, { body: sample.body, purpose: 'quality_improvement' });
    const answer = await response.text();
    const page = await newest(2);

    expect(response.status).toBeLessThan(300);
    expect(page.entries[0]).toEqual({
      seq: before + 1,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      actor: `${sample.role}-person-1`,
      role: sample.role,
      action: ROUTES[route as RouteKey] && 'audit' in ROUTES[route as RouteKey] ? (ROUTES[route as RouteKey] as { audit: string }).audit : 'none',
      resource: route,
      purpose: 'quality_improvement',
      details: sample.details,
      prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(page.entries[0].prevHash).toBe(page.entries[1]?.hash ?? '0'.repeat(64));
    const trail = JSON.stringify(page);
    const subject = (JSON.parse(answer) as { subject?: string }).subject;
    expect(['raw-user-canary-5', ...(subject === undefined ? [] : [subject])].filter((secret) => trail.includes(secret))).toEqual([]);
  });

  it('records no entry for a refused call, and refuses a malformed purpose naming the header', async () => {
    const before = (await newest()).entries[0]?.seq;
    const clinician = app.runtime.tokens.issue('clinician', 'c-1');

    const refused = await call('GET', `/v1/metrics/events?${rangeQuery}`, clinician);
    const badPurpose = await call('GET', `/v1/metrics/events?${rangeQuery}`, app.runtime.tokens.devToken, { purpose: 'Quality Improvement!' });

    // A route that is not audited ignores the header.
    const ingested = await call('POST', '/v1/events', app.runtime.tokens.devToken, { body: { events: [makeEvent()] }, purpose: 'Quality Improvement!' });

    expect(ingested.status).toBe(202);
    expect(refused.status).toBe(403);
    expect([badPurpose.status, ((await badPurpose.json()) as any).error]).toEqual([400, expect.objectContaining({ code: 'invalid_header', details: { header: 'x-purpose' } })]);
    expect((await newest()).entries[0]?.seq).toBe(before);
  });

  it('keeps canaries sent to every audited route (undeclared parameters and headers, a user id in the path, a purpose) out of GET /v1/audit and the audit table', async () => {
    const RAW_ID = 'raw-user-canary-77';
    const EMAIL = 'canary.person@example.org';
    const headers = { 'x-user-id': RAW_ID, 'x-email': EMAIL, from: EMAIL, 'x-forwarded-user': RAW_ID };
    const withCanaries = (path: string, userId: string, inQuery: boolean) => {
      const url = path.replace('raw-user-canary-5', encodeURIComponent(userId));
      return inQuery ? `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams({ userId: RAW_ID, email: EMAIL }).toString()}` : url;
    };
    const own = await startTestRuntime();
    const audited = (Object.keys(ROUTES) as RouteKey[]).filter((route) => 'audit' in ROUTES[route]);
    const outcomes: string[] = [];
    const pseudonyms: string[] = [];
    let trail = '';
    let table = '';
    try {
      await prepare(own);
      for (const route of audited) {
        const sample = AUDITED[route];
        if (!sample) throw new Error(`${route} has no sample call in AUDITED`);
        const token = own.runtime.tokens.issue(sample.role, `${sample.role}-person-1`);
        for (const [userId, inQuery] of [[RAW_ID, true], [EMAIL, false]] as const) {
          const response = await callOn(own, sample.method, withCanaries(sample.path, userId, inQuery), token, { body: sample.body, headers });
          const answer = (await response.json()) as { subject?: string; error?: { details?: { parameter?: string } } };
          if (answer.subject !== undefined) pseudonyms.push(answer.subject);
          // A route that refuses parameters it does not take may refuse the canaries; any other outcome is a failure.
          const refusedCanary = inQuery && response.status === 400 && ['userId', 'email'].includes(answer.error?.details?.parameter ?? '');
          if (response.status >= 300 && !refusedCanary) outcomes.push(`${route} ${inQuery ? 'query' : 'headers'}: ${response.status}`);
        }
        const purpose = await callOn(own, sample.method, withCanaries(sample.path, RAW_ID, false), token, { body: sample.body, purpose: 'raw_user_canary_77' });
        if (purpose.status !== 400) outcomes.push(`${route} purpose: ${purpose.status}`);
      }
      const entries = (await own.request('GET', '/v1/audit?limit=1000')).body.entries as { resource: string }[];
      trail = JSON.stringify(entries);
      expect([...new Set(entries.map((entry) => entry.resource))].sort()).toEqual(audited.sort());
      await own.runtime.stop();
      const db = await embeddedDatabase(join(own.dataDir, 'pg'));
      try {
        const { rows } = await db.query<{ body: string }>('SELECT body FROM audit_log');
        expect(rows).toHaveLength(entries.length);
        table = rows.map((row) => row.body).join('\n');
      } finally {
        await db.close();
      }
    } finally {
      rmSync(own.dataDir, { recursive: true, force: true });
    }

    expect(outcomes).toEqual([]);
    expect(pseudonyms.length).toBeGreaterThan(0);
    const secrets = [RAW_ID, EMAIL, encodeURIComponent(EMAIL), 'raw_user_canary_77', ...pseudonyms];
    expect(secrets.filter((secret) => trail.includes(secret) || table.includes(secret))).toEqual([]);
  });

  it('pages newest first with limit and before, and refuses a bad limit naming it', async () => {
    for (let i = 0; i < 3; i += 1) await app.request('GET', `/v1/metrics/events?${rangeQuery}`);

    const first = await newest(2);
    const second = (await app.request('GET', `/v1/audit?limit=2&before=${first.next}`)).body;
    const bad = await app.request('GET', '/v1/audit?limit=0');

    expect(first.entries.map((e: any) => e.seq)).toEqual([first.entries[0].seq, first.entries[0].seq - 1]);
    expect(second.entries[0].seq).toBe(first.entries[1].seq - 1);
    expect([bad.status, bad.body.error.details]).toEqual([400, { parameter: 'limit' }]);
  });

  it('npm run audit:verify refuses a data folder a running runtime holds, and says how to run it', async () => {
    const own = await startTestRuntime();
    try {
      const refused = await run('npx', ['tsx', 'bin/audit-verify.ts'], { env: { ...process.env, DATA_DIR: own.dataDir, DATABASE_URL: '' }, cwd: join(__dirname, '..', '..') }).then(
        () => ({ status: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ status: error.code, stderr: error.stderr }),
      );

      expect(refused).toEqual({ status: 2, stderr: expect.stringContaining(`the runtime (process ${process.pid}) holds`) });
      expect(refused.stderr).toContain('stop `npm start` first');
    } finally {
      await own.stop();
    }
  });

  it('npm run audit:verify finds the trail intact, then the entry someone changed', async () => {
    // A runtime of its own: the embedded database takes one process at a time, so it is stopped first.
    const own = await startTestRuntime();
    await own.request('GET', `/v1/metrics/events?${rangeQuery}`);
    await own.runtime.stop();
    const verify = () =>
      run('npx', ['tsx', 'bin/audit-verify.ts'], { env: { ...process.env, DATA_DIR: own.dataDir, DATABASE_URL: '' }, cwd: join(__dirname, '..', '..') }).then(
        ({ stdout }) => ({ status: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ status: error.code, stdout: error.stdout }),
      );
    try {
      const intact = await verify();
      const db = await embeddedDatabase(join(own.dataDir, 'pg'));
      await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER USER;
        UPDATE audit_log SET body = replace(body, '"admin"', '"analyst"') WHERE seq = 1;
        ALTER TABLE audit_log ENABLE TRIGGER USER;`);
      await db.close();
      const broken = await verify();

      expect(intact).toEqual({ status: 0, stdout: expect.stringMatching(/^audit trail intact: 1 entries verified/) });
      expect(broken).toEqual({ status: 1, stdout: expect.stringContaining('audit trail BROKEN at entry 1: its hash does not match its content') });
    } finally {
      rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
