import { releasePatterns } from '../../domain/behaviour/patterns';
import { releasePredictions } from '../../domain/behaviour/outcome-predictions';
import { releaseGate } from '../../domain/privacy/release-gate';
import type { ReportCell, ReportDocument, ReportSection } from '../../domain/reports/document';
import { dailySeries, metricTrendSection, type MetricSeriesAnswers } from '../../domain/reports/metric-trends';
import { assessmentSection, tallyOutcomes, type OutcomeTally } from '../../domain/reports/outcome-sections';
import { cohortSection, groupTotals, interventionSection, nearestUtcDays, patternSection, periodUnit, predictionSection, previousPeriod, summarySection, type Bounds } from '../../domain/reports/outcome-report';
import { figuresParametersSchema } from '../../domain/reports/request';
import { periodFigure, type PeriodAggregate } from '../../domain/reports/trends';
import { QueryError, type MetricAnswer } from '../../domain/rollups/metric-query';
import { INTERVAL_MS } from '../../domain/rollups/rollup';
import type { Clock } from '../../ports';
import type { FeatureRows } from '../../ports/features';
import type { OutcomePredictionStore } from '../../ports/outcomes';
import type { PatternStore } from '../../ports/patterns';
import type { OnReportProgress, ReportSource } from '../../ports/reports';
import type { RollupReader } from '../../ports/rollups';
import type { Cohorts } from '../cohorts';
import { queryMetric } from '../query-metric';
import { newestEventsEnd, readRun } from './run-fields';

export interface OutcomesReportDeps {
  readonly rollups: RollupReader;
  /** Every user's feature row: the assessment outcomes are tallied from them, as the outcome model reads them. */
  readonly features: FeatureRows;
  /** GET /v1/cohorts' own listing, so the report's cohort sizes pass the same release rule. */
  readonly cohorts: Pick<Cohorts, 'list'>;
  readonly patterns: Pick<PatternStore, 'latest'>;
  readonly predictions: Pick<OutcomePredictionStore, 'latest' | 'predictions'>;
  readonly k: number;
  readonly clock: Clock;
  /** Days hour rows are kept (RETENTION_HOUR_ROLLUP_DAYS): local days before then cannot be summed, as GET /v1/metrics refuses them. */
  readonly hourRollupDays?: number;
}

/** The engagement metrics of the catalogue, each compared by the mean of a day (periods differ in length). */
const ENGAGEMENT: readonly { readonly metric: string; readonly label: string; readonly unit: string; readonly figure: MetricSeriesAnswers['figure']; readonly aggregate: PeriodAggregate }[] = [
  { metric: 'sessions', label: 'Sessions started', unit: 'sessions', figure: 'count', aggregate: 'mean' },
  { metric: 'sessions.completed', label: 'Sessions completed', unit: 'sessions', figure: 'count', aggregate: 'mean' },
  { metric: 'active_users', label: 'Active users', unit: 'users', figure: 'count', aggregate: 'mean' },
  { metric: 'session.duration', label: 'Session length', unit: 's', figure: 'mean', aggregate: 'mean' },
  { metric: 'mood.valence', label: 'Mood valence', unit: 'valence from -1 to 1', figure: 'mean', aggregate: 'mean' },
];

const STAGES = ['engagement', 'interventions', 'assessments', 'cohorts', 'patterns', 'predictions'] as const;
const FEATURE_PAGE = 1_000;
const WITHHELD: ReportCell = { withheld: 'k_anonymity' };

/**
 * The therapeutic-outcome report (issue 17): engagement trends and benchmarks, interventions,
 * assessment outcomes, and the cohorts, patterns and predictions of the behaviour analysis, for
 * the run's period in the reader's zone. Every figure goes through the release rule of the API
 * route that shows it.
 */
