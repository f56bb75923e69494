import { randomUUID } from 'node:crypto';
import { effectivenessQuerySchema, effectivenessWeeks, releaseEffectiveness } from '../domain/alerting/intervention-effectiveness';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import type { InterventionStore } from '../ports/interventions';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { parseEnv } from '../config/env';
import { METRICS_NAMESPACE, connectDatabase, functionUrlVerifier, queryEnv } from '../config/lambda';
import { emfMetrics } from '../adapters/aws/emf-metrics';
import { openApiDocument } from '../domain/api/openapi';
import { QueryError } from '../domain/rollups/metric-query';
import { describeMetrics } from '../domain/rollups/catalogue';
import { INTERVAL_MS } from '../domain/rollups/rollup';
import type { Clock } from '../ports';
import type { RollupReader } from '../ports/rollups';
import type { AuditLog } from '../ports/audit';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { queryMetric } from '../use-cases/query-metric';
import { badRequest, invalidBody } from './http/errors';
import { lazyHandler } from './lazy';
import type { BearerVerifier } from './http/bearer';
import { callerOf, json, jsonBody, noteForAudit, onlyParameters, routedHandler, type HttpEvent, type HttpResult } from './http/middleware';
import { ROUTES } from './http/roles';
import { RESEARCH_DATASET, researchExportSchema } from '../domain/privacy/research-release';
import { budgetExhausted, reportRoutes } from './report-routes';
import { makeReports, type Reports } from '../use-cases/reports';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { SqlReportScheduleStore } from '../adapters/pg/sql-report-schedules';
import { S3ObjectStore } from '../adapters/aws/s3-object-store';
import { s3Client, schedulerClient, sqsClient } from '../adapters/aws/clients';
import { SqsReportJobQueue } from '../adapters/aws/sqs-report-jobs';
import { SchedulerReportTimers } from '../adapters/aws/scheduler-report-timers';
import { makeResearchRelease } from '../use-cases/research-report';
import { remainingBudget, type PrivacyBudget } from '../domain/privacy/noise/privacy-budget';
import type { PrivacyLedger } from '../ports/privacy-ledger';
import { SqlPrivacyLedger } from '../adapters/pg/sql-privacy-ledger';
import { SqlResearchValues } from '../adapters/pg/sql-research-values';
import { cryptoRandomBits } from '../adapters/crypto-random';
import { makeResearchExport, type ResearchExport } from '../use-cases/research-export';
import { makeCohorts, type Cohorts } from '../use-cases/cohorts';
import { SqlCohortPopulation, SqlCohortStore } from '../adapters/pg/sql-cohorts';
import { cohortRoutes } from './cohort-routes';
import { dashboardRoutes } from './dashboard-routes';
import { makeDashboards, type Dashboards } from '../use-cases/dashboards';
import { SqlDashboardStore } from '../adapters/pg/sql-dashboards';
import type { OutcomePredictionStore } from '../ports/outcomes';
import { SqlOutcomePredictionStore } from '../adapters/pg/sql-outcome-predictions';
import { predictionsQuerySchema, releasePredictions } from '../domain/behaviour/outcome-predictions';
import { releaseGate } from '../domain/privacy/release-gate';
import { issueMessage } from '../domain/api/issue-message';
import type { PatternStore } from '../ports/patterns';
import { SqlPatternStore } from '../adapters/pg/sql-behavior-patterns';
import { PATTERN_KINDS, releasePatterns, type PatternKind } from '../domain/behaviour/patterns';

export interface QueryHandlerDeps {
  readonly rollups: RollupReader;
  readonly reports: Reports;
  readonly researchExport: ResearchExport;
  readonly budget: { readonly ledger: PrivacyLedger; readonly total: PrivacyBudget };
  readonly cohorts: Cohorts;
  readonly dashboards: Dashboards;
  readonly patterns: Pick<PatternStore, 'latest'>;
  readonly audit: AuditLog;
  readonly predictions: OutcomePredictionStore;
  readonly interventions: Pick<InterventionStore, 'effectiveness'>;
  readonly k: number;
  /** Days hour rollups are kept; when given, local calendars older than that are refused, not answered short. */
  readonly hourRollupDays?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly verifyBearer?: BearerVerifier;
}

const METRIC_PARAMETERS = ['from', 'to', 'interval', 'groupBy', 'timeZone', 'filter'];

