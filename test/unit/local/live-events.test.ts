import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { jsonLogger } from '../../../functions/adapters/log';
import { liveEvents } from '../../../functions/local/live-events';
import { COUNTERS_EVERY_MS, alertNotice, releasedCounters } from '../../../functions/use-cases/live-events';
import { publishingSource } from '../../support/live-source';

/** A response that records what is written, and can be closed as a client going away. */
function recordingResponse(): ServerResponse & { written: string[] } {
  const response = Object.assign(new EventEmitter(), { written: [] as string[], headers: {} });
  return Object.assign(response, {
    writeHead(_status: number, headers: Record<string, string>) {
      response.headers = headers;
      return response;
    },
    write(chunk: string) {
      response.written.push(chunk);
      return true;
    },
  }) as unknown as ServerResponse & { written: string[] };
}

const events = (written: string[], name: string) => written.filter((chunk) => chunk.startsWith(`event: ${name}\n`)).map((chunk) => JSON.parse(chunk.split('data: ')[1]!) as Record<string, unknown>);

describe('the live view\'s server-sent events', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('withholds an active-people count of fewer than k, and keeps zero and k or more', () => {
    const stored = { minute: '2026-12-06T08:00', events_per_min: '40', avg_ingest_ms: '12', updated_at: 'x' };
    expect(releasedCounters({ ...stored, active_users: '4' }, 5)).not.toHaveProperty('active_users');
    expect(releasedCounters({ ...stored, active_users: '5' }, 5)).toMatchObject({ active_users: 5, events_per_min: 40 });
    expect(releasedCounters({ ...stored, active_users: '0' }, 5)).toMatchObject({ active_users: 0 });
    expect(releasedCounters({}, 5)).toBeUndefined();
  });

  it('tells of an alert by its ids, kind and severity only: no subject, no summary', () => {
    const message = JSON.stringify({ kind: 'firing', severity: 'critical', groupKey: 'g', alerts: [{ id: 'a1', rule: 'crisis-signal', subject: 'user:pseudonym', startsAt: 'x', summary: 'Crisis signal' }] });
    expect(alertNotice(message)).toEqual({ kind: 'firing', severity: 'critical', alertIds: ['a1'] });
  });

  it('sends the stored counters first, then the newest published at most every COUNTERS_EVERY_MS, and alerts as they come; a client that goes stops its subscriptions', async () => {
    const source = publishingSource({ minute: 'm0', events_per_min: '1', active_users: '0', avg_ingest_ms: '1', updated_at: 'u0' });
    const response = recordingResponse();
    liveEvents(source, { k: 2, logger: jsonLogger('test', 'silent') })(response);
    await jest.advanceTimersByTimeAsync(0);
    expect(events(response.written, 'counters').map((counters) => counters['minute'])).toEqual(['m0']);

    for (const minute of ['m1', 'm2', 'm3']) source.publish('performance:realtime', JSON.stringify({ minute, events_per_min: 5, active_users: 3, avg_ingest_ms: 2, updated_at: minute }));
    source.publish('alerts', JSON.stringify({ kind: 'firing', severity: 'critical', alerts: [{ id: 'a1', subject: 'user:p' }] }));
    expect(events(response.written, 'alert')).toEqual([{ kind: 'firing', severity: 'critical', alertIds: ['a1'] }]);
    await jest.advanceTimersByTimeAsync(COUNTERS_EVERY_MS);
    expect(events(response.written, 'counters').map((counters) => counters['minute'])).toEqual(['m0', 'm3']);
    expect(response.written.join('')).not.toContain('user:p');

    response.emit('close');
    await jest.advanceTimersByTimeAsync(0);
    expect(source.listeners()).toBe(0);
  });

  it('ends the response at once when the live store refuses a subscription, and stops the one it made', async () => {
    const source = publishingSource({});
    let stops = 0;
    const refusing = {
      ...source,
      subscribe: async (channel: 'performance:realtime' | 'alerts', listener: (message: string) => void) => {
        if (channel === 'alerts') throw new Error('Redis down');
        const stop = await source.subscribe(channel, listener);
        return async () => {
          stops++;
          await stop();
        };
      },
    };
    const response = Object.assign(recordingResponse(), { ended: false });
    response.end = (() => ((response.ended = true), response)) as never;
    liveEvents(refusing, { k: 2, logger: jsonLogger('test', 'silent') })(response);
    await jest.advanceTimersByTimeAsync(0);
    expect(response.ended).toBe(true);
    expect(stops).toBe(1);
    expect(source.listeners()).toBe(0);
  });
});
