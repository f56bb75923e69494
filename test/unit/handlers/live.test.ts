import { jsonLogger } from '../../../functions/adapters/log';
import { liveEnv, liveTokenVerifier } from '../../../functions/config/lambda';
import { parseEnv } from '../../../functions/config/env';
import type { BearerVerifier } from '../../../functions/handlers/http/bearer';
// First: it installs the runtime's global, which the handler module calls as it loads.
import { liveRequest, recordingResponseStream, tokenIssuer } from '../../support/lambda-streaming';
import { LIVE_STREAM_MS, handler, makeLiveHandler } from '../../../functions/handlers/live';
import { publishingSource } from '../../support/live-source';

const POOL = 'us-east-1_Live12345';
const POOL_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const API_CLIENT = 'apiclient0000000000000000';
const WEB_CLIENT = 'webclient0000000000000000';
const logger = jsonLogger('test', 'silent');

const pool = tokenIssuer(POOL_ISSUER);
const impostor = tokenIssuer(POOL_ISSUER);
/** The verifier as the live function builds it: the stack's pool and the API's clients, the keys from the mirror. */
const poolVerifier = liveTokenVerifier(
  parseEnv(liveEnv, { REDIS_URL: 'redis://unused', JWKS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwks', USER_POOL_ID: POOL }),
  async () => pool.trust([API_CLIENT, WEB_CLIENT]),
);
const idToken = (groups: string[], overrides: Record<string, unknown> = {}) => pool.sign({ sub: 'clinician-7', aud: WEB_CLIENT, token_use: 'id', 'cognito:groups': groups, ...overrides });

function serve(options: { verifyBearer?: BearerVerifier; source?: ReturnType<typeof publishingSource>; streamForMs?: number } = {}) {
  const source = options.source ?? publishingSource({ minute: '2026-12-06T08:00', events_per_min: '40', active_users: '12', avg_ingest_ms: '3', updated_at: 'u0' });
  return { source, live: makeLiveHandler({ source, verifyBearer: options.verifyBearer ?? poolVerifier, k: 10, logger, streamForMs: options.streamForMs }) };
}

async function refused(token: string | undefined, verifyBearer?: BearerVerifier) {
  const response = recordingResponseStream();
  await serve({ verifyBearer }).live(liveRequest(token), response.stream);
  const { statusCode, headers, body } = response.answer();
  return { statusCode, headers, body: JSON.parse(body) as { error: { code: string; message: string; details?: { reason: string } } } };
}

const events = (text: string, name: string) =>
  text
    .split('\n\n')
    .filter((block) => block.startsWith(`event: ${name}\n`))
    .map((block) => JSON.parse(block.split('data: ')[1]!) as Record<string, unknown>);

describe('GET /v1/live in AWS (a streaming function behind a function URL)', () => {
  it('is marked for response streaming, as the runtime requires of the exported handler', () => {
    expect(handler).toHaveProperty('streamified', true);
  });

  it.each([
    ['no token', undefined, 'missing'],
    ['a token signed by another key', impostor.sign({ aud: WEB_CLIENT, token_use: 'id', 'cognito:groups': ['admin'] }), 'bad_signature'],
    ['an expired token', idToken(['admin'], { exp: Math.floor(Date.now() / 1000) - 60 }), 'expired'],
    ['a token for a client the API does not accept', idToken(['admin'], { aud: 'someoneelse00000000000000' }), 'not_accepted'],
    ['something that is no JWT', 'not-a-jwt', 'malformed'],
  ])('refuses %s with 401 in the API error envelope', async (_case, token, reason) => {
    const { statusCode, headers, body } = await refused(token);
    expect(statusCode).toBe(401);
    expect(headers['content-type']).toBe('application/json');
    expect(body.error).toMatchObject({ code: 'unauthorized', details: { reason } });
  });

  it('tells a caller with no token to send it in x-bearer-token, which CloudFront does not sign over', async () => {
    expect((await refused(undefined)).body.error.message).toContain('x-bearer-token');
  });

  it('refuses the ingest role with 403: it reads nothing', async () => {
    const { statusCode, body } = await refused(idToken(['ingest']));
    expect(statusCode).toBe(403);
    expect(body.error).toEqual({ code: 'forbidden', message: 'role ingest may not call GET /v1/live' });
  });

  it('answers 503 when the mirrored keys cannot be read, so the client retries', async () => {
    const unreadable = liveTokenVerifier(parseEnv(liveEnv, { REDIS_URL: 'r', JWKS_SECRET_ARN: 'arn:aws:secretsmanager:x', USER_POOL_ID: POOL }), async () => {
      throw new Error('secrets manager unreachable');
    });
    const { statusCode, body } = await refused(idToken(['admin']), unreadable);
    expect(statusCode).toBe(503);
    expect(body.error.code).toBe('unavailable');
  });

  it('accepts an access token of one of the API clients (client_id, no aud)', async () => {
    const response = recordingResponseStream();
    const token = pool.sign({ sub: 'a1', client_id: API_CLIENT, token_use: 'access', 'cognito:groups': ['analyst'] });
    const { live } = serve({ streamForMs: 1 });
    await live(liveRequest(token), response.stream);
    expect(response.answer().statusCode).toBe(200);
  });

  it('with an external issuer, checks its audience', async () => {
    const external = tokenIssuer('https://login.example.org/');
    const verifier = liveTokenVerifier(
      parseEnv(liveEnv, { REDIS_URL: 'r', JWKS_SECRET_ARN: 'arn:aws:secretsmanager:x', JWT_ISSUER: 'https://login.example.org/' }),
      async () => external.trust(['analytics-api']),
    );
    await expect(verifier(external.sign({ aud: 'analytics-api', role: 'clinician' }))).resolves.toMatchObject({ claims: { role: 'clinician' } });
    await expect(verifier(external.sign({ aud: 'another-api', role: 'clinician' }))).resolves.toEqual({ rejected: 'not_accepted' });
  });

  describe('for a reader of the dashboards', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('streams the counters and the alerts, with no subject, then ends itself at its deadline and unsubscribes', async () => {
      const response = recordingResponseStream();
      const { live, source } = serve();
      const serving = live(liveRequest(idToken(['analyst'])), response.stream);
      await jest.advanceTimersByTimeAsync(0);
      expect(source.listeners()).toBe(2);

      source.publish('alerts', JSON.stringify({ kind: 'firing', severity: 'critical', alerts: [{ id: 'a1', subject: 'user:pseudonym' }] }));
      source.publish('performance:realtime', JSON.stringify({ minute: '2026-12-06T08:01', events_per_min: 55, active_users: 3, avg_ingest_ms: 2, updated_at: 'u1' }));
      await jest.advanceTimersByTimeAsync(2_000);

      const { statusCode, headers, body } = response.answer();
      expect(statusCode).toBe(200);
      expect(headers).toMatchObject({ 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      expect(body.startsWith('retry: 2000\n\n')).toBe(true);
      expect(events(body, 'alert')).toEqual([{ kind: 'firing', severity: 'critical', alertIds: ['a1'] }]);
      // The stored minute came first; the published one of 3 people (k = 10) without its count.
      expect(events(body, 'counters')).toEqual([expect.objectContaining({ minute: '2026-12-06T08:00', active_users: 12 }), expect.not.objectContaining({ active_users: expect.anything() })]);
      expect(body).not.toContain('user:pseudonym');

      let ended = false;
      void serving.then(() => (ended = true));
      await jest.advanceTimersByTimeAsync(LIVE_STREAM_MS - 3_000);
      expect(ended).toBe(false);
      await jest.advanceTimersByTimeAsync(2_000);
      expect(ended).toBe(true);
      expect(response.stream.writableEnded).toBe(true);
      expect(source.listeners()).toBe(0);
      // The heartbeat kept a quiet stream open for CloudFront (30 s between bytes at most).
      expect(body.length).toBeLessThan(response.answer().body.length);
      expect(response.answer().body).toContain(': keep-alive\n\n');
    });
  });
});