async function getMetric(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, METRIC_PARAMETERS);
  const query = event.queryStringParameters ?? {};
  try {
    const hoursKeptFrom = deps.hourRollupDays === undefined ? undefined : deps.clock.now().getTime() - deps.hourRollupDays * INTERVAL_MS.day;
    const answer = await queryMetric(deps.rollups, { metric: event.pathParameters?.['metric'], ...query }, { k: deps.k, hoursKeptFrom });
    // The validated query as answered: the range widened to whole buckets is the data read.
    noteForAudit(event, { metric: answer.metric, interval: answer.interval, timeZone: answer.timeZone, from: answer.from, to: answer.to, groupBy: answer.groupBy, ...(answer.filter && { filter: answer.filter }) });
    return json(200, answer, { 'cache-control': 'no-store' });
  } catch (error) {
    if (error instanceof QueryError) throw badRequest('invalid_parameter', `${error.parameter}: ${error.message}`, { parameter: error.parameter });
    throw error;
  }
}

/** POST /v1/research/exports: a differentially private release that spends from the research budget. */
async function postResearchExport(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const parsed = researchExportSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const result = await deps.researchExport(parsed.data, callerOf(event));
  noteForAudit(event, { ...parsed.data, outcome: result.status });
  if (result.status === 'refused') throw budgetExhausted(result.remaining);
  const request = parsed.data;
  const answer = { dataset: RESEARCH_DATASET, metric: request.metric, from: request.from, to: request.to, mechanism: request.mechanism, maxContributionsPerUser: request.maxContributionsPerUser };
  if (result.status === 'suppressed') return json(200, { ...answer, suppressed: [result.suppressed] }, { 'cache-control': 'no-store' });
  return json(200, { ...answer, ...result.release, budgetRemaining: result.remaining }, { 'cache-control': 'no-store' });
}

/** GET /v1/privacy/budget: each dataset's budget, what its releases spent, and what is left. */
async function getBudget(deps: QueryHandlerDeps): Promise<HttpResult> {
  const spends = await deps.budget.ledger.spent(RESEARCH_DATASET);
  // Shown to 12 significant digits: a float sum of 0.1 and 0.2 would print its rounding.
  const total = (part: 'epsilon' | 'delta') => Number(spends.reduce((sum, cost) => sum + cost[part], 0).toPrecision(12));
  const spent = { epsilon: total('epsilon'), delta: total('delta') };
  return json(200, {
    datasets: [{ dataset: RESEARCH_DATASET, composition: 'sequential', budget: deps.budget.total, spent, remaining: remainingBudget(deps.budget.total, spends), releases: spends.length }],
  });
}

/** GET /v1/predictions: the newest outcome model and its cohorts' predictions, small cohorts withheld. */
async function getPredictions(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['cohort']);
  const parsed = predictionsQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest('invalid_parameter', issueMessage(issue), { parameter: String(issue.path[0]) });
  }
  const { cohort } = parsed.data;
  const latest = await deps.predictions.latest('phq9_reliable_improvement');
  const released = releasePredictions(latest ? await deps.predictions.predictions(latest.version, cohort) : [], releaseGate(deps.k));
  noteForAudit(event, { ...(cohort && { cohort }), model: latest?.version ?? null, count: released.predictions.length });
  const model = latest && { version: latest.version, trainedAt: latest.trainedAt, outcome: latest.outcome, quality: latest.quality, live: latest.live };
  return json(200, { model, ...released }, { 'cache-control': 'no-store' });
}

/** GET /v1/interventions/effectiveness: per UTC week and intervention type, each withheld under k users. */
async function getInterventionEffectiveness(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['from', 'to']);
  const parsed = effectivenessQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const parameter = String(issue.path[0]);
    throw badRequest('invalid_parameter', `${parameter}: ${issueMessage(issue)}`, { parameter });
  }
  const weeks = effectivenessWeeks(parsed.data, deps.clock.now());
  if ('error' in weeks) throw badRequest('invalid_parameter', `${weeks.parameter}: ${weeks.error}`, { parameter: weeks.parameter });
  const answer = releaseEffectiveness(await deps.interventions.effectiveness(new Date(weeks.from), new Date(weeks.to)), weeks, deps.k);
  noteForAudit(event, { from: answer.from, to: answer.to, count: answer.weeks.reduce((sum, week) => sum + week.types.length, 0) });
  return json(200, answer, { 'cache-control': 'no-store' });
}

