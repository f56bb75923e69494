import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { CONFIDENCE, RESEARCH_DATASET, SUPPRESSION_REASONS, researchExportSchema, type ResearchRelease, type Suppression } from '../privacy/research-release';
import { BODY_ERRORS, NO_STORE, json, registerRoute, type RouteTable } from './openapi-route';

/*
 * Research releases and the budget they spend (the research report is in openapi-reports.ts). Answers are described here,
 * each checked against its TypeScript type (`satisfies z.ZodType<…>`), and the examples are real
 * answers' shapes, typed the same way, so a field dropped from the code fails the build.
 */

const tags = ['Research'];

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

/** POST /v1/research/exports and GET /v1/privacy/budget. */
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
}
