import { parseRange, rangeStart, type Widget } from '../../functions/domain/dashboards/dashboard';
import { READY_MADE_DASHBOARDS } from '../../functions/domain/dashboards/ready-made';
import type { Role } from '../../functions/handlers/http/roles';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const widget = (id: string, query: Partial<Widget['query']> = {}): Widget => ({
  id,
  title: `Widget ${id}`,
  query: { metric: 'sessions', interval: 'day', groupBy: ['platform'], range: 'P30D', ...query },
  chart: 'bar',
  grid: { x: 0, y: 0, w: 6, h: 4 },
});

/** The GET /v1/metrics/{metric} a client makes of a widget: its range ending now. */
function metricPath(query: Widget['query']): string {
  const now = Date.now();
  const parameters = new URLSearchParams({ from: new Date(rangeStart(parseRange(query.range)!, now)).toISOString(), to: new Date(now).toISOString(), interval: query.interval });
  if (query.groupBy.length > 0) parameters.set('groupBy', query.groupBy.join(','));
  if (query.timeZone) parameters.set('timeZone', query.timeZone);
  return `/v1/metrics/${query.metric}?${parameters.toString()}`;
}

describe('dashboards through the embedded runtime', () => {
  let app: TestRuntime;
  const as = (role: Role, who: string) => app.runtime.tokens.issue(role, who);
  const call = (method: string, path: string, token: string, body?: unknown) => app.request(method, path, { token, body });
  const titlesSeenBy = async (token: string) => ((await call('GET', '/v1/dashboards', token)).body.dashboards as { title: string }[]).map((each) => each.title);
  let analyst1: string;
  let analyst2: string;
  let clinician: string;
  let admin: string;

  beforeAll(async () => {
    app = await startTestRuntime();
    [analyst1, analyst2, clinician, admin] = [as('analyst', 'analyst-1'), as('analyst', 'analyst-2'), as('clinician', 'clinician-1'), as('admin', 'admin-1')];
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('saves a dashboard as its caller\'s at version 1, lists it after the ready-made ones, and keeps it across a restart', async () => {
    const body = { title: 'My engagement', sharedWith: ['analyst'], widgets: [widget('a'), widget('b', { metric: 'mood.valence', interval: 'week', groupBy: [], timeZone: 'Europe/London', range: 'P12W' })] };

    const created = await call('POST', '/v1/dashboards', analyst1, body);
    await app.restart();
    const read = await call('GET', `/v1/dashboards/${created.body.id}`, analyst1);
    const listed = await call('GET', '/v1/dashboards', analyst1);

    expect([created.status, created.body]).toEqual([201, { id: expect.stringMatching(/^[0-9a-f-]{36}$/), owner: 'analyst-1', version: 1, ...body }]);
    expect([read.status, read.body]).toEqual([200, created.body]);
    expect(listed.body.dashboards.map((each: { id: string }) => each.id)).toEqual([...READY_MADE_DASHBOARDS.map((each) => each.id), created.body.id]);
  });

  it('refuses a widget the metrics API would not answer, naming its field, and saves nothing', async () => {
    const before = await titlesSeenBy(analyst1);

    const refused = await call('POST', '/v1/dashboards', analyst1, { title: 'Bad', widgets: [widget('a'), widget('b', { groupBy: ['instrument'] })] });
    const badGrid = await call('POST', '/v1/dashboards', analyst1, { title: 'Bad', widgets: [{ ...widget('a'), grid: { x: 10, y: 0, w: 4, h: 2 } }] });

    expect([refused.status, refused.body.error]).toEqual([400, { code: 'invalid_request', message: "widgets[1].query.groupBy: unknown dimension 'instrument' for metric sessions; allowed: scenarioId, platform", details: { field: 'widgets.1.query.groupBy' } }]);
    expect([badGrid.status, badGrid.body.error.details]).toEqual([400, { field: 'widgets.0.grid.w' }]);
    expect(await titlesSeenBy(analyst1)).toEqual(before);
  });

  it('saves on the version read and refuses a stale save with 409, changing nothing', async () => {
    const { body: created } = await call('POST', '/v1/dashboards', analyst1, { title: 'Versions', widgets: [widget('a')] });
    const change = (version: number, title: string) => call('PUT', `/v1/dashboards/${created.id}`, analyst1, { version, title, sharedWith: [], widgets: [widget('a')] });

    const first = await change(1, 'Versions, once');
    const stale = await change(1, 'Versions, from a stale read');
    const kept = await call('GET', `/v1/dashboards/${created.id}`, analyst1);

    expect([first.status, first.body.version, first.body.title]).toEqual([200, 2, 'Versions, once']);
    expect([stale.status, stale.body.error.code, stale.body.error.details]).toEqual([409, 'version_conflict', { currentVersion: 2 }]);
    expect(stale.body.error.message).toContain('nothing was changed');
    expect([kept.body.version, kept.body.title]).toEqual([2, 'Versions, once']);
  });

  it('keeps exactly one of several saves made from the same version at the same time', async () => {
    const { body: created } = await call('POST', '/v1/dashboards', analyst1, { title: 'Race' });

    const answers = await Promise.all(Array.from({ length: 6 }, (_, n) => call('PUT', `/v1/dashboards/${created.id}`, analyst1, { version: 1, title: `Race ${n}`, sharedWith: [], widgets: [] })));
    const kept = await call('GET', `/v1/dashboards/${created.id}`, analyst1);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const winner = answers.find((answer) => answer.status === 200)!;
    expect([kept.body.version, kept.body.title]).toEqual([2, winner.body.title]);
  });

  it('shows a dashboard to the roles it is shared with, lets only its owner and admins change it, and hides it from the rest', async () => {
    const { body: created } = await call('POST', '/v1/dashboards', analyst1, { title: 'For clinicians', sharedWith: ['clinician'], widgets: [widget('a')] });
    const save = (token: string, version: number) => call('PUT', `/v1/dashboards/${created.id}`, token, { version, title: 'Changed', sharedWith: ['clinician'], widgets: [] });

    const seenByClinician = [await titlesSeenBy(clinician), (await call('GET', `/v1/dashboards/${created.id}`, clinician)).status];
    const byClinician = await save(clinician, 1);
    const byOtherAnalyst = await save(analyst2, 1);
    const deleteByClinician = await call('DELETE', `/v1/dashboards/${created.id}`, clinician);
    const byAdmin = await save(admin, 1);

    expect(seenByClinician).toEqual([['For clinicians'], 200]);
    expect([byClinician.status, byClinician.body.error.code]).toEqual([403, 'forbidden']);
    expect(byClinician.body.error.message).toMatch(/only the owner .* or an admin/);
    expect([deleteByClinician.status, deleteByClinician.body.error.code]).toEqual([403, 'forbidden']);
    // Not shared with analysts: another analyst is not told it exists.
    expect([byOtherAnalyst.status, byOtherAnalyst.body.error.code]).toEqual([404, 'not_found']);
    expect((await call('GET', `/v1/dashboards/${created.id}`, analyst2)).status).toBe(404);
    expect(await titlesSeenBy(analyst2)).not.toContain('For clinicians');
    expect([byAdmin.status, byAdmin.body.owner, byAdmin.body.version]).toEqual([200, 'analyst-1', 2]);
  });

  it('refuses to change or delete a ready-made dashboard with 403 read_only, and takes a copy of it', async () => {
    const outcomes = (await call('GET', '/v1/dashboards/outcomes', analyst1)).body;
    const { title, sharedWith, widgets } = outcomes;

    const save = await call('PUT', '/v1/dashboards/outcomes', admin, { version: 1, title: 'Mine now', sharedWith, widgets });
    const remove = await call('DELETE', '/v1/dashboards/outcomes', analyst1);
    const copy = await call('POST', '/v1/dashboards', analyst2, { title: `${title} (copy)`, sharedWith, widgets });

    expect([save.status, save.body.error.code, remove.status, remove.body.error.code]).toEqual([403, 'read_only', 403, 'read_only']);
    expect(save.body.error.message).toContain('POST');
    expect((await call('GET', '/v1/dashboards/outcomes', analyst1)).body).toEqual(outcomes);
    expect([copy.status, copy.body.owner, copy.body.widgets]).toEqual([201, 'analyst-2', widgets]);
    // Clinicians are not shown the ready-made ones: they cannot read the metrics the widgets draw.
    expect((await call('GET', '/v1/dashboards/outcomes', clinician)).status).toBe(404);
  });

  it('answers every ready-made widget\'s query through GET /v1/metrics/{metric}, whose roles still apply', async () => {
    const queries = READY_MADE_DASHBOARDS.flatMap((dashboard) => dashboard.widgets.map((each) => each.query));

    const statuses = await Promise.all(queries.map(async (query) => (await call('GET', metricPath(query), analyst1)).status));
    const asClinician = await call('GET', metricPath(queries[0]!), clinician);

    expect(statuses).toEqual(queries.map(() => 200));
    expect([asClinician.status, asClinician.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('deletes a dashboard for its owner, then finds it no more; a malformed id is named', async () => {
    const { body: created } = await call('POST', '/v1/dashboards', analyst2, { title: 'Short-lived' });

    const removed = await call('DELETE', `/v1/dashboards/${created.id}`, analyst2);
    const again = await call('DELETE', `/v1/dashboards/${created.id}`, analyst2);
    const malformed = await call('GET', '/v1/dashboards/not-a-dashboard', analyst2);

    expect([removed.status, removed.body]).toEqual([200, { id: created.id, deleted: true }]);
    expect([again.status, (await call('GET', `/v1/dashboards/${created.id}`, analyst2)).status]).toEqual([404, 404]);
    expect([malformed.status, malformed.body.error.details]).toEqual([400, { parameter: 'id' }]);
  });
});
