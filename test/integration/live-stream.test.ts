// First: it installs the runtime's global, which the handler module calls as it loads.
import { liveRequest, recordingResponseStream, tokenIssuer } from '../support/lambda-streaming';
import { Redis } from 'ioredis';
import { jsonLogger } from '../../functions/adapters/log';
import { RedisLiveStore } from '../../functions/adapters/redis/redis-live-store';
import { liveEnv, liveTokenVerifier } from '../../functions/config/lambda';
import { parseEnv } from '../../functions/config/env';
import { makeLiveHandler } from '../../functions/handlers/live';
import { describeWithServices, freshRedisPrefix, urls } from '../support/services';
import { waitFor } from '../support/wait';

const POOL = 'us-east-1_Live12345';
const CLIENT = 'webclient0000000000000000';
const pool = tokenIssuer(`https://cognito-idp.us-east-1.amazonaws.com/${POOL}`);

describeWithServices(['redis'], 'the live function on Redis pub/sub', () => {
  const prefix = freshRedisPrefix();
  const store = new RedisLiveStore(new Redis(urls.redis), { keyPrefix: prefix });
  const publisher = new RedisLiveStore(new Redis(urls.redis), { keyPrefix: prefix });
  const raw = new Redis(urls.redis);
  const subscribers = async (channel: string) => Number(((await raw.pubsub('NUMSUB', `${prefix}${channel}`)) as [string, number])[1]);

  afterAll(async () => {
    await Promise.all([store.close(), publisher.close(), raw.quit()]);
  });

  it('streams what is published on the channels to a reader, and leaves no subscription once the stream has ended', async () => {
    await publisher.setHash('performance:realtime', { minute: '2026-12-06T08:00', events_per_min: 40, active_users: 12, avg_ingest_ms: 3, updated_at: 'u0' });
    const live = makeLiveHandler({
      source: store,
      verifyBearer: liveTokenVerifier(parseEnv(liveEnv, { REDIS_URL: urls.redis, JWKS_SECRET_ARN: 'arn:aws:secretsmanager:x', USER_POOL_ID: POOL }), async () => pool.trust([CLIENT])),
      k: 10,
      logger: jsonLogger('test', 'silent'),
      streamForMs: 3_000,
    });
    const response = recordingResponseStream();
    const serving = live(liveRequest(pool.sign({ aud: CLIENT, token_use: 'id', 'cognito:groups': ['clinician'] })), response.stream);

    await waitFor(async () => [await subscribers('alerts'), await subscribers('performance:realtime')], (counts) => counts.every((count) => count === 1), { attempts: 40, everyMs: 50 });
    await publisher.publish('alerts', JSON.stringify({ kind: 'firing', severity: 'critical', groupKey: 'g', alerts: [{ id: 'a-live', rule: 'crisis-signal', subject: 'user:p', startsAt: 'x', summary: 's' }] }));
    await waitFor(async () => response.text(), (text) => text.includes('event: alert'), { attempts: 40, everyMs: 50 });

    await serving;
    const { statusCode, body } = response.answer();
    expect(statusCode).toBe(200);
    expect(body).toContain('data: {"kind":"firing","severity":"critical","alertIds":["a-live"]}');
    expect(body).toContain('"minute":"2026-12-06T08:00"');
    expect(body).not.toContain('user:p');
    expect(response.stream.writableEnded).toBe(true);
    expect(await subscribers('alerts')).toBe(0);
    expect(await subscribers('performance:realtime')).toBe(0);
  });
});
