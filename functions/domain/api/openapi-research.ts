import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { CONFIDENCE, INSUFFICIENT_MEAN, RESEARCH_DATASET, SUPPRESSION_REASONS, researchExportSchema, researchReportSchema, type ResearchRelease, type Suppression } from '../privacy/research-release';
import { BODY_ERRORS, NO_STORE, json, registerRoute, type RouteTable } from './openapi-route';

/*
 * Research releases, the research report and the budget they spend. Answers are described here,
 * each checked against its TypeScript type (`satisfies z.ZodType<…>`), and the examples are real
 * answers' shapes, typed the same way, so a field dropped from the code fails the build.
 */

const tags = ['Research'];
const REPORT_ID = '4c099497-681f-4332-ad50-be7f6dfc5f8f';

const privacyCost = z.object({ epsilon: z.number(), delta: z.number() });

const interval = z
  .object({ confidence: z.literal(CONFIDENCE), lower: z.number(), upper: z.number() })
  .meta({ description: 'Holds the true figure with at least this probability; cut to what the figure can be (a count never below 0, a mean inside the bounds).' });

const noise = z
  .discriminatedUnion('distribution', [
    z.object({ distribution: z.literal('discrete_laplace'), scale: z.number() }),
    z.object({ distribution: z.literal('discrete_gaussian'), sigma: z.number() }),
  ])
  .meta({ description: "The noise's distribution, in the figure's units." });

const figure = z.object({ value: z.number(), variance: z.number(), standardDeviation: z.number(), noise, interval });

const suppression = z
  .object({
    reason: z.enum(SUPPRESSION_REASONS),
    figure: z.literal('mean').optional().meta({ description: 'Present when one figure of a released line is withheld.' }),
    message: z.string(),
  })
  .meta({ id: 'Suppression', description: 'Which rule withheld a line or a figure: k_anonymity, no_research_consent (the research dataset holds no one) or insufficient_data.' }) satisfies z.ZodType<Suppression>;

const release = z.object({
  count: figure,
  sum: figure.extend({ granularity: z.number().meta({ description: 'The sum is a whole multiple of it.' }) }).optional(),
  mean: z
    .object({ value: z.number(), standardDeviation: z.number().meta({ description: 'A first-order approximation.' }), interval })
    .optional()
    .meta({ description: 'Distributions only, when the noisy count can carry it (otherwise `suppressed` says insufficient_data).' }),
  suppressed: z.array(suppression),
  spent: privacyCost,
  bounds: z.object({ lower: z.number(), upper: z.number() }).meta({ description: 'Each value was clamped to this range before the release.' }),
}) satisfies z.ZodType<ResearchRelease>;

const exportHeader = {
  dataset: z.literal(RESEARCH_DATASET),
  metric: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  mechanism: z.enum(['laplace', 'gaussian']),
  maxContributionsPerUser: z.number().int(),
};

const researchExportAnswer = z
  .union([
    release.extend({ ...exportHeader, budgetRemaining: privacyCost }),
    z.object({ ...exportHeader, suppressed: z.array(suppression).meta({ description: 'The release withheld whole; nothing was spent.' }) }),
  ])
  .meta({ id: 'ResearchExport' });

const reportEntry = z
  .object({
    id: z.uuid(),
    kind: z.literal('research'),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    role: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    summary: z.object({
      released: z.array(z.string()),
      suppressed: z
        .array(suppression.extend({ metric: z.string() }))
        .meta({ description: 'A line withheld (k_anonymity, or no_research_consent when the research dataset holds no one), or with `figure` one figure of a released line (insufficient_data: the noisy count cannot carry the mean).' }),
    }),
    objectKey: z.string(),
    contentType: z.string(),
  })
  .meta({ id: 'ReportEntry' });

const budgetAnswer = z
  .object({
    datasets: z.array(
      z.object({
        dataset: z.string(),
        composition: z.literal('sequential').meta({ description: 'Each release spends its ε and δ from the total.' }),
        budget: privacyCost,
        spent: privacyCost,
        remaining: privacyCost,
        releases: z.number().int().min(0),
      }),
    ),
  })
  .meta({ id: 'PrivacyBudget' });

