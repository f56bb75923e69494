import type { EventType } from '../../functions/domain/events/schema';
import { makeEvent } from '../support/events';
import { startPrivateMoto, type PrivateMoto } from '../support/moto';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const HOUR = 3_600_000;
const from = new Date(Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR).toISOString();
const to = new Date(Date.now() + 2 * HOUR).toISOString();

/** Twenty users, one event each: enough distinct users that k-anonymity releases the count. */
const twentyEvents = (type: EventType, tag: string) => Array.from({ length: 20 }, (_, user) => makeEvent({ userId: `${tag}-${user}` }, type));

/**
 * The emulated mode (`AWS_ENDPOINT_URL` and `DATABASE_URL`) against a moto of its own, restarted
 * empty as a developer's emulator is: the stream, the dead-letter queues and the consent table
 * are gone, while the poller's checkpoints in PostgreSQL still point into the lost stream.
 */
describeWithServices(
  ['postgres', 'moto'],
  'the emulated runtime when the emulator restarts empty',
  () => {
    let moto: PrivateMoto;
    let database: { url: string; drop: () => Promise<void> };
    let app: TestRuntime;

    beforeAll(async () => {
      moto = await startPrivateMoto();
      database = await freshPostgresUrl();
      app = await startTestRuntime({ AWS_ENDPOINT_URL: moto.endpoint, DATABASE_URL: database.url });
    });
    afterAll(async () => {
      await app?.stop();
      await moto?.stop();
      await database?.drop();
    });

    /**
     * Posts as a client does: events answered `stream_unavailable` are sent again. Every answer
     * must be a 202; answers how many were sent again.
     */
    async function postAll(events: readonly Record<string, unknown>[]): Promise<number> {
      let pending = events;
      let resent = 0;
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        if (attempt > 20) throw new Error(`${pending.length} events still not accepted after 20 attempts`);
        const answer = await app.postEvents(pending);
        expect(answer.status).toBe(202);
        const rejected = answer.body.rejected as { index: number; code: string }[];
        expect(rejected.filter((rejection) => rejection.code !== 'stream_unavailable')).toEqual([]);
        pending = rejected.map((rejection) => pending[rejection.index]!);
        resent += pending.length;
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return resent;
    }

    async function countsByType(): Promise<Record<string, number>> {
      const answer = await app.request('GET', `/v1/metrics/events?from=${from}&to=${to}&interval=hour&groupBy=type`);
      expect(answer.status).toBe(200);
      const counts: Record<string, number> = {};
      for (const series of answer.body.series as { group: { type: string }; points: { count: number }[] }[]) {
        counts[series.group.type] = series.points.reduce((sum, point) => sum + point.count, 0);
      }
      return counts;
    }

    it('recreates what the emulator lost and counts every event accepted after the restart exactly once', async () => {
      // Prepare: counted before the restart, so the checkpoints point into the stream that goes
      const before = twentyEvents('session.started', 'before');
      await postAll(before);
      await app.runtime.drain();
      expect(await countsByType()).toEqual({ 'session.started': 20 });

      // Act
      await moto.restart();
      await postAll(twentyEvents('mood.reported', 'after'));
      // A client that never saw its 202s sends the first events again: they reach the new stream.
      await postAll(before);
      // The first users go on: their keys went with the emulator, so new ones must seal these.
      await postAll(twentyEvents('progress.milestone', 'before'));
      await app.runtime.drain();

      // Assess: the second and third sets counted once, the first still once
      expect(await countsByType()).toEqual({ 'session.started': 20, 'mood.reported': 20, 'progress.milestone': 20 });
      // The aggregate consumer's dead-letter queue answers again (recreated, empty).
      expect(await app.runtime.deadLetters.list(10)).toEqual([]);
    });

    it('reads the new stream from its start when the runtime restarts after the emulator did', async () => {
      // Prepare: the runtime is down while the emulator restarts; start-up creates the stream anew
      await app.runtime.stop();
      await moto.restart();

      // Act
      await app.restart();
      await postAll(twentyEvents('engagement.heartbeat', 'later'));
      await app.runtime.drain();

      // Assess
      expect(await countsByType()).toEqual({ 'session.started': 20, 'mood.reported': 20, 'progress.milestone': 20, 'engagement.heartbeat': 20 });
    });

    it('pages on every channel for a crisis signal that arrives after the emulator restarted', async () => {
      // Prepare: the alert topics, the e-mail template and its verified sender are gone
      await moto.restart();

      // Act
      await postAll([makeEvent({ userId: 'in-crisis', attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')]);
      await app.runtime.detect();

      // Assess
      const { body } = await app.request('GET', '/v1/alerts');
      const [alert, ...others] = body.alerts as { rule: string; notifications: { kind: string; channel: string; status: string }[] }[];
      expect(others).toEqual([]);
      expect(alert?.rule).toBe('crisis-signal');
      expect(alert?.notifications.map((n) => [n.kind, n.channel, n.status]).sort()).toEqual([
        ['firing', 'dashboard', 'delivered'],
        ['firing', 'email', 'delivered'],
        ['firing', 'sns', 'delivered'],
      ]);
    });

    it('answers 503, not 500, for consent and events while the emulator does not answer', async () => {
      // Prepare
      await moto.stop();

      try {
        // Act
        const consent = await app.request('PUT', '/v1/consent/while-down', { body: { analytics: true, research: false, safety_monitoring: true } });
        const events = await app.request('POST', '/v1/events', { body: { events: [makeEvent({ userId: 'also-while-down' })] } });

        // Assess
        expect([consent.status, consent.body.error.code]).toEqual([503, 'consent_unavailable']);
        expect([events.status, events.body.error.code]).toEqual([503, 'consent_unavailable']);
      } finally {
        await moto.restart();
      }
    });

    it('writes a report to the bucket the emulator lost', async () => {
      // Prepare
      await moto.restart();

      // Act
      const created = await app.request('POST', '/v1/reports', { body: { kind: 'research', from, to, epsilon: 0.1 } });
      const { text } = await app.madeReport(created.body.id as string);

      // Assess
      expect(created.status).toBe(202);
      expect(text).toMatch(/^metric,count,/);
    });
  },
  { commands: ['moto_server'] },
);
