import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PROFILE_FEATURES, type ActivityProfile } from '../behaviour/pattern-features';
import { PATTERN_KINDS, type ArchetypePattern, type PatternModelInfo, type SequencePattern, type Suppressed } from '../behaviour/patterns';
import { NO_STORE, registerRoute, type RouteTable } from './openapi-route';

/*
 * Behaviour analysis: the patterns the nightly fit found. Answers are checked against their
 * TypeScript types (`satisfies z.ZodType<…>`) so a field dropped from the type fails the build.
 */

const tags = ['Behaviour'];

const profile = z.object(Object.fromEntries(PROFILE_FEATURES.map((feature) => [feature, z.number()])) as Record<keyof ActivityProfile, z.ZodNumber>) satisfies z.ZodType<ActivityProfile>;

const modelInfo = z
  .object({
    version: z.string(),
    trainedAt: z.iso.datetime(),
    users: z.number().int().min(0).meta({ description: 'Users the archetypes were fitted on (those with two whole weeks of history).' }),
    k: z.number().int().min(0),
    silhouette: z.number().nullable().meta({ description: 'Mean silhouette at the chosen k; null when too few users to fit.' }),
  })
  .meta({ id: 'PatternModel' }) satisfies z.ZodType<PatternModelInfo>;

const archetype = z
  .object({
    id: z.string(),
    kind: z.literal('archetype'),
    name: z.string().meta({ description: 'From the profile: fading, late_starter, bursty, crisis_prone (low completion) or steady.' }),
    users: z.number().int(),
    share: z.number(),
    confidence: z.number().meta({ description: "Mean simplified silhouette of the members: 1 at the centre, 0 halfway to the next centre." }),
    profile: profile.meta({ description: "The cluster's centre in the features' own units." }),
  })
  .meta({ id: 'Archetype' }) satisfies z.ZodType<ArchetypePattern>;

const sequence = z
  .object({
    id: z.string(),
    kind: z.literal('sequence'),
    steps: z.array(z.string()).meta({ description: 'Consecutive behaviour steps, e.g. `session.ended:abandoned`, `mood.reported:negative`.' }),
    users: z.number().int(),
    droppedOut: z.number().int(),
    support: z.number(),
    confidence: z.number(),
    lift: z.number(),
    precedes: z.literal('dropout'),
  })
  .meta({ id: 'BehaviourSequence' }) satisfies z.ZodType<SequencePattern>;

const suppressed = z.object({ group: z.object({ pattern: z.string() }), reason: z.literal('k_anonymity') }) satisfies z.ZodType<Suppressed>;

const example = {
  model: { version: '0b7f6a52-3c1d-4e8f-9a2b-5c6d7e8f9a0b', trainedAt: '2026-11-30T02:00:00.000Z', users: 1980, k: 5, silhouette: 0.63 },
  patterns: [
    { id: '6a1e0c2d-1b3f-4a5c-8d7e-9f0a1b2c3d4e', kind: 'archetype', name: 'fading', users: 488, share: 0.244, confidence: 0.65, profile: { sessionsPerWeek: 1.08, sessionsPerWeekTrend: -0.37, weeklyVariability: 0.76, completionRate: 0.67 } },
    { id: '7b2f1d3e-2c4a-4b6d-9e8f-0a1b2c3d4e5f', kind: 'sequence', steps: ['session.ended:abandoned', 'mood.reported:negative'], users: 240, droppedOut: 150, support: 0.12, confidence: 0.64, lift: 2.4, precedes: 'dropout' },
  ],
  suppressed: [{ group: { pattern: '8c3a2e4f-3d5b-4c7e-8f9a-1b2c3d4e5f6a' }, reason: 'k_anonymity' }],
};

export function registerPatterns(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  registerRoute(
    registry,
    routes,
    'GET /v1/patterns',
    {
      operationId: 'listPatterns',
      summary: 'Engagement archetypes and behaviour sequences that precede drop-out, from the newest fit',
      description: 'A pattern of fewer than k users (a sequence: or of fewer than k drop-outs) is listed under `suppressed`, not shown; so is an archetype whose size the others would give away. `model` is null before the first fit.',
      tags,
      request: { query: z.object({ kind: z.enum(PATTERN_KINDS).optional().meta({ description: 'Only this kind; both when left out.' }) }) },
      responses: {
        200: {
          description: 'The model and its patterns.',
          headers: NO_STORE,
          content: {
            'application/json': {
              schema: z.object({ model: modelInfo.nullable(), patterns: z.array(z.discriminatedUnion('kind', [archetype, sequence])), suppressed: z.array(suppressed) }),
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
