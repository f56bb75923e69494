import { randomUUID } from 'node:crypto';
import type { LocalConfig } from '../config/local';
import type { Logger } from '../adapters/log';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { eventBridgeClient, sesClient, snsClient } from '../adapters/aws/clients';
import { EventBridgeInterventions, ensureInterventionBus } from '../adapters/aws/eventbridge-interventions';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { WebhookInterventions } from '../adapters/webhook-interventions';
import { OutboxInterventions } from '../adapters/local/outbox-interventions';
import type { InterventionSender } from '../ports/interventions';
import { makeFollowUps, makeRecommend } from '../use-cases/interventions';
import { SesChannel, ensureAlertTemplate } from '../adapters/aws/ses-channel';
import { SnsChannel, ensureAlertTopics } from '../adapters/aws/sns-channel';
import { DashboardChannel } from '../adapters/dashboard-channel';
import { outboxChannels } from '../adapters/local/outbox-channel';
import type { EventStreamReader, LiveStore, Metrics } from '../ports';
import type { RecordKeyStore } from '../ports/record-keys';
import type { OperationalSeries } from '../ports/anomalies';
import type { NotificationChannel } from '../ports/notifications';
import { makeDeliver } from '../use-cases/deliver';
import { makeDetect } from '../use-cases/detect';
import { LAG_WATCH_EVERY_MS, makeLagWatch } from '../use-cases/consumer-lag';
import type { ConsumerLag } from '../domain/operations/health';
import { MONITOR_EVERY_MS, makeMonitor } from '../use-cases/monitor';
import { makeDetectHandler } from '../handlers/detect';
import { alertConsole, alertManager, ruleEngine, seriesWatch } from '../handlers/monitoring-parts';
import type { AlertConsole } from '../use-cases/alert-manager';
import { STREAM_CONSUMERS, interventionOutboxPath, openDeadLetters, outboxPath, recreatedWhenLost, sleep, systemClock, withClient } from './adapters';
import { RepeatingJob } from './repeating-job';
import { StreamPoller, type PollerStatus } from './stream-poller';

/**
 * The stack's detect event source mapping (lib/monitoring.ts), played by a poller. Enhanced
 * fan-out pushes records as they arrive; here ingest nudges the poller after each put, and the
 * interval only covers records put by someone else.
 */
const DETECT_MAPPING = { batchSize: 100, maxBatchingWindowMs: 0, retryAttempts: 3, bisectBatchOnError: true, maxRecordAgeMs: 5 * 60_000, pollIntervalMs: 250 } as const;

export interface LocalMonitoring {
  readonly console: AlertConsole;
  /** One monitor run now (series, absences, repeats, escalations), as the schedule does every minute. */
  monitor(): Promise<void>;
  readonly erasable: { readonly conditions: SqlConditionStore };
}

export interface DetectConsumer {
  /** Every record on the stream now, through the safety rules. */
  drain(): Promise<void>;
  /** Polls now: ingest calls it after each put, as fan-out pushes records on arrival. */
  nudge(): void;
  /** Resolves once the consumer has read to the end of the stream, or after `atMostMs`. */
  caughtUp(atMostMs: number): Promise<void>;
  status(): PollerStatus;
}