const releaseExample = {
  count: { value: 3872, variance: 64_800.1, standardDeviation: 254.56, noise: { distribution: 'discrete_laplace', scale: 180 }, interval: { confidence: CONFIDENCE, lower: 3333, upper: 4411 } },
  sum: {
    value: -757.56,
    variance: 64_800.2,
    standardDeviation: 254.56,
    noise: { distribution: 'discrete_laplace', scale: 180 },
    interval: { confidence: CONFIDENCE, lower: -1296.79, upper: -218.32 },
    granularity: 0.0009765625,
  },
  mean: { value: -0.1956, standardDeviation: 0.067, interval: { confidence: CONFIDENCE, lower: -0.4431, upper: -0.0206 } },
  suppressed: [],
  spent: { epsilon: 1, delta: 0 },
  bounds: { lower: -1, upper: 1 },
} satisfies ResearchRelease;

const exportExample = {
  dataset: RESEARCH_DATASET,
  metric: 'mood.valence',
  from: '2026-11-13T00:00:00Z',
  to: '2026-12-05T00:00:00Z',
  mechanism: 'laplace',
  maxContributionsPerUser: 10,
  ...releaseExample,
  budgetRemaining: { epsilon: 9, delta: 0.0001 },
};

const reportExample = {
  id: REPORT_ID,
  kind: 'research',
  createdAt: '2026-12-04T17:52:48.242Z',
  createdBy: 'dev',
  role: 'admin',
  parameters: { from: '2026-11-13T00:00:00Z', to: '2026-12-05T00:00:00Z', epsilon: 1, mechanism: 'laplace', maxContributionsPerUser: 10 },
  summary: { released: ['events', 'sessions', 'session.duration', 'mood.valence'], suppressed: [{ metric: 'session.duration', ...INSUFFICIENT_MEAN }] },
  objectKey: `reports/research/${REPORT_ID}.csv`,
  contentType: 'text/csv',
};

/** POST /v1/research/exports, GET /v1/privacy/budget, POST /v1/reports and GET /v1/reports/{id}. */
export function registerResearch(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  registerRoute(
    registry,
    routes,
    'POST /v1/research/exports',
    {
      operationId: 'researchExport',
      summary: 'A differentially private count (and sum and mean) of a metric over research-consented users, spending from the research budget',
      tags,
      request: { body: { required: true, content: json(researchExportSchema, { metric: 'mood.valence', from: '2026-11-13T00:00:00Z', to: '2026-12-05T00:00:00Z', epsilon: 1 }) } },
      responses: {
        200: {
          description:
            'The noisy release, each figure with its noise, standard deviation and 95 % interval; `suppressed` lists `{reason, message}` entries: the whole release when fewer than k users contributed (nothing spent), or `figure: mean` when the count cannot carry it.',
          headers: NO_STORE,
          content: json(researchExportAnswer, exportExample),
        },
      },
      errors: [...BODY_ERRORS, 'privacy_budget_exhausted'],
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'GET /v1/privacy/budget',
    {
      operationId: 'getPrivacyBudget',
      summary: "Each dataset's privacy budget, what its releases spent and what is left",
      tags,
      responses: {
        200: {
          description: 'Per dataset: budget, spent, remaining (sequential composition) and the number of releases.',
          content: json(budgetAnswer, { datasets: [{ dataset: 'research', composition: 'sequential', budget: { epsilon: 10, delta: 0.0001 }, spent: { epsilon: 1.5, delta: 0 }, remaining: { epsilon: 8.5, delta: 0.0001 }, releases: 3 }] }),
        },
      },
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'POST /v1/reports',
    {
      operationId: 'createReport',
      summary: 'The research report: every research metric over a range, differentially private, spending the report epsilon once',
      tags,
      request: { body: { required: true, content: json(researchReportSchema, { kind: 'research', from: '2026-11-13T00:00:00Z', to: '2026-12-05T00:00:00Z', epsilon: 1 }) } },
      responses: { 201: { description: 'The report, generated and stored; its index entry.', content: json(reportEntry, reportExample) } },
      errors: [...BODY_ERRORS, 'privacy_budget_exhausted'],
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'GET /v1/reports/{id}',
    {
      operationId: 'getReport',
      summary: 'A report: its index entry and its content',
      tags,
      request: { params: z.object({ id: z.uuid().meta({ param: { description: 'The report id.' } }) }) },
      responses: {
        200: {
          description: 'The entry, with the CSV in `content`: a line per metric, each figure with its standard deviation and 95 % interval, and the suppression reason of what was withheld.',
          headers: NO_STORE,
          content: json(reportEntry.extend({ content: z.string() }), {
            ...reportExample,
            content: 'metric,count,count_sd,count_low,count_high,sum,sum_sd,sum_low,sum_high,mean,mean_sd,mean_low,mean_high,clamped_to,suppressed\nevents,7625,127.28,7355,7895,,,,,,,,,0..1,\n',
          }),
        },
      },
      errors: ['not_found'],
    },
    security,
  );
}