/** GET /v1/patterns: the newest fit's patterns of at least k users; the others listed as suppressed. */
async function getPatterns(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['kind']);
  const kind = event.queryStringParameters?.['kind'];
  if (kind !== undefined && !(PATTERN_KINDS as readonly string[]).includes(kind)) {
    throw badRequest('invalid_parameter', `kind: must be one of ${PATTERN_KINDS.join(', ')}`, { parameter: 'kind' });
  }
  const stored = await deps.patterns.latest();
  const answer = stored ? releasePatterns(stored, deps.k, kind as PatternKind | undefined) : { model: null, patterns: [], suppressed: [] };
  noteForAudit(event, { kind: kind ?? 'any', ...(answer.model && { version: answer.model.version }), count: answer.patterns.length });
  return json(200, answer, { 'cache-control': 'no-store' });
}

/** The read side of the API: metrics, research exports, the privacy budget, dashboards and GET /openapi.json. */
export function makeQueryHandler(deps: QueryHandlerDeps) {
  const document = JSON.stringify(openApiDocument(ROUTES));
  const catalogue = { metrics: describeMetrics() };
  return routedHandler(
    {
      'GET /v1/metrics': async () => json(200, catalogue),
      'GET /v1/metrics/{metric}': (event) => getMetric(deps, event),
      'POST /v1/research/exports': (event) => postResearchExport(deps, event),
      'GET /v1/privacy/budget': () => getBudget(deps),
      ...reportRoutes(deps.reports),
      ...cohortRoutes(deps.cohorts),
      ...dashboardRoutes(deps.dashboards),
      'GET /v1/predictions': (event) => getPredictions(deps, event),
      'GET /v1/interventions/effectiveness': (event) => getInterventionEffectiveness(deps, event),
      'GET /v1/patterns': (event) => getPatterns(deps, event),
      'GET /openapi.json': async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: document }),
    },
    { logger: deps.logger, verifyBearer: deps.verifyBearer, audit: { log: deps.audit, clock: deps.clock } },
  );
}

const logger = lambdaLogger('query');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(queryEnv);
    const db = await connectDatabase({ logger });
    const ledger = new SqlPrivacyLedger(db);
    const clock = { now: () => new Date() };
    const total = { epsilon: config.PRIVACY_BUDGET_EPSILON, delta: config.PRIVACY_BUDGET_DELTA };
    const release = { values: new SqlResearchValues(db), ledger, budget: total, k: config.K_ANONYMITY, random: cryptoRandomBits(), clock };
    const patterns = new SqlPatternStore(db);
    return makeQueryHandler({
      rollups: new SqlRollupStore(db),
      researchExport: makeResearchExport(release),
      reports: makeReports({
        index: new SqlReportIndex(db),
        schedules: new SqlReportScheduleStore(db),
        jobs: new SqsReportJobQueue(sqsClient(), config.REPORT_QUEUE_URL),
        timers: new SchedulerReportTimers(schedulerClient(), { groupName: config.REPORT_SCHEDULE_GROUP, queueArn: config.REPORT_QUEUE_ARN, roleArn: config.REPORT_SCHEDULER_ROLE_ARN }),
        objects: new S3ObjectStore(s3Client(), config.REPORT_BUCKET),
        researchRelease: makeResearchRelease({ ...release, metrics: emfMetrics(METRICS_NAMESPACE, 'query') }),
        clock,
        newId: randomUUID,
      }),
      budget: { ledger, total },
      cohorts: makeCohorts({ store: new SqlCohortStore(db), population: new SqlCohortPopulation(db), patterns, clock, k: config.K_ANONYMITY, newId: randomUUID }),
      dashboards: makeDashboards({
        store: new SqlDashboardStore(db),
        clock,
        newId: randomUUID,
        retention: { minuteRollupDays: config.RETENTION_MINUTE_ROLLUP_DAYS, hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS },
      }),
      patterns,
      audit: new SqlAuditLog(db),
      predictions: new SqlOutcomePredictionStore(db),
      interventions: new SqlInterventionStore(db),
      k: config.K_ANONYMITY,
      hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS,
      clock: { now: () => new Date() },
      logger,
      verifyBearer: functionUrlVerifier(),
    });
  }),
);
