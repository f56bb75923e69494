/**
 * The monitoring use cases over their PostgreSQL stores, wired once here for the detect, monitor
 * and alerts functions and for the local runtime, so each gets the same parts.
 */
import { randomUUID } from 'node:crypto';
import { redisClient } from '../adapters/redis/redis-client';
import type { Logger } from '../adapters/log';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { connectDatabase, deliveryChannels, notifyingEnv } from '../config/lambda';
import { makeDeliver } from '../use-cases/deliver';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlAlertRuleStore } from '../adapters/pg/sql-alert-rules';
import { SqlAlertStore } from '../adapters/pg/sql-alert-store';
import { SqlRecipientStore } from '../adapters/pg/sql-recipient-store';
import { SqlOperationalMinutes } from '../adapters/pg/sql-operational-minutes';
import { SqlAnomalyStore, SqlDetectorStateStore } from '../adapters/pg/sql-anomaly-stores';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { SqlSilenceStore } from '../adapters/pg/sql-silence-store';
import type { Clock, Metrics, Sleep } from '../ports';
import type { OperationalSeries } from '../ports/anomalies';
import type { Deliver } from '../ports/notifications';
import { makeAlertConsole, makeAlertManager, type AlertConsole, type AlertManager } from '../use-cases/alert-manager';
import { makeAlertRulesAdmin, makeRuleEngine, type AlertRulesAdmin, type RuleEngine } from '../use-cases/rule-engine';
import { makeSeriesWatch, type SeriesWatch } from '../use-cases/watch-series';

export const alertConsole = (db: SqlDatabase, clock: Clock, newId: () => string): AlertConsole =>
  makeAlertConsole({ alerts: new SqlAlertStore(db), silences: new SqlSilenceStore(db), recipients: new SqlRecipientStore(db), clock, newId });

export const alertRulesAdmin = (db: SqlDatabase): AlertRulesAdmin => makeAlertRulesAdmin({ rules: new SqlAlertRuleStore(db) });

export const ruleEngine = (db: SqlDatabase, clock: Clock): RuleEngine =>
  makeRuleEngine({ rules: new SqlAlertRuleStore(db), conditions: new SqlConditionStore(db), clock });

export interface Notifying {
  readonly deliver: Deliver;
  readonly sleep: Sleep;
  readonly dashboardUrl: string;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'observe'>;
}

export const alertManager = (db: SqlDatabase, notifying: Notifying): AlertManager =>
  makeAlertManager({ alerts: new SqlAlertStore(db), silences: new SqlSilenceStore(db), recipients: new SqlRecipientStore(db), ...notifying });

export const seriesWatch = (db: SqlDatabase, operational: OperationalSeries, clock: Clock, logger: Logger): SeriesWatch =>
  makeSeriesWatch({
    rollups: new SqlRollupStore(db),
    operational,
    history: new SqlOperationalMinutes(db),
    states: new SqlDetectorStateStore(db),
    anomalies: new SqlAnomalyStore(db),
    clock,
    logger,
  });

/**
 * What the detect and monitor functions share in AWS, built at cold start: the database, the
 * rules engine, and the alert manager delivering on the stack's topics, template and Redis feed.
 * `metrics` takes the alerts' latency from their events' receipt (detect's; the monitor's alerts
 * come from series and time, not events).
 */
export async function notifyingFunction(logger: Logger, metrics?: Pick<Metrics, 'observe'>) {
  const config = parseEnv(notifyingEnv);
  const clock: Clock = { now: () => new Date() };
  const db = await connectDatabase({ logger });
  const live = new RedisLiveStore(redisClient(config.REDIS_URL, { logger }));
  const sleep: Sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const deliver = makeDeliver({ channels: deliveryChannels(live), sleep, clock, logger });
  return { clock, db, sleep, rules: ruleEngine(db, clock), alerts: alertManager(db, { deliver, sleep, dashboardUrl: config.DASHBOARD_URL, clock, newId: randomUUID, logger, metrics }) };
}
