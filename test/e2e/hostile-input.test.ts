import { Agent } from 'node:http';
import { makeEvent } from '../support/events';
import { rawRequest } from '../support/raw-http';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/**
 * The answers issue 12 saw as 500s and resets, each now a 4xx naming what is at fault (the
 * property-based suite, route-fuzz.test.ts, covers the classes; these pin the reported cases).
 */
const K = 3;
const at = new Date(Date.now() - 30 * 60_000);
const from = new Date(at.getTime() - 3_600_000).toISOString();
const to = new Date(at.getTime() + 3_600_000).toISOString();
const soon = new Date(Date.now() + 3_600_000).toISOString();
const MiB = 1024 * 1024;

describe('hostile input the issue reported, through the local runtime', () => {
  let app: TestRuntime;
  const post = (path: string, body: unknown) => app.request('POST', path, { body });

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const researchers = ['r-1', 'r-2', 'r-3'];
    await app.consent(researchers, { analytics: true, research: true, safety_monitoring: false });
    await app.request('POST', '/v1/events', { body: { events: researchers.map((userId) => makeEvent({ userId, occurredAt: at.toISOString() }, 'mood.reported')) } });
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each([
    ['/v1/metrics/%E0%A4%A?interval=hour', 'metric'],
    ['/v1/users/%zz/data', 'userId'],
    ['/v1/silences/%C0%AF', 'id'],
  ])('answers 400 naming the parameter for the malformed escape in %s, with a token or without', async (path, parameter) => {
    const method = path.startsWith('/v1/metrics') ? 'GET' : 'DELETE';

    const withToken = await app.request(method, path);
    const without = await app.request(method, path, { token: null });

    for (const answer of [withToken, without]) expect([answer.status, answer.body.error.code, answer.body.error.details]).toEqual([400, 'invalid_parameter', { parameter }]);
  });

  it.each([
    [{ epsilon: 1e-16 }, 'epsilon'],
    [{ epsilon: 0.009 }, 'epsilon'],
    [{ epsilon: 10.5 }, 'epsilon'],
    [{ epsilon: 0.1, mechanism: 'gaussian', delta: 1e-16 }, 'delta'],
    [{ epsilon: 0.1, mechanism: 'gaussian', delta: 0.002 }, 'delta'],
    [{ epsilon: 0.1, from: '0000-01-01T00:00:00Z' }, 'from'],
    [{ epsilon: 0.1, to: '9999-12-31T23:59:59Z' }, 'to'],
  ])('refuses the research release %j with 400 naming %s, and the ledger records no spend', async (change, field) => {
    const before = await app.request('GET', '/v1/privacy/budget');

    const exported = await post('/v1/research/exports', { metric: 'mood.valence', from, to, ...change });
    const reported = await post('/v1/reports', { kind: 'research', from, to, ...change });
    const after = await app.request('GET', '/v1/privacy/budget');

    for (const answer of [exported, reported]) expect([answer.status, answer.body.error.details]).toEqual([400, { field }]);
    expect(after.body.datasets[0].releases).toBe(before.body.datasets[0].releases);
  });

  it('still releases at the edges of the stated ranges, spending what was asked', async () => {
    const low = await post('/v1/research/exports', { metric: 'mood.valence', from, to, epsilon: 0.01 });
    const gaussian = await post('/v1/research/exports', { metric: 'mood.valence', from, to, epsilon: 0.01, mechanism: 'gaussian', delta: 1e-10 });
    const report = await post('/v1/reports', { kind: 'research', from, to, epsilon: 0.01 });

    expect([low.status, gaussian.status, report.status]).toEqual([200, 200, 202]);
    expect(low.body.count).toEqual(expect.objectContaining({ value: expect.any(Number) }));
  });

  it.each([
    ['/v1/alerts?before=0000-01-01T00:00:00Z', 'before'],
    ['/v1/alerts?before=2026-02-30T00:00:00Z', 'before'],
    [`/v1/metrics/events?from=0000-01-01T00:00:00Z&to=${to}&interval=day`, 'from'],
    [`/v1/metrics/events?from=${from}&to=%2B275760-09-13T00:00:00Z&interval=day`, 'to'],
    [`/v1/anomalies?from=1999-12-31T23:59:59Z&to=${to}`, 'from'],
  ])('answers %s with 400 naming %s', async (path, parameter) => {
    const answer = await app.request('GET', path);

    expect([answer.status, answer.body.error.details]).toEqual([400, { parameter }]);
  });

  const rule = (change: Record<string, unknown>) => ({
    id: 'nul-test',
    kind: 'threshold',
    description: 'A rule',
    severity: 'warning',
    subject: 'user',
    signal: 'phq9.score',
    op: '>=',
    value: 20,
    routing: { channels: ['dashboard'], repeatIntervalSec: 3600 },
    ...change,
  });
  const silence = (change: Record<string, unknown>) => ({ matchers: [{ name: 'rule', value: 'x' }], endsAt: soon, comment: 'maintenance', ...change });

  it.each([
    ['PUT', '/v1/alert-rules', 'rules.0.description', { rules: [rule({ description: 'crisis\u0000watch' })] }],
    ['PUT', '/v1/alert-rules', 'rules.0.labels.team', { rules: [rule({ labels: { team: 'a\u0085b' } })] }],
    ['POST', '/v1/silences', 'comment', silence({ comment: 'night\u0000shift' })],
    ['POST', '/v1/silences', 'comment', silence({ comment: 'line\nbreak' })],
    ['POST', '/v1/silences', 'matchers.0.value', silence({ matchers: [{ name: 'rule', value: '\u001b[31m' }] })],
    ['POST', '/v1/silences', 'endsAt', silence({ endsAt: '9999-12-31T23:59:59Z' })],
  ])('%s %s refuses a control character or an out-of-range date with 400 naming %s', async (method, path, field, body) => {
    const answer = await app.request(method, path, { body });

    expect([answer.status, answer.body.error.details]).toEqual([400, { field }]);
  });

  const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it.each([
    ['PUT', '/v1/alert-rules', 'rules'],
    ['POST', '/v1/silences', 'matchers'],
    ['POST', '/v1/research/exports', 'metric'],
  ])('%s %s answers a %s nested 100,000 deep with 400, not a stack overflow', async (method, path, field) => {
    const answer = await app.request(method, path, { rawBody: `{"${field}": ${nest(100_000)}}` });

    expect([answer.status, answer.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('rejects, in its 202, an event nested 100,000 deep', async () => {
    const answer = await app.request('POST', '/v1/events', { rawBody: `{"events": [${nest(100_000)}]}` });

    expect([answer.status, answer.body.rejected]).toEqual([202, [expect.objectContaining({ index: 0, code: 'invalid_event' })]]);
  });

  it('refuses a NUL in a user id, in the consent path and in an event', async () => {
    const consent = await app.request('PUT', '/v1/consent/a%00b', { body: { analytics: true, research: false, safety_monitoring: false } });
    const ingest = await post('/v1/events', { events: [makeEvent({ userId: 'a\u0000b' })] });

    expect([consent.status, consent.body.error.details]).toEqual([400, { parameter: 'userId' }]);
    expect(ingest.body.rejected).toEqual([expect.objectContaining({ index: 0, code: 'invalid_event', message: expect.stringMatching(/^userId: must not contain control characters/) })]);
  });
});

describe('request bodies of any size, through the local runtime', () => {
  let app: TestRuntime;
  let agent: Agent;
  const big = (bytes: number) => Buffer.alloc(bytes, 0x20);

  beforeAll(async () => {
    app = await startTestRuntime();
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterAll(async () => {
    agent?.destroy();
    await app?.stop();
  });

  const send = (path: string, body: Buffer, options: { chunked?: boolean; token?: boolean } = {}) =>
    rawRequest(app.runtime.url, { method: path === '/v1/alert-rules' ? 'PUT' : 'POST', path, headers: { 'content-type': 'application/json', ...(options.token === false ? {} : { authorization: `Bearer ${app.runtime.tokens.devToken}` }) }, body, chunked: options.chunked }, agent);

  it.each([
    ['/v1/events', 20 * MiB, false],
    ['/v1/events', 20 * MiB, true],
    ['/v1/events', 2 * MiB, false],
    ['/v1/silences', 20 * MiB, false],
    ['/v1/alert-rules', 50 * MiB, true],
  ])('answers 413 in the error envelope to %s with %d bytes (chunked: %s), and the connection serves the next request', async (path, bytes, chunked) => {
    const answer = await send(path, big(bytes), { chunked });
    const next = await rawRequest(app.runtime.url, { method: 'GET', path: '/v1/privacy/budget', headers: { authorization: `Bearer ${app.runtime.tokens.devToken}` } }, agent);

    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toEqual({ error: { code: 'payload_too_large', message: expect.stringMatching(/^the body is over \d+(\.\d)? MiB/) } });
    expect(next.status).toBe(200);
  });

  it('takes a body just under the events limit to the handler', async () => {
    const answer = await send('/v1/events', Buffer.from(JSON.stringify({ events: [] }).padEnd(MiB - 1, ' ')));

    expect([answer.status, JSON.parse(answer.text).error.details]).toEqual([400, { field: 'events' }]);
  });

  it('answers 401, not a reset, to a 20 MB body sent without a token', async () => {
    const answer = await send('/v1/events', big(20 * MiB), { token: false });

    expect(answer.status).toBe(401);
  });

  it('answers 431 in the error envelope to a request line over 16 KiB', async () => {
    const answer = await rawRequest(app.runtime.url, { method: 'GET', path: `/v1/alerts?x=${'a'.repeat(20_000)}`, headers: {} }, new Agent());

    expect([answer.status, JSON.parse(answer.text).error.code]).toEqual([431, 'headers_too_large']);
  });
});
