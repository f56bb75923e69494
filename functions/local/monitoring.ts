import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { LocalConfig } from '../config/local';
import type { Logger } from '../adapters/log';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { sesClient, snsClient } from '../adapters/aws/clients';
import { SesChannel, ensureAlertTemplate } from '../adapters/aws/ses-channel';
import { SnsChannel, ensureAlertTopics } from '../adapters/aws/sns-channel';
import { DashboardChannel } from '../adapters/dashboard-channel';
import { outboxChannels } from '../adapters/local/outbox-channel';
import type { EventStreamReader, EventStreamWriter, LiveStore } from '../ports';
import type { OperationalSeries } from '../ports/anomalies';
import type { NotificationChannel } from '../ports/notifications';
import { makeDeliver } from '../use-cases/deliver';
import { makeDetect } from '../use-cases/detect';
import { MONITOR_EVERY_MS, makeMonitor } from '../use-cases/monitor';
import { makeDetectHandler } from '../handlers/detect';
import { alertConsole, alertManager, ruleEngine, seriesWatch } from '../handlers/monitoring-parts';
import type { AlertConsole } from '../use-cases/alert-manager';
import { openDeadLetters, sleep, systemClock } from './adapters';
import { RepeatingJob } from './repeating-job';
import { StreamPoller } from './stream-poller';

/**
 * The stack's detect event source mapping (lib/monitoring.ts), played by a poller. Enhanced
 * fan-out pushes records as they arrive; here ingest nudges the poller after each put, and the
 * interval only covers records put by someone else.
 */
const DETECT_MAPPING = { batchSize: 100, maxBatchingWindowMs: 0, retryAttempts: 3, bisectBatchOnError: true, maxRecordAgeMs: 5 * 60_000, pollIntervalMs: 250 } as const;

export interface LocalMonitoring {
  /** The stream as ingest writes it: each put wakes the detect consumer. */
  readonly ingestStream: EventStreamWriter;
  readonly console: AlertConsole;
  /** Every record on the stream now, through the safety rules. */
  drain(): Promise<void>;
  /** One monitor run now (series, absences, repeats, escalations), as the schedule does every minute. */
  monitor(): Promise<void>;
  readonly erasable: { readonly conditions: SqlConditionStore };
}

/** Alerts reach SNS and SES on the emulator when one is configured; otherwise an outbox file in the data folder stands in for both. */
async function notificationChannels(config: LocalConfig, feed: LiveStore): Promise<NotificationChannel[]> {
  const dashboard = new DashboardChannel(feed);
  if (!config.AWS_ENDPOINT_URL) return [...outboxChannels(join(resolve(config.DATA_DIR), 'alerts', 'outbox.jsonl')), dashboard];
  const sns = snsClient({ endpoint: config.AWS_ENDPOINT_URL });
  const ses = sesClient({ endpoint: config.AWS_ENDPOINT_URL });
  const templateName = `${config.STREAM_NAME}-alert`;
  await ensureAlertTemplate(ses, templateName, config.ALERT_EMAIL_FROM);
  return [
    new SnsChannel(sns, await ensureAlertTopics(sns, config.STREAM_NAME)),
    new SesChannel(ses, { templateName, from: config.ALERT_EMAIL_FROM, to: config.ALERT_EMAIL_TO }),
    dashboard,
  ];
}

export async function startMonitoring(options: {
  readonly config: LocalConfig;
  readonly analytics: SqlDatabase;
  readonly streaming: SqlDatabase;
  readonly stream: EventStreamWriter & EventStreamReader;
  /** The dashboard's alert feed (Redis, or in-process). */
  readonly feed: LiveStore;
  readonly operational: OperationalSeries;
  readonly closers: (() => Promise<void>)[];
  readonly logger: Logger;
}): Promise<LocalMonitoring> {
  const { config, analytics, streaming, stream, feed, operational, closers, logger } = options;
  const deliver = makeDeliver({ channels: await notificationChannels(config, feed), sleep, clock: systemClock, logger });
  const dashboardUrl = config.DASHBOARD_URL ?? `http://${config.HOST}:${config.PORT}`;
  const rules = ruleEngine(analytics, systemClock);
  const alerts = alertManager(analytics, { deliver, dashboardUrl, clock: systemClock, newId: randomUUID, logger });
  const poller = new StreamPoller({
    consumer: 'detect',
    reader: stream,
    checkpoints: new SqlCheckpointStore(streaming),
    deadLetters: await openDeadLetters(config, streaming, 'detect'),
    handler: makeDetectHandler({ detect: makeDetect({ rules, alerts }), logger }),
    ...DETECT_MAPPING,
    clock: systemClock,
    sleep,
    logger,
  });
  poller.start();
  closers.push(() => poller.stop());
  const monitor = makeMonitor({ series: seriesWatch(analytics, operational, systemClock, logger), rules, alerts });
  const monitorJob = new RepeatingJob('monitor', MONITOR_EVERY_MS, () => monitor(), logger).start();
  closers.push(() => monitorJob.stop());
  return {
    ingestStream: {
      async putRecords(records) {
        const results = await stream.putRecords(records);
        poller.nudge();
        return results;
      },
    },
    console: alertConsole(analytics, systemClock, randomUUID),
    drain: () => poller.drain(),
    monitor: () => monitorJob.runNow(),
    erasable: { conditions: new SqlConditionStore(analytics) },
  };
}
