import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { OUTCOME_NAMES } from '../behaviour/outcome-labels';
import { predictionsQuerySchema, type ModelVersionView, type ReleasedPrediction } from '../behaviour/outcome-predictions';
import { NO_STORE, registerRoute, type RouteTable } from './openapi-route';

/*
 * Behaviour analysis: outcome predictions. Answers are checked against their TypeScript types
 * (`satisfies z.ZodType<…>`) so a field dropped from the type fails the build.
 */

const tags = ['Behaviour'];
const rate = z.number().min(0).max(1);

const quality = z.object({
  accuracy: rate,
  auc: rate.meta({ description: 'ROC AUC on the held-out users.' }),
  brier: rate.meta({ description: 'Mean squared error of the probabilities on the held-out users.' }),
  trainedOn: z.number().int().min(0),
  testedOn: z.number().int().min(0),
  splitAt: z.iso.datetime().meta({ description: 'Users who started before this trained the model; the later starters tested it.' }),
  calibration: z.array(z.object({ from: rate, to: rate, predicted: rate, observed: rate, n: z.number().int().min(1) })).meta({ description: 'Held-out users by predicted probability, in tenths; empty tenths left out.' }),
});

const model = z
  .object({
    version: z.string(),
    trainedAt: z.iso.datetime(),
    outcome: z.enum(OUTCOME_NAMES),
    quality,
    live: z.object({ accuracy: rate, n: z.number().int().min(1), measuredAt: z.iso.datetime() }).nullable().meta({ description: 'Accuracy on outcomes that became known after training; null until a newer run measured it.' }),
  })
  .meta({ id: 'OutcomeModel' }) satisfies z.ZodType<ModelVersionView>;

const prediction = z
  .object({
    cohort: z.string(),
    users: z.number().int().min(1),
    predictedOutcome: z.literal('reliable_improvement'),
    probability: rate.meta({ description: "Mean of the cohort's users' predicted probabilities." }),
    ci95: z.tuple([rate, rate]).meta({ description: "Where the cohort's observed rate should fall, 95 %." }),
    actual: rate.nullable().meta({ description: 'Observed rate over the users whose eight weeks have passed; null while fewer than k are known.' }),
    outcomesKnown: z.number().int().min(0),
  })
  .meta({ id: 'CohortPrediction' }) satisfies z.ZodType<ReleasedPrediction>;

const example = {
  model: {
    version: '0b6f3c1e-2a4d-4e8f-9c1b-5d7e9f0a1b2c',
    trainedAt: '2026-11-30T02:00:00.000Z',
    outcome: 'phq9_reliable_improvement',
    quality: { accuracy: 0.88, auc: 0.93, brier: 0.09, trainedOn: 1369, testedOn: 587, splitAt: '2026-09-14T15:17:09.795Z', calibration: [{ from: 0, to: 0.1, predicted: 0.03, observed: 0.03, n: 245 }] },
    live: null,
  },
  predictions: [{ cohort: 'all', users: 1956, predictedOutcome: 'reliable_improvement', probability: 0.32, ci95: [0.3, 0.34], actual: 0.33, outcomesKnown: 1956 }],
  suppressed: [],
} as const;

export function registerBehaviour(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  registerRoute(
    registry,
    routes,
    'GET /v1/predictions',
    {
      operationId: 'listPredictions',
      summary: "Predicted reliable improvement by week 8, per cohort, from the newest outcome model",
      description:
        'Reliable improvement: PHQ-9 down at least 6 points or to half the baseline by eight weeks after it. Only cohort aggregates: no individual score leaves the database. A cohort of fewer than k users is withheld (k-anonymity).',
      tags,
      request: { query: predictionsQuerySchema },
      responses: {
        200: {
          description: 'The model (null before the first training) and its cohorts.',
          headers: NO_STORE,
          content: {
            'application/json': {
              schema: z.object({ model: model.nullable(), predictions: z.array(prediction), suppressed: z.array(z.object({ group: z.object({ cohort: z.string() }), reason: z.literal('k_anonymity') })) }),
              example,
            },
          },
        },
      },
      errors: ['invalid_parameter'],
    },
    security,
  );
}
