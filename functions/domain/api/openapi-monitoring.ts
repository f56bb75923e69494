import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ALERT_STATUSES, NOTIFICATION_STATUSES, alertQuerySchema, type Alert } from '../alerting/alert';
import { CHANNELS, SEVERITIES } from '../alerting/model';
import { DEFAULT_RULES, alertRulesDocumentSchema } from '../alerting/rules';
import { clinicianIdSchema } from '../alerting/caseload';
import { effectivenessQuerySchema, type EffectivenessAnswer } from '../alerting/intervention-effectiveness';
import { recipientPreferencesSchema } from '../alerting/recipient';
import { silenceInputSchema, type Silence } from '../alerting/silence';
import { anomalyQuerySchema, type AnomalyView } from '../anomaly/anomaly-query';
import { DETECTORS } from '../anomaly/watched-series';
import { NO_STORE, registerRoute, type RouteTable } from './openapi-route';

/*
 * Alerts, alert rules, silences and anomalies. Bodies and queries are the schemas the handlers
 * validate with; answers are described here, each checked against its TypeScript type
 * (`satisfies z.ZodType<…>`) so a field dropped from the type fails the build.
 */

const ALERT_ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const tags = ['Monitoring'];

const alert = z
  .object({
    id: z.uuid(),
    rule: z.string().meta({ description: 'The id of the rule that fired.' }),
    severity: z.enum(SEVERITIES),
    status: z.enum(ALERT_STATUSES),
    subject: z.string().meta({ description: '`user:<pseudonym>` or `series:<key>`: never a raw user id.' }),
    labels: z.record(z.string(), z.string()),
    summary: z.string(),
    startsAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    resolvedAt: z.iso.datetime().optional(),
    acknowledgedBy: z.string().optional(),
    acknowledgedAt: z.iso.datetime().optional(),
    escalatedAt: z.iso.datetime().optional(),
    inhibitedBy: z.string().optional().meta({ description: "The open critical alert of the same user that held this alert's notifications back." }),
    inhibits: z.array(z.string()).optional().meta({ description: 'The open lesser alerts of the same user this one held back.' }),
    unassigned: z.literal(true).optional().meta({ description: "A user's alert of someone in no clinician's caseload: only the on-call route has it." }),
    notifications: z.array(
      z.object({
        kind: z.enum(['firing', 'repeat', 'resolved', 'escalation']),
        channel: z.enum(CHANNELS),
        status: z.enum(NOTIFICATION_STATUSES),
        attempts: z.number().int().min(0),
        at: z.iso.datetime(),
        error: z.string().optional().meta({ description: 'Why the last attempt failed; never the payload.' }),
      }),
    ),
  })
  .meta({ id: 'Alert', description: 'One alert per rule and subject while it fires.' }) satisfies z.ZodType<Alert>;

// Typed, so an example cannot drift from the answer it shows.
const alertExample: Alert = {
  id: ALERT_ID,
  rule: 'crisis-signal',
  severity: 'critical',
  status: 'firing',
  subject: 'user:3f9a0c2e5b7d4a1f8e6c9b2d0a4f7e1c3b5d8a2f6e0c9b4d7a1f3e5c8b2d6a0f',
  labels: { category: 'safety', rule: 'crisis-signal', severity: 'critical' },
  summary: 'A crisis signal of severity high or imminent',
  startsAt: '2026-11-20T10:04:12Z',
  updatedAt: '2026-11-20T10:04:13Z',
  notifications: [{ kind: 'firing', channel: 'sns', status: 'delivered', attempts: 1, at: '2026-11-20T10:04:13Z' }],
};

const alertRules = alertRulesDocumentSchema.meta({
  id: 'AlertRules',
  description:
    'The stored rules, all of them: a rule left out is removed, a default left out comes back as shipped. A rule with the id of a default replaces it. ' +
    'Composites name other rules (defaults too) as conditions, of the same subject kind and without cycles.',
});

const silenceMatcher = z.object({ name: z.string(), value: z.string(), isRegex: z.boolean().optional(), isEqual: z.boolean().optional() });
const silence = z
  .object({
    id: z.uuid(),
    matchers: z.array(silenceMatcher),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    comment: z.string(),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    expiredBy: z.string().optional().meta({ description: 'Who ended the silence early.' }),
  })
  .meta({ id: 'Silence', description: "Mutes the notifications of alerts whose labels all its matchers match (Alertmanager's matchers)." }) satisfies z.ZodType<Silence>;

const silenceExample: Silence = {
  id: '0b6e4f1a-2c3d-4e5f-8a9b-1c2d3e4f5a6b',
  matchers: [{ name: 'rule', value: 'ingest-slow' }],
  startsAt: '2026-11-20T10:00:00.000Z',
  endsAt: '2026-11-20T12:00:00.000Z',
  comment: 'database maintenance',
  createdBy: 'admin',
  createdAt: '2026-11-20T09:58:41.000Z',
};

