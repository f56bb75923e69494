import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { Logger } from '../../functions/adapters/log';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import type { AlertMessage, Channel } from '../../functions/domain/alerting/model';
import type { StoredEvent } from '../../functions/domain/events/schema';
import { signalsOfEvent } from '../../functions/domain/alerting/signals';
import { emfMetrics } from '../../functions/adapters/aws/emf-metrics';
import { makeDetectHandler } from '../../functions/handlers/detect';
import { alertManager, ruleEngine } from '../../functions/handlers/monitoring-parts';
import { ALERT_LATENCY_METRIC, METRICS_NAMESPACE } from '../../functions/ports/anomalies';
import type { Deliver } from '../../functions/ports/notifications';
import { makeDetect } from '../../functions/use-cases/detect';
import { makeMonitor } from '../../functions/use-cases/monitor';
import { steppedClock } from '../support/alert-rules';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { MemoryRecordKeys } from '../support/record-keys';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const pseudonym = (n: number) => n.toString(16).padStart(64, '0');

function storedCrisis(user: number, safety = true): StoredEvent {
  const at = new Date(T0 - 60_000).toISOString();
  return {
    v: 1,
    eventId: randomUUID(),
    type: 'crisis.signal',
    occurredAt: at,
    receivedAt: at,
    subject: pseudonym(user),
    session: pseudonym(1000 + user),
    attributes: { severity: 'imminent', source: 'self_report' },
    context: {},
    ...(safety && { safety: true as const }),
  };
}

/** A Kinesis batch as the event source mapping delivers it, with one poison record in the middle. */
function batch(events: readonly StoredEvent[]): KinesisStreamEvent {
  const records = events.map((event) => Buffer.from(JSON.stringify(event)));
  records.splice(1, 0, Buffer.from('not json'));
  return {
    Records: records.map((data, index) => ({
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'p', sequenceNumber: String(index + 1), data: data.toString('base64'), approximateArrivalTimestamp: T0 / 1000 },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${index + 1}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/detect',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
    })),
  };
}

function recordingDeliver(): { deliver: Deliver; sent: AlertMessage[] } {
  const sent: AlertMessage[] = [];
  return {
    sent,
    deliver: async (message, channels) => {
      sent.push(message);
      return channels.map((channel: Channel) => ({ channel, status: 'delivered' as const, attempts: 1, at: new Date(T0) }));
    },
  };
}

