/**
 * The monitoring use cases over their PostgreSQL stores, wired once here for the detect, monitor
 * and alerts functions and for the local runtime, so each gets the same parts.
 */
import type { Logger } from '../adapters/log';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlAlertRuleStore } from '../adapters/pg/sql-alert-rules';
import { SqlAlertStore } from '../adapters/pg/sql-alert-store';
import { SqlAnomalyStore, SqlDetectorStateStore } from '../adapters/pg/sql-anomaly-stores';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { SqlSilenceStore } from '../adapters/pg/sql-silence-store';
import type { Clock } from '../ports';
import type { OperationalSeries } from '../ports/anomalies';
import type { Deliver } from '../ports/notifications';
import { makeAlertConsole, makeAlertManager, type AlertConsole, type AlertManager } from '../use-cases/alert-manager';
import { makeAlertRulesAdmin, makeRuleEngine, type AlertRulesAdmin, type RuleEngine } from '../use-cases/rule-engine';
import { makeSeriesWatch, type SeriesWatch } from '../use-cases/watch-series';

export const alertConsole = (db: SqlDatabase, clock: Clock, newId: () => string): AlertConsole =>
  makeAlertConsole({ alerts: new SqlAlertStore(db), silences: new SqlSilenceStore(db), clock, newId });

export const alertRulesAdmin = (db: SqlDatabase): AlertRulesAdmin => makeAlertRulesAdmin({ rules: new SqlAlertRuleStore(db) });

export const ruleEngine = (db: SqlDatabase, clock: Clock): RuleEngine =>
  makeRuleEngine({ rules: new SqlAlertRuleStore(db), conditions: new SqlConditionStore(db), clock });

export interface Notifying {
  readonly deliver: Deliver;
  readonly dashboardUrl: string;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly logger: Logger;
}

export const alertManager = (db: SqlDatabase, notifying: Notifying): AlertManager =>
  makeAlertManager({ alerts: new SqlAlertStore(db), silences: new SqlSilenceStore(db), ...notifying });

export const seriesWatch = (db: SqlDatabase, operational: OperationalSeries, clock: Clock, logger: Logger): SeriesWatch =>
  makeSeriesWatch({ rollups: new SqlRollupStore(db), operational, states: new SqlDetectorStateStore(db), anomalies: new SqlAnomalyStore(db), clock, logger });