const anomaly = z
  .object({
    series: z.string().meta({ description: 'The watched series, `name{label=value,...}`.' }),
    name: z.string(),
    labels: z.record(z.string(), z.string()),
    detector: z.enum(DETECTORS),
    t: z.iso.datetime().meta({ description: "The minute's start." }),
    value: z.number(),
    expected: z.number(),
    score: z.number(),
    direction: z.enum(['spike', 'dip']),
  })
  .meta({ id: 'Anomaly' }) satisfies z.ZodType<AnomalyView>;

const anomalyExample: AnomalyView = {
  series: 'ingest.latency_p95_ms',
  name: 'ingest.latency_p95_ms',
  labels: {},
  detector: 'robust_z',
  t: '2026-11-20T10:04:00Z',
  value: 412,
  expected: 38,
  score: 9.1,
  direction: 'spike',
};

const idParams = (what: string) => z.object({ id: z.uuid().meta({ param: { description: `The ${what} id (a lowercase UUID).`, example: ALERT_ID } }) });

const moodChange = z.union([z.object({ users: z.number().int().min(1), mean: z.number().min(-2).max(2) }), z.object({ suppressed: z.literal(true) })]);
const effectivenessRow = z.union([
  z.object({ interventionType: z.string(), suppressed: z.literal(true) }),
  z.object({
    interventionType: z.string(),
    users: z.number().int().min(1).meta({ description: 'Distinct users recommended this type this week: at least k, or the row is suppressed.' }),
    recommended: z.number().int().min(0),
    sent: z.number().int().min(0).meta({ description: 'Recommendations the app received.' }),
    followed: z.number().int().min(0).meta({ description: 'Of those sent, followed within 24 h by the intervention completed (a check-in: by a mood check-in).' }),
    followedShare: z.number().min(0).max(1).nullable(),
    moodChange: moodChange.meta({ description: 'Mood valence (-1 to 1) from the last report in the week before the recommendation to the first in the week after the intervention, mean over followed recommendations; suppressed under k users.' }),
  }),
]);
const effectivenessAnswer = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  interval: z.literal('week'),
  k: z.number().int().min(1),
  weeks: z.array(z.object({ start: z.iso.datetime(), types: z.array(effectivenessRow) })),
}) satisfies z.ZodType<EffectivenessAnswer>;
const effectivenessExample: EffectivenessAnswer = {
  from: '2026-11-09T00:00:00.000Z',
  to: '2026-11-16T00:00:00.000Z',
  interval: 'week',
  k: 10,
  weeks: [
    {
      start: '2026-11-09T00:00:00.000Z',
      types: [
        { interventionType: 'check_in', users: 41, recommended: 44, sent: 40, followed: 29, followedShare: 0.725, moodChange: { users: 22, mean: 0.12 } },
        { interventionType: 'crisis_support', suppressed: true },
      ],
    },
  ],
};