describeWithServices(['postgres'], 'the detect path on PostgreSQL', () => {
  let url: string;
  let drop: () => Promise<void>;
  const pools: SqlDatabase[] = [];
  const open = () => {
    const db = postgresDatabase(url, { max: 2 });
    pools.push(db);
    return db;
  };

  beforeEach(async () => {
    ({ url, drop } = await freshPostgresUrl());
    await migrate(open(), 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  });
  afterEach(async () => {
    for (const db of pools.splice(0)) await db.close();
    await drop();
  });

  it('pages once per user when eight detect functions take the same records at once, and reports the poison record', async () => {
    const clock = steppedClock(T0);
    const { deliver, sent } = recordingDeliver();
    const events = [storedCrisis(1), storedCrisis(2), storedCrisis(3, false)];
    // The same records twice in one batch too: a producer's retry.
    const records = batch([...events, events[0]!]);
    const handlers = Array.from({ length: 8 }, () => {
      const db = open();
      const detect = makeDetect({ rules: ruleEngine(db, clock), alerts: alertManager(db, { deliver, sleep: async () => undefined, dashboardUrl: 'https://dashboard.example.org', clock, newId: randomUUID, logger: silent }) });
      // Plain JSON records (as an earlier version put them): no key is asked for.
      return makeDetectHandler({ detect, logger: silent, keys: new MemoryRecordKeys(), metrics: { count: () => undefined } });
    });

    const responses = await Promise.all(handlers.map((handle) => handle(records)));

    expect(responses.map((response) => response.batchItemFailures)).toEqual(Array(8).fill([{ itemIdentifier: '2' }]));
    const paged = sent.flatMap((message) => message.alerts.map((alert) => [message.kind, alert.subject]));
    expect(paged.sort()).toEqual([
      ['firing', `user:${pseudonym(1)}`],
      ['firing', `user:${pseudonym(2)}`],
    ]);
  });

  it("measures each alert's latency from its event's receipt to each channel's send, per channel and severity, as embedded metric lines", async () => {
    const clock = steppedClock(T0);
    const db = open();
    const lines: string[] = [];
    const metrics = emfMetrics(METRICS_NAMESPACE, 'detect', (line) => lines.push(line));
    // The page goes out 1.5 s after the events' receipt (T0 - 60 s) and the dashboard feed 2 s after; e-mail fails.
    const sentAt: Partial<Record<Channel, number>> = { sns: T0 - 58_500, dashboard: T0 - 58_000, email: T0 - 58_000 };
    const deliver: Deliver = async (_message, channels) =>
      channels.map((channel) => (channel === 'email' ? { channel, status: 'undelivered' as const, attempts: 4, at: new Date(sentAt.email!), error: 'Throttling' } : { channel, status: 'delivered' as const, attempts: 1, at: new Date(sentAt[channel]!) }));
    const detect = makeDetect({ rules: ruleEngine(db, clock), alerts: alertManager(db, { deliver, sleep: async () => undefined, dashboardUrl: 'https://dashboard.example.org', clock, newId: randomUUID, logger: silent, metrics }) });
    const handle = makeDetectHandler({ detect, logger: silent, keys: new MemoryRecordKeys(), metrics });
    const events = [storedCrisis(1), storedCrisis(2)];

    await handle(batch(events));
    // Delivered again (a retried batch): no new alert, no new measurement.
    await handle(batch(events));

    const latencies = lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } }).filter((line) => ALERT_LATENCY_METRIC in line);
    expect(latencies.map((line) => [line['channel'], line['severity'], line[ALERT_LATENCY_METRIC]]).sort()).toEqual([
      ['dashboard', 'critical', 2_000],
      ['dashboard', 'critical', 2_000],
      ['sns', 'critical', 1_500],
      ['sns', 'critical', 1_500],
    ]);
    expect(latencies[0]!._aws.CloudWatchMetrics).toEqual([{ Namespace: METRICS_NAMESPACE, Dimensions: [['service', 'channel', 'severity']], Metrics: [{ Name: ALERT_LATENCY_METRIC, Unit: 'Milliseconds' }] }]);
  });

  it('opens, on the next monitor run, an alert whose opening was lost after the rule condition was saved', async () => {
    const clock = steppedClock(T0);
    const db = open();
    const { deliver, sent } = recordingDeliver();
    const rules = ruleEngine(db, clock);
    // The invocation dies between the rules engine's save and the alert's write.
    await rules.observe(signalsOfEvent(storedCrisis(7)));
    const monitor = makeMonitor({
      series: { tick: async () => [] },
      rules,
      alerts: alertManager(db, { deliver, sleep: async () => undefined, dashboardUrl: 'https://dashboard.example.org', clock, newId: randomUUID, logger: silent }),
    });

    await monitor();
    clock.advance(60_000);
    await monitor();

    expect(sent.map((message) => [message.kind, message.alerts.map((alert) => alert.subject)])).toEqual([['firing', [`user:${pseudonym(7)}`]]]);
  });

  it('pages an alert still firing when the series watch fails, and then fails the run', async () => {
    const clock = steppedClock(T0);
    const db = open();
    const { deliver, sent } = recordingDeliver();
    const rules = ruleEngine(db, clock);
    await rules.observe(signalsOfEvent(storedCrisis(8)));
    const outage = new Error('the analytics database is unreachable');
    const monitor = makeMonitor({
      series: { tick: () => Promise.reject(outage) },
      rules,
      alerts: alertManager(db, { deliver, sleep: async () => undefined, dashboardUrl: 'https://dashboard.example.org', clock, newId: randomUUID, logger: silent }),
    });

    await expect(monitor()).rejects.toBe(outage);

    expect(sent.map((message) => [message.kind, message.alerts.map((alert) => alert.subject)])).toEqual([['firing', [`user:${pseudonym(8)}`]]]);
  });
});
