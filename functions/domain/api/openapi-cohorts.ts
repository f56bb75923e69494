import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { COMPARABLE_METRIC_NAMES } from '../behaviour/cohort-comparison';
import { cohortDefinitionSchema, newCohortSchema, type Retention } from '../behaviour/cohorts';
import { BODY_ERRORS, NO_STORE, json, registerRoute, type RouteTable } from './openapi-route';

/*
 * Cohorts: stored definitions, week-N retention and comparisons. Answers are described here,
 * each example typed so it cannot drift from the answer it shows.
 */

const tags = ['Behaviour'];
const COHORT_ID = '4d2b7c1e-9a3f-4e6b-8c5d-2f1a0b9e8d7c';
const OTHER_ID = '7e5a3c9b-1d2f-4a8e-9b6c-3e4f5a6b7c8d';
const withheld = z.array(z.object({ reason: z.literal('k_anonymity') })).meta({ description: 'One entry when anything was withheld; it names nothing.' });

const cohort = z
  .object({
    id: z.uuid(),
    name: z.string(),
    definition: cohortDefinitionSchema,
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Cohort' });
const cohortExample = { id: COHORT_ID, name: 'iOS, first seen in October', definition: { all: [{ attribute: { platform: 'ios' } }, { firstSeen: { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' } }] }, createdAt: '2026-11-20T09:58:41.000Z' };

const cohortList = z
  .object({
    cohorts: z.array(cohort.extend({ users: z.number().int().nullable().meta({ description: 'Members now; null where the cohort is withheld.' }) })),
    suppressed: withheld,
  })
  .meta({ id: 'CohortList' });

const retention = z
  .object({
    cohort: z.uuid(),
    period: z.literal('week'),
    rows: z.array(
      z.object({
        start: z.iso.date().meta({ description: 'The Monday (UTC) of the week the row\'s users were first seen.' }),
        users: z.number().int(),
        retained: z.array(z.number().nullable()).meta({ description: 'Per week since `start`, the share of the row\'s users active that week; null where withheld (never 0 for a withheld cell).' }),
      }),
    ),
    suppressed: withheld,
  })
  .meta({ id: 'CohortRetention' }) satisfies z.ZodType<Retention & { cohort: string }>;
const retentionExample: Retention & { cohort: string } = {
  cohort: COHORT_ID,
  period: 'week',
  rows: [{ start: '2026-10-05', users: 120, retained: [1, 0.62, 0.48, null] }],
  suppressed: [{ reason: 'k_anonymity' }],
};

const interval = z.tuple([z.number(), z.number()]);
const side = z.object({ users: z.number().int(), mean: z.number(), ci95: interval });
const comparison = z
  .object({
    a: z.object({ id: z.uuid(), name: z.string().optional() }),
    b: z.object({ id: z.uuid(), name: z.string().optional() }),
    metrics: z.array(
      z.object({
        metric: z.enum(COMPARABLE_METRIC_NAMES),
        a: side,
        b: side,
        difference: z.object({
          estimate: z.number().meta({ description: 'Mean of a minus mean of b.' }),
          ci95: interval,
          pValue: z.number(),
          pAdjusted: z.number().meta({ description: "Holm's adjustment across the metrics asked for." }),
          effectSize: z.number().meta({ description: "Hedges' g." }),
          test: z.literal('welch_t'),
        }),
      }),
    ),
    suppressed: z.array(z.object({ metric: z.enum(COMPARABLE_METRIC_NAMES).optional(), reason: z.literal('k_anonymity') })),
  })
  .meta({ id: 'CohortComparison' });
const comparisonExample = {
  a: { id: COHORT_ID, name: 'iOS, first seen in October' },
  b: { id: OTHER_ID, name: 'Android, first seen in October' },
  metrics: [
    {
      metric: 'sessionsPerWeek',
      a: { users: 412, mean: 3.1, ci95: [2.9, 3.3] },
      b: { users: 388, mean: 2.6, ci95: [2.4, 2.8] },
      difference: { estimate: 0.5, ci95: [0.22, 0.78], pValue: 0.0004, pAdjusted: 0.0008, effectSize: 0.25, test: 'welch_t' },
    },
  ],
  suppressed: [{ metric: 'gad7Change', reason: 'k_anonymity' }],
};

const idParams = z.object({ id: z.uuid().meta({ param: { description: 'The cohort id (a lowercase UUID).', example: COHORT_ID } }) });

/** Registers the cohort routes. */
export function registerCohorts(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  const route = (routeKey: string, document: Parameters<typeof registerRoute>[3]) => registerRoute(registry, routes, routeKey, document, security);

  route('POST /v1/cohorts', {
    operationId: 'createCohort',
    summary: 'Store a cohort definition',
    description: 'Members are found on each read, from the users known then. At most 200 cohorts are kept.',
    tags,
    request: { body: { required: true, content: json(newCohortSchema, { name: cohortExample.name, definition: cohortExample.definition }) } },
    responses: { 201: { description: 'The cohort as stored.', content: json(cohort, cohortExample) } },
    errors: [...BODY_ERRORS, 'limit_reached'],
  });

  route('GET /v1/cohorts', {
    operationId: 'listCohorts',
    summary: 'Every cohort with its size now, oldest first',
    description: 'A cohort of fewer than k users, or within k users of an older cohort or of everyone, is withheld: `users` is null (PRIVACY.md "Cohorts").',
    tags,
    responses: { 200: { description: 'The cohorts.', headers: NO_STORE, content: json(cohortList, { cohorts: [{ ...cohortExample, users: 412 }], suppressed: [] }) } },
    errors: ['invalid_parameter'],
  });

  route('GET /v1/cohorts/{id}/retention', {
    operationId: 'getCohortRetention',
    summary: "Week-N retention of a cohort's users, a row per week first seen",
    tags,
    request: {
      params: idParams,
      query: z.object({
        period: z.literal('week').optional().meta({ param: { description: 'Only `week` (the default).' } }),
        periods: z.string().regex(/^\d+$/).optional().meta({ param: { description: 'Weeks per row, 1 to 52 (default 12); only weeks that have ended are shown, week 0 always.' } }),
      }),
    },
    responses: { 200: { description: 'The matrix; a withheld cohort answers no rows and one `suppressed` entry.', headers: NO_STORE, content: json(retention, retentionExample) } },
    errors: ['not_found'],
  });

  route('GET /v1/cohorts/compare', {
    operationId: 'compareCohorts',
    summary: "Two cohorts' users compared on per-user metrics",
    description: "Welch's two-sample t-test per metric, p-values adjusted by Holm's method across the metrics asked for. A metric either cohort has for fewer than k users is suppressed.",
    tags,
    request: {
      query: z.object({
        a: z.uuid().meta({ param: { description: 'A cohort id.', example: COHORT_ID } }),
        b: z.uuid().meta({ param: { description: 'Another cohort id.', example: OTHER_ID } }),
        metric: z.string().meta({ param: { description: `Comma-separated, one or more of ${COMPARABLE_METRIC_NAMES.join(', ')}.`, example: 'sessionsPerWeek,phq9Change' } }),
      }),
    },
    responses: { 200: { description: 'Each side and the difference, per metric.', headers: NO_STORE, content: json(comparison, comparisonExample) } },
    errors: ['invalid_parameter', 'not_found'],
  });
}