interface MonitoringStores {
  readonly config: LocalConfig;
  /** The analytics database through a connection that goes before bulk work: rules, alerts and their notifications. */
  readonly safety: SqlDatabase;
  /** The dashboard's alert feed (Redis, or the aggregator thread's in-process store). */
  readonly feed: Pick<LiveStore, 'pushCapped' | 'publish'>;
  /** The runtime's metrics (in the aggregator thread, passed on to them): alert latency, interventions, history signals. */
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** Alerts reach SNS and SES on the emulator when one is configured; otherwise an outbox file in the data folder stands in for both. */
async function notificationChannels(config: LocalConfig, feed: Pick<LiveStore, 'pushCapped' | 'publish'>, logger: Logger): Promise<NotificationChannel[]> {
  const dashboard = new DashboardChannel(feed);
  const outbox = outboxPath(config);
  if (outbox !== undefined) return [...outboxChannels(outbox), dashboard];
  const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
  const templateName = `${config.STREAM_NAME}-alert`;
  const createTemplate = () => withClient(sesClient(endpoint), (client) => ensureAlertTemplate(client, templateName, config.ALERT_EMAIL_FROM));
  const createTopics = () => withClient(snsClient(endpoint), (client) => ensureAlertTopics(client, config.STREAM_NAME));
  await createTemplate();
  const topics = await createTopics();
  // A page must not be lost to an emulator restart: topics (same ARNs), template and sender come back.
  const sns = recreatedWhenLost(snsClient(endpoint), { resource: 'sns alert topics', lostWhen: ['NotFoundException'], recreate: async () => void (await createTopics()), logger });
  // An emulator restarted empty forgets the verified sender first (MessageRejected), then the template.
  const ses = recreatedWhenLost(sesClient(endpoint), { resource: `ses template ${templateName}`, lostWhen: ['MessageRejected', 'TemplateDoesNotExistException'], recreate: createTemplate, logger });
  return [
    new SnsChannel(sns, topics),
    new SesChannel(ses, { templateName, from: config.ALERT_EMAIL_FROM, to: config.ALERT_EMAIL_TO }),
    dashboard,
  ];
}

/**
 * Where interventions go: the app's webhook when configured, else the emulator's bus (made here,
 * as the stack makes it in AWS), else an outbox file of their own in the data folder.
 */
async function interventionSender(config: LocalConfig): Promise<InterventionSender> {
  if (config.INTERVENTION_WEBHOOK_URL !== undefined && config.INTERVENTION_WEBHOOK_SECRET !== undefined) {
    return new WebhookInterventions(config.INTERVENTION_WEBHOOK_URL, config.INTERVENTION_WEBHOOK_SECRET, systemClock);
  }
  const outbox = outboxPath(config);
  if (outbox !== undefined) return new OutboxInterventions(interventionOutboxPath(config));
  const client = eventBridgeClient({ endpoint: config.AWS_ENDPOINT_URL });
  return new EventBridgeInterventions(client, await ensureInterventionBus(client, `${config.STREAM_NAME}-interventions`));
}

async function notifyingParts({ config, safety, feed, metrics, logger }: MonitoringStores) {
  const deliver = makeDeliver({ channels: await notificationChannels(config, feed, logger), sleep, clock: systemClock, logger });
  const dashboardUrl = config.DASHBOARD_URL ?? `http://${config.HOST}:${config.PORT}`;
  return { rules: ruleEngine(safety, systemClock), alerts: alertManager(safety, { deliver, sleep, dashboardUrl, clock: systemClock, newId: randomUUID, logger, metrics }) };
}

/**
 * The detect consumer, in the aggregator's thread: in AWS it is a function of its own, and on the
 * HTTP thread its batches held ingest's answers back (p95 up by 5-7 ms at 1,000 events/s).
 */
export async function startDetectConsumer(
  options: MonitoringStores & {
    readonly streaming: SqlDatabase;
    readonly stream: EventStreamReader;
    readonly keys: Pick<RecordKeyStore, 'keysById'>;
    readonly closers: (() => Promise<void>)[];
  },
): Promise<DetectConsumer> {
  const { config, streaming, stream, keys, metrics, closers, logger } = options;
  const interventions = new SqlInterventionStore(options.safety);
  const poller = new StreamPoller({
    consumer: STREAM_CONSUMERS.detect,
    reader: stream,
    checkpoints: new SqlCheckpointStore(streaming),
    deadLetters: await openDeadLetters(config, streaming, 'detect', logger),
    handler: makeDetectHandler({
      detect: makeDetect({
        ...(await notifyingParts(options)),
        recommend: makeRecommend({ store: interventions, sender: await interventionSender(config), clock: systemClock, sleep, logger, metrics }),
        followUp: makeFollowUps(interventions),
      }),
      logger,
      keys,
      metrics,
    }),
    ...DETECT_MAPPING,
    clock: systemClock,
    sleep,
    logger,
  });
  poller.start();
  closers.push(() => poller.stop());
  return { drain: () => poller.drain(), nudge: () => poller.nudge(), caughtUp: (atMostMs) => poller.caughtUp(atMostMs), status: () => poller.status() };
}

/**
 * The monitor job, the watch on the detect consumer's lag and the alerts console, in the runtime's
 * main thread: the lag is read from the stream and the checkpoints, so a detect consumer that
 * stalls, or whose thread died, is paged about from outside it.
 */
export async function startMonitoring(
  options: MonitoringStores & {
    /** The series watch's reads and the console's: as any query, in turn. */
    readonly analytics: SqlDatabase;
    readonly operational: OperationalSeries;
    readonly lag: (consumer: string) => Promise<ConsumerLag>;
    readonly closers: (() => Promise<void>)[];
  },
): Promise<LocalMonitoring> {
  const { analytics, operational, closers, logger } = options;
  const { rules, alerts } = await notifyingParts(options);
  const monitor = makeMonitor({ series: seriesWatch(analytics, operational, systemClock, logger), rules, alerts });
  const monitorJob = new RepeatingJob('monitor', MONITOR_EVERY_MS, () => monitor(), logger).start();
  closers.push(() => monitorJob.stop());
  const watchLag = makeLagWatch({ consumer: 'detect', lag: options.lag, rules, alerts, clock: systemClock });
  const lagJob = new RepeatingJob('detect lag watch', LAG_WATCH_EVERY_MS, () => watchLag(), logger).start();
  closers.push(() => lagJob.stop());
  return {
    console: alertConsole(analytics, systemClock, randomUUID),
    monitor: () => monitorJob.runNow(),
    erasable: { conditions: new SqlConditionStore(analytics) },
  };
}
