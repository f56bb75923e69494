import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, ROUTES, type Role, type RouteKey } from '../../functions/handlers/http/roles';
import { makeEvent } from '../support/events';
import { DEMO_CONSENT } from '../../functions/local/consent-client';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { signHs256 } from '../../functions/handlers/http/bearer';

const now = Date.now();
const range = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now).toISOString()}`;

/**
 * Who may call what (DESIGN.md: analysts see aggregates only, clinicians the alerts of their own
 * users, ingest only sends events), with a well-formed request to each route. Written out here,
 * not read from ROUTES, so a change to the code's table must be made here too; a route added to
 * ROUTES without a row here fails the first test.
 */
let reportId = '';
const ROLES_SCHEDULE = { id: 'roles', kind: 'operations', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['csv'], recipients: [], enabled: true };
let alertId = '';
let silenceId = '';
const cohortIds: string[] = [];
// Shared with every role that may read dashboards.
let sharedDashboardId = '';
// A save or a delete is its owner's or an admin's: beforeAll makes each role's caller a dashboard
// of their own to save and one to delete, in ROLES order, the order the cases below take them in.
const dashboardsToSave: string[] = [];
const dashboardsToDelete: string[] = [];
let saveTurn = 0;
let deleteTurn = 0;
const TABLE: Record<RouteKey, { allowed: readonly Role[] | 'public'; method: string; path: string; body?: unknown }> = {
  'POST /v1/events': { allowed: ['admin', 'ingest'], method: 'POST', path: '/v1/events', body: { events: [makeEvent()] } },
  'PUT /v1/consent/{userId}': { allowed: ['admin', 'ingest'], method: 'PUT', path: '/v1/consent/user-1', body: DEMO_CONSENT },
  'GET /v1/metrics': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/metrics' },
  'GET /v1/metrics/{metric}': { allowed: ['admin', 'analyst'], method: 'GET', path: `/v1/metrics/events?${range}&interval=minute` },
  'DELETE /v1/users/{userId}/data': { allowed: ['admin'], method: 'DELETE', path: '/v1/users/user-9/data' },
  'POST /v1/research/exports': {
    allowed: ['admin', 'analyst'],
    method: 'POST',
    path: '/v1/research/exports',
    body: { metric: 'mood.valence', from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), epsilon: 0.1 },
  },
  'GET /v1/privacy/budget': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/privacy/budget' },
  'GET /v1/predictions': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/predictions?cohort=all' },
  'GET /v1/interventions/effectiveness': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/interventions/effectiveness' },
  'GET /v1/patterns': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/patterns' },
  'POST /v1/reports': {
    allowed: ['admin', 'analyst'],
    method: 'POST',
    path: '/v1/reports',
    body: { kind: 'research', from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), epsilon: 0.1 },
  },
  'GET /v1/reports': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/reports?limit=5' },
  'GET /v1/report-schedules': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/report-schedules' },
  'PUT /v1/report-schedules': { allowed: ['admin'], method: 'PUT', path: '/v1/report-schedules', body: { schedules: [ROLES_SCHEDULE] } },
  // The schedule set in beforeAll (and set again, the same, by the PUT above).
  'POST /v1/report-schedules/{id}/test': { allowed: ['admin'], method: 'POST', path: `/v1/report-schedules/${ROLES_SCHEDULE.id}/test` },
  // The report made in beforeAll.
  'GET /v1/reports/{id}': {
    allowed: ['admin', 'analyst'],
    method: 'GET',
    get path() {
      return `/v1/reports/${reportId}`;
    },
  },
  'GET /v1/audit': { allowed: ['admin'], method: 'GET', path: '/v1/audit?limit=5' },
  'PUT /v1/clinicians/{clinicianId}/users': { allowed: ['admin'], method: 'PUT', path: '/v1/clinicians/clinician-1/users', body: { userIds: ['in-crisis'] } },
  'GET /v1/clinicians/{clinicianId}/preferences': { allowed: ['admin', 'clinician'], method: 'GET', path: '/v1/clinicians/clinician-1/preferences' },
  'PUT /v1/clinicians/{clinicianId}/preferences': { allowed: ['admin', 'clinician'], method: 'PUT', path: '/v1/clinicians/clinician-1/preferences', body: { digestAt: '07:30' } },
  'GET /v1/alerts': { allowed: ['admin', 'clinician'], method: 'GET', path: '/v1/alerts' },
  // The alert raised in beforeAll.
  'POST /v1/alerts/{id}/ack': {
    allowed: ['admin', 'clinician'],
    method: 'POST',
    get path() {
      return `/v1/alerts/${alertId}/ack`;
    },
  },
  'GET /v1/alert-rules': { allowed: ['admin', 'clinician'], method: 'GET', path: '/v1/alert-rules' },
  'PUT /v1/alert-rules': { allowed: ['admin'], method: 'PUT', path: '/v1/alert-rules', body: { rules: [] } },
  'GET /v1/silences': { allowed: ['admin', 'clinician'], method: 'GET', path: '/v1/silences' },
  'POST /v1/silences': { allowed: ['admin'], method: 'POST', path: '/v1/silences', body: { matchers: [{ name: 'rule', value: 'none' }], endsAt: new Date(now + 3_600_000).toISOString(), comment: 'roles test' } },
  // The silence made in beforeAll.
  'DELETE /v1/silences/{id}': {
    allowed: ['admin'],
    method: 'DELETE',
    get path() {
      return `/v1/silences/${silenceId}`;
    },
  },
  'GET /v1/anomalies': { allowed: ['admin', 'analyst'], method: 'GET', path: `/v1/anomalies?${range}` },
  'POST /v1/cohorts': { allowed: ['admin', 'analyst'], method: 'POST', path: '/v1/cohorts', body: { name: 'roles test', definition: { attribute: { platform: 'web' } } } },
  'GET /v1/cohorts': { allowed: ['admin', 'analyst'], method: 'GET', path: '/v1/cohorts' },
  // The cohorts made in beforeAll.
  'GET /v1/cohorts/{id}/retention': {
    allowed: ['admin', 'analyst'],
    method: 'GET',
    get path() {
      return `/v1/cohorts/${cohortIds[0]}/retention`;
    },
  },
  'GET /v1/cohorts/compare': {
    allowed: ['admin', 'analyst'],
    method: 'GET',
    get path() {
      return `/v1/cohorts/compare?a=${cohortIds[0]}&b=${cohortIds[1]}&metric=sessionsPerWeek`;
    },
  },
  'GET /v1/dashboards': { allowed: ['admin', 'analyst', 'clinician'], method: 'GET', path: '/v1/dashboards' },
  'POST /v1/dashboards': { allowed: ['admin', 'analyst', 'clinician'], method: 'POST', path: '/v1/dashboards', body: { title: 'roles test' } },
  'GET /v1/dashboards/{id}': {
    allowed: ['admin', 'analyst', 'clinician'],
    method: 'GET',
    get path() {
      return `/v1/dashboards/${sharedDashboardId}`;
    },
  },
  'PUT /v1/dashboards/{id}': {
    allowed: ['admin', 'analyst', 'clinician'],
    method: 'PUT',
    get path() {
      return `/v1/dashboards/${dashboardsToSave[saveTurn++ % ROLES.length]}`;
    },
    body: { version: 1, title: 'roles test, saved', sharedWith: [], widgets: [] },
  },
  'DELETE /v1/dashboards/{id}': {
    allowed: ['admin', 'analyst', 'clinician'],
    method: 'DELETE',
    get path() {
      return `/v1/dashboards/${dashboardsToDelete[deleteTurn++ % ROLES.length]}`;
    },
  },
  'GET /openapi.json': { allowed: 'public', method: 'GET', path: '/openapi.json' },
};

const cases = (Object.keys(TABLE) as RouteKey[]).flatMap((route) =>
  ROLES.map((role) => {
    const { allowed } = TABLE[route];
    return [route, role, allowed === 'public' || allowed.includes(role)] as const;
  }),
);

/** Every route against every role, through the local runtime's HTTP server and the handlers. */
describe('roles on every route', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime();
    await app.consent(['in-crisis'], DEMO_CONSENT);
    await app.postEvents([makeEvent({ userId: 'in-crisis', attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')]);
    await app.runtime.detect();
    alertId = (await app.request('GET', '/v1/alerts')).body.alerts[0].id as string;
    // The table's clinician (clinician-1) looks after the user in crisis.
    await app.request('PUT', '/v1/clinicians/clinician-1/users', { body: { userIds: ['in-crisis'] } });
    silenceId = (await app.request('POST', '/v1/silences', { body: { matchers: [{ name: 'rule', value: 'none' }], endsAt: new Date(now + 3_600_000).toISOString(), comment: 'roles test' } })).body.id as string;
    for (const platform of ['ios', 'android']) cohortIds.push((await app.request('POST', '/v1/cohorts', { body: { name: platform, definition: { attribute: { platform } } } })).body.id as string);
    await app.request('PUT', '/v1/report-schedules', { body: { schedules: [ROLES_SCHEDULE] } });
    reportId = (await app.request('POST', '/v1/reports', { body: { kind: 'research', from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), epsilon: 0.1 } })).body.id as string;
    sharedDashboardId = (await app.request('POST', '/v1/dashboards', { body: { title: 'roles test, shared', sharedWith: ['analyst', 'clinician'] } })).body.id as string;
    for (const role of ROLES) {
      // An ingest token may not make one: the admin's stands in, refused all the same.
      const token = role === 'ingest' ? app.runtime.tokens.devToken : app.runtime.tokens.issue(role, `${role}-1`);
      dashboardsToSave.push((await app.request('POST', '/v1/dashboards', { body: { title: `${role}'s to save` }, token })).body.id as string);
      dashboardsToDelete.push((await app.request('POST', '/v1/dashboards', { body: { title: `${role}'s to delete` }, token })).body.id as string);
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('has a row for every route', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(cases)('%s as %s: allowed %s', async (route, role, allowed) => {
    const sample = TABLE[route];
    const response = await app.request(sample.method, sample.path, { body: sample.body, token: app.runtime.tokens.issue(role, `${role}-1`) });
    // Allowed: the handler answers (2xx); refused: 403 forbidden before any handler runs.
    expect([response.status < 300, response.status === 403 && response.body.error?.code === 'forbidden']).toEqual([allowed, !allowed]);
  });

  it("lets a clinician list and acknowledge only their own users' alerts, and marks a user in no caseload unassigned", async () => {
    await app.consent(['in-crisis-too', 'in-no-caseload'], DEMO_CONSENT);
    // A minute apart, so the alerts' start times tell them apart.
    const crisisOf = (userId: string, minutesAgo: number) =>
      makeEvent({ userId, occurredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(), attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal');
    await app.postEvents([crisisOf('in-crisis-too', 3), crisisOf('in-no-caseload', 2)]);
    await app.runtime.detect();
    expect((await app.request('PUT', '/v1/clinicians/clinician-2/users', { body: { userIds: ['in-crisis-too'] } })).body).toEqual({ clinicianId: 'clinician-2', users: 1 });
    const as = (clinician: string) => app.runtime.tokens.issue('clinician', clinician);
    const all = (await app.request('GET', '/v1/alerts')).body.alerts as { id: string; subject: string; startsAt: string; unassigned?: true }[];
    expect(all).toHaveLength(3);
    const [crisisTwo, noCaseload] = all.filter((alert) => alert.id !== alertId).sort((a, b) => a.startsAt.localeCompare(b.startsAt)) as [(typeof all)[0], (typeof all)[0]];

    const seenBy = async (clinician: string) => ((await app.request('GET', '/v1/alerts', { token: as(clinician) })).body.alerts as { id: string }[]).map((alert) => alert.id);
    expect(await seenBy('clinician-1')).toEqual([alertId]);
    expect(await seenBy('clinician-2')).toEqual([crisisTwo.id]);
    expect(await seenBy('clinician-3')).toEqual([]);
    // Another clinician's user's alert is not found for them, and stays unacknowledged.
    expect((await app.request('POST', `/v1/alerts/${crisisTwo.id}/ack`, { token: as('clinician-1') })).status).toBe(404);
    expect((await app.request('POST', `/v1/alerts/${crisisTwo.id}/ack`, { token: as('clinician-2') })).body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'clinician-2' });
    // The unassigned user's crisis went to the on-call route all the same, marked unassigned.
    expect(Object.fromEntries(all.map((alert) => [alert.id, alert.unassigned ?? false]))).toEqual({ [alertId]: false, [crisisTwo.id]: false, [noCaseload.id]: true });
  });

  it("pages a clinician's user's crisis to that clinician alone, on the clinicians' topic, and an unassigned user's on the on-call route", async () => {
    const subjectOf = async (userId: string) => (await app.request('PUT', `/v1/consent/${userId}`, { body: DEMO_CONSENT })).body.subject as string;
    const [assigned, unassigned] = [await subjectOf('paged-in-caseload'), await subjectOf('paged-in-no-caseload')];
    await app.request('PUT', '/v1/clinicians/clinician-4/users', { body: { userIds: ['paged-in-caseload'] } });
    const outbox = join(app.dataDir, 'alerts', 'outbox.jsonl');
    const before = readFileSync(outbox, 'utf8').trim().split('\n').length;

    await app.postEvents(['paged-in-caseload', 'paged-in-no-caseload'].map((userId) => makeEvent({ userId, attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')));
    await app.runtime.detect();

    const lines = readFileSync(outbox, 'utf8').trim().split('\n').slice(before).map((line) => JSON.parse(line) as { channel: string; topic?: string; clinician?: string });
    const named = (line: object) => [assigned, unassigned].filter((subject) => JSON.stringify(line).includes(subject)).map((subject) => (subject === assigned ? 'assigned' : 'unassigned'));
    expect(lines.map((line) => [line.channel, line.topic ?? '-', line.clinician ?? '-', named(line).join(',')]).sort()).toEqual([
      ['email', '-', '-', 'unassigned'],
      ['sns', 'clinician', 'clinician-4', 'assigned'],
      ['sns', 'critical', '-', 'unassigned'],
    ]);
  });

  it("lets a clinician read and set only their own alerting preferences, an administrator anyone's, and names a wrong field", async () => {
    const as = (clinician: string) => app.runtime.tokens.issue('clinician', clinician);
    const mine = { timeZone: 'Europe/London', digestAt: '18:00', quietHours: { from: '21:00', to: '07:00' }, warningPagesPerDay: 3 };

    expect((await app.request('GET', '/v1/clinicians/clinician-5/preferences', { token: as('clinician-5') })).body).toEqual({ timeZone: 'UTC', digestAt: '08:00', warningPagesPerDay: 10 });
    expect((await app.request('PUT', '/v1/clinicians/clinician-5/preferences', { body: mine, token: as('clinician-5') })).body).toEqual(mine);
    expect((await app.request('GET', '/v1/clinicians/clinician-5/preferences')).body).toEqual(mine);
    const theirs = await app.request('PUT', '/v1/clinicians/clinician-5/preferences', { body: { digestAt: '09:00' }, token: as('clinician-6') });
    expect([theirs.status, theirs.body.error.code]).toEqual([403, 'forbidden']);
    expect((await app.request('GET', '/v1/clinicians/clinician-5/preferences', { token: as('clinician-6') })).status).toBe(403);
    const bad = await app.request('PUT', '/v1/clinicians/clinician-5/preferences', { body: { ...mine, quietHours: { from: '7pm', to: '07:00' } } });
    expect([bad.status, bad.body.error.details]).toEqual([400, expect.objectContaining({ field: 'quietHours.from' })]);
    expect((await app.request('GET', '/v1/clinicians/clinician-5/preferences')).body).toEqual(mine);
  });

  it('refuses a malformed caseload, naming the field', async () => {
    const bad = await app.request('PUT', '/v1/clinicians/clinician-1/users', { body: { userIds: ['a', 'a'] } });
    const badId = await app.request('PUT', '/v1/clinicians/%20x/users', { body: { userIds: [] } });
    expect([bad.status, bad.body.error.details]).toEqual([400, expect.objectContaining({ field: 'userIds' })]);
    expect([badId.status, badId.body.error.details]).toEqual([400, { parameter: 'clinicianId' }]);
  });

  it.each(Object.keys(TABLE) as RouteKey[])('%s without a token: 401 unless public', async (route) => {
    const sample = TABLE[route];
    const response = await app.request(sample.method, sample.path, { body: sample.body, token: null });
    expect(response.status).toBe(sample.allowed === 'public' ? 200 : 401);
  });

  it.each([
    ['missing', (): string | null => null],
    ['malformed', (): string | null => 'not-a-token'],
    ['expired', (): string | null => app.runtime.tokens.issue('analyst', 'x', -60)],
    ['bad_signature', (): string | null => signHs256('a-secret-this-runtime-does-not-hold', 'analyst', 'x', 600)],
  ] as const)('says why a token was refused (%s), and nothing about the key', async (reason, token) => {
    const response = await app.request('GET', `/v1/metrics/events?${range}&interval=hour`, { token: token() });

    expect([response.status, response.body.error.code, response.body.error.details]).toEqual([401, 'unauthorized', { reason }]);
    expect(response.body.error.message).not.toMatch(/secret|HS256|invalid signature|jwt /i);
  });
});