/** Registers the monitoring routes. */
export function registerMonitoring(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  const route = (routeKey: string, document: Parameters<typeof registerRoute>[3]) => registerRoute(registry, routes, routeKey, document, security);

  route('GET /v1/alerts', {
    operationId: 'listAlerts',
    summary: 'Alerts, newest first',
    tags,
    request: { query: alertQuerySchema },
    responses: {
      200: {
        description: 'A page of alerts; pass the last one\'s `startsAt` as `before` for the next.',
        headers: NO_STORE,
        content: { 'application/json': { schema: z.object({ alerts: z.array(alert) }), example: { alerts: [alertExample] } } },
      },
    },
    errors: ['invalid_parameter'],
  });

  route('POST /v1/alerts/{id}/ack', {
    operationId: 'acknowledgeAlert',
    summary: 'Acknowledge an alert: it stops repeating and escalating',
    tags,
    request: { params: idParams('alert') },
    responses: {
      200: {
        description: 'The alert, acknowledged.',
        content: { 'application/json': { schema: alert, example: { ...alertExample, status: 'acknowledged', acknowledgedBy: 'clinician-7', acknowledgedAt: '2026-11-20T10:06:02Z' } } },
      },
    },
    errors: ['not_found', 'alert_resolved'],
  });

  const rulesAnswer = { description: 'The rules in force: the defaults, each replaced by a stored rule of its id, then the other stored rules.', content: { 'application/json': { schema: alertRules, example: { rules: DEFAULT_RULES.slice(0, 1) } } } };
  route('GET /v1/alert-rules', { operationId: 'getAlertRules', summary: 'The alert rules in force', tags, responses: { 200: rulesAnswer } });
  route('PUT /v1/alert-rules', {
    operationId: 'putAlertRules',
    summary: 'Replace the stored alert rules',
    tags,
    request: { body: { required: true, content: { 'application/json': { schema: alertRules } } } },
    responses: { 200: rulesAnswer },
    errors: ['malformed_json', 'body_not_object', 'invalid_request'],
  });

  const clinicianParams = z.object({ clinicianId: clinicianIdSchema.meta({ param: { description: "The clinician's id: the `sub` of their tokens.", example: 'clinician-7' } }) });
  const preferences = recipientPreferencesSchema.meta({ id: 'AlertingPreferences' });
  const preferencesExample = { timeZone: 'Europe/London', digestAt: '17:30', quietHours: { from: '21:00', to: '07:00' }, warningPagesPerDay: 5 };
  route('GET /v1/clinicians/{clinicianId}/preferences', {
    operationId: 'getAlertingPreferences',
    summary: "A clinician's digest time, quiet hours and daily cap of warning pages (the defaults until set); a clinician reads only their own",
    tags,
    request: { params: clinicianParams },
    responses: { 200: { description: 'The preferences in force.', content: { 'application/json': { schema: preferences, example: preferencesExample } } } },
    errors: ['invalid_parameter'],
  });
  route('PUT /v1/clinicians/{clinicianId}/preferences', {
    operationId: 'putAlertingPreferences',
    summary:
      "Set a clinician's alerting preferences: the wall-clock time of their daily digest of worklist alerts, and the quiet hours and daily cap after which warning pages wait for that digest (never critical ones); a clinician sets only their own",
    tags,
    request: { params: clinicianParams, body: { required: true, content: { 'application/json': { schema: preferences, example: preferencesExample } } } },
    responses: { 200: { description: 'The preferences now in force; the next digest moves to the new time.', content: { 'application/json': { schema: preferences, example: preferencesExample } } } },
    errors: ['malformed_json', 'body_not_object', 'invalid_request', 'invalid_body', 'invalid_parameter'],
  });

  route('GET /v1/interventions/effectiveness', {
    operationId: 'getInterventionEffectiveness',
    summary: 'Whether the interventions detect recommends help: per UTC week and intervention type, the share followed and the mood change after, each week and type withheld under k users',
    tags,
    request: { query: effectivenessQuerySchema },
    responses: {
      200: {
        description: 'The asked range widened to whole weeks (Monday 00:00 UTC; the last four by default). Only whole buckets are released and no totals, so no answer can be differenced into a small group.',
        headers: NO_STORE,
        content: { 'application/json': { schema: effectivenessAnswer, example: effectivenessExample } },
      },
    },
    errors: ['invalid_parameter'],
  });

  route('GET /v1/silences', {
    operationId: 'listSilences',
    summary: 'Silences not ended, and those ended in the last week, newest first',
    tags,
    responses: { 200: { description: 'The silences.', content: { 'application/json': { schema: z.object({ silences: z.array(silence) }), example: { silences: [silenceExample] } } } } },
  });

  route('POST /v1/silences', {
    operationId: 'createSilence',
    summary: 'Silence alerts by their labels for up to 30 days',
    tags,
    request: { body: { required: true, content: { 'application/json': { schema: silenceInputSchema.meta({ id: 'SilenceInput' }), example: { matchers: [{ name: 'rule', value: 'ingest-slow' }], endsAt: '2026-11-20T12:00:00Z', comment: 'database maintenance' } } } } },
    responses: { 201: { description: 'The silence, in force from `startsAt` (now unless given).', content: { 'application/json': { schema: silence, example: silenceExample } } } },
    errors: ['malformed_json', 'body_not_object', 'invalid_request', 'invalid_body'],
  });

  route('DELETE /v1/silences/{id}', {
    operationId: 'expireSilence',
    summary: 'End a silence now',
    tags,
    request: { params: idParams('silence') },
    responses: { 200: { description: 'The silence has ended.', content: { 'application/json': { schema: z.object({ id: z.uuid(), expired: z.literal(true) }), example: { id: silenceExample.id, expired: true } } } } },
    errors: ['not_found'],
  });

  route('GET /v1/anomalies', {
    operationId: 'listAnomalies',
    summary: 'Anomalies the detectors found in the watched series, newest first',
    description: 'An anomaly of an event-derived series whose minute had fewer than k distinct users is left out (k-anonymity); operational series carry no users.',
    tags,
    request: { query: anomalyQuerySchema },
    responses: {
      200: {
        description: 'The anomalies.',
        headers: NO_STORE,
        content: {
          'application/json': {
            schema: z.object({ anomalies: z.array(anomaly) }),
            example: { anomalies: [anomalyExample] },
          },
        },
      },
    },
    errors: ['invalid_parameter'],
  });
}
