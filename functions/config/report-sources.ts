import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlAlertStore } from '../adapters/pg/sql-alert-store';
import { SqlAnomalyStore } from '../adapters/pg/sql-anomaly-stores';
import { SqlPatternStore } from '../adapters/pg/sql-behavior-patterns';
import { SqlCohortPopulation, SqlCohortStore } from '../adapters/pg/sql-cohorts';
import { SqlOperationalMinutes } from '../adapters/pg/sql-operational-minutes';
import { SqlOutcomePredictionStore } from '../adapters/pg/sql-outcome-predictions';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { SqlFeatureRows } from '../adapters/pg/sql-user-features';
import { overlayMinutes } from '../domain/anomaly/watched-series';
import type { ReportKind } from '../domain/reports/document';
import type { Clock, DeadLetterQueue } from '../ports';
import type { OperationalSeries } from '../ports/anomalies';
import type { ReportSource } from '../ports/reports';
import { makeCohorts } from '../use-cases/cohorts';
import { makeOperationsReport } from '../use-cases/report-sources/operations';
import { makeOutcomesReport } from '../use-cases/report-sources/outcomes';
import { makeResearchReportSource } from '../use-cases/report-sources/research';

export interface ReportSourceStores {
  /** The analytics database: rollups, features, behaviour models, alerts, anomalies. */
  readonly db: SqlDatabase;
  readonly deadLetters: Pick<DeadLetterQueue, 'headings'>;
  /**
   * Ingest errors and latency per minute, live: CloudWatch in AWS, the runtime's minute metrics
   * locally. Read over the minutes the series watch kept, which reach further back.
   */
  readonly operational: OperationalSeries;
  readonly k: number;
  readonly clock: Clock;
  /** Days hour rollups are kept: local days before then are not summed short. */
  readonly hourRollupDays?: number;
}

/** The report definitions on the product's stores, the same in the report function and the local runtime. */
export function reportSources(stores: ReportSourceStores): Readonly<Record<ReportKind, ReportSource>> {
  const { db, k, clock, hourRollupDays } = stores;
  const rollups = new SqlRollupStore(db);
  const patterns = new SqlPatternStore(db);
  return {
    outcomes: makeOutcomesReport({
      rollups,
      features: new SqlFeatureRows(db),
      cohorts: makeCohorts({ store: new SqlCohortStore(db), population: new SqlCohortPopulation(db), patterns, clock, k, newId: randomUUID }),
      patterns,
      predictions: new SqlOutcomePredictionStore(db),
      k,
      clock,
      hourRollupDays,
    }),
    operations: makeOperationsReport({ rollups, operational: keptUnderLive(new SqlOperationalMinutes(db), stores.operational), alerts: new SqlAlertStore(db), anomalies: new SqlAnomalyStore(db), deadLetters: stores.deadLetters, k, clock, hourRollupDays }),
    research: makeResearchReportSource({ k, clock }),
  };
}

/** The live source's minutes over the kept ones: the kept reach back further, the live hold the minutes not settled yet. */
const keptUnderLive = (kept: OperationalSeries, live: OperationalSeries): OperationalSeries => ({
  async readMinutes(from, to) {
    const [older, newer] = await Promise.all([kept.readMinutes(from, to), live.readMinutes(from, to)]);
    return overlayMinutes(older, newer);
  },
});