export function makeOutcomesReport(deps: OutcomesReportDeps): ReportSource {
  return async function gatherOutcomes(run, onProgress: OnReportProgress): Promise<ReportDocument> {
    const { period } = run;
    const { timeZone } = period;
    const parameters = readRun('outcomes', figuresParametersSchema, run.parameters, 'parameters');
    const now = deps.clock.now();
    const current: Bounds = { from: Date.parse(period.from), to: Date.parse(period.to) };
    const previous = previousPeriod(current, timeZone);
    const baseline = parameters.baseline && { from: Date.parse(parameters.baseline.from), to: Date.parse(parameters.baseline.to) };
    const hoursKeptFrom = deps.hourRollupDays === undefined ? undefined : now.getTime() - deps.hourRollupDays * INTERVAL_MS.day;
    const query = (metric: string, bounds: Bounds, interval: string, groupBy: readonly string[] = []) =>
      queryMetric(deps.rollups, { metric, from: new Date(bounds.from).toISOString(), to: new Date(bounds.to).toISOString(), interval, timeZone, groupBy: [...groupBy] }, { k: deps.k, hoursKeptFrom });
    let done = 0;
    const progress = (stage: string) => onProgress({ stage, done: ++done, total: STAGES.length });

    // A baseline whose hours are purged, or out of the instants the API takes, cannot be compared: the report says why.
    let baselineProblem: string | undefined;
    const baselineOf = async (metric: string): Promise<MetricAnswer | undefined> => {
      if (!baseline || baselineProblem) return undefined;
      try {
        return await query(metric, baseline, 'day');
      } catch (error) {
        if (!(error instanceof QueryError)) throw error;
        baselineProblem = error.message;
        return undefined;
      }
    };
    const engagement: MetricSeriesAnswers[] = [];
    for (const metric of ENGAGEMENT) {
      const [currentAnswer, previousAnswer, baselineAnswer] = await Promise.all([query(metric.metric, current, 'day'), query(metric.metric, previous, 'day'), baselineOf(metric.metric)]);
      engagement.push({ ...metric, current: currentAnswer, previous: previousAnswer, ...(baselineAnswer && !baselineProblem && { baseline: baselineAnswer }) });
    }
    const engagementSection = metricTrendSection('engagement', 'Engagement', engagement);
    const [totals, newest] = await Promise.all([periodTotals(engagement, current, timeZone, query), newestEventsEnd(deps.rollups, current)]);
    progress('engagement');

    const overStoredDays = async (bounds: Bounds) => {
      const days = nearestUtcDays(bounds);
      const iso = (at: number) => new Date(at).toISOString();
      const read = (metric: string, groupBy: string[], filter?: string) =>
        queryMetric(deps.rollups, { metric, from: iso(days.from), to: iso(days.to), interval: 'day', groupBy, ...(filter && { filter }) }, { k: deps.k });
      const figures = async (groupBy: string[]) => {
        const [delivered, completed, rated] = await Promise.all([read('interventions', groupBy), read('interventions', groupBy, 'completion:completed'), read('intervention.effectiveness', groupBy)]);
        return { delivered, completed, rated };
      };
      const [byType, all] = await Promise.all([figures(['interventionType']), figures([])]);
      return { byType, all, buckets: (days.to - days.from) / INTERVAL_MS.day, days };
    };
    const [interventionsNow, interventionsBefore] = await Promise.all([overStoredDays(current), overStoredDays(previous)]);
    const { days } = interventionsNow;
    const interventions = interventionSection(interventionsNow, interventionsBefore, days.from === current.from && days.to === current.to ? undefined : days);
    progress('interventions');

    const tallies = new Map<string, OutcomeTally>();
    for await (const page of deps.features.pages(FEATURE_PAGE)) {
      for (const [, state] of page) tallyOutcomes(tallies, state, { current, previous }, now.getTime());
    }
    const assessments = assessmentSection(tallies, deps.k);
    progress('assessments');

    const { cohorts } = await deps.cohorts.list();
    progress('cohorts');

    const storedPatterns = await deps.patterns.latest();
    const patterns = patternSection(storedPatterns && releasePatterns(storedPatterns, deps.k), storedPatterns);
    progress('patterns');

    const model = await deps.predictions.latest('phq9_reliable_improvement');
    const released = releasePredictions(model ? await deps.predictions.predictions(model.version) : [], releaseGate(deps.k));
    const predictions = predictionSection({ model: model ?? null, ...released }, new Map(cohorts.map((cohort) => [cohort.id, cohort.name])));
    progress('predictions');

    const sections: ReportSection[] = [
      summarySection({ period, ...totals, baseline, ...(baselineProblem !== undefined && { baselineProblem }), k: deps.k }),
      assessments,
      engagementSection,
      interventions,
      cohortSection(cohorts),
      patterns,
      predictions,
    ];
    return {
      kind: 'outcomes',
      title: `Therapeutic outcomes, ${period.label}`,
      period,
      generatedAt: now.toISOString(),
      dataThrough: newest === undefined ? null : new Date(Math.min(newest, current.to, now.getTime())).toISOString(),
      k: deps.k,
      sections,
    };
  };
}

type Query = (metric: string, bounds: Bounds, interval: string) => Promise<MetricAnswer>;

/**
 * The period's totals of sessions, completed sessions and distinct active users. A period that is
 * one calendar unit is read as that one bucket; another has its days summed where none was
 * withheld, and no distinct total (people active on two days are one person).
 */
async function periodTotals(engagement: readonly MetricSeriesAnswers[], bounds: Bounds, timeZone: string, query: Query): Promise<{ sessions: ReportCell; completedSessions: ReportCell; activeUsers: ReportCell }> {
  const unit = periodUnit(bounds, timeZone);
  const metrics = ['sessions', 'sessions.completed', 'active_users'] as const;
  if (unit) {
    const [sessions, completedSessions, activeUsers] = await Promise.all(metrics.map(async (metric) => groupTotals(await query(metric, bounds, unit), 1)({})));
    return { sessions: sessions!, completedSessions: completedSessions!, activeUsers: activeUsers! };
  }
  const summed = (metric: string): ReportCell => {
    const answer = engagement.find((entry) => entry.current.metric === metric)!.current;
    const figure = periodFigure(dailySeries(answer, 'count'), 'sum');
    return figure.value ?? (figure.reason === 'suppressed' ? WITHHELD : 0);
  };
  return { sessions: summed('sessions'), completedSessions: summed('sessions.completed'), activeUsers: null };
}
