import { z } from 'zod';
import { plainText, slug } from '../api/input-bounds';
import { CHANNELS, SEVERITIES, type RuleRef } from './model';
import { RECOMMENDED_INTERVENTIONS } from './intervention';
import { INTERVENTION_URGENCIES } from '../events/schema';
import { DETECT_LAG_LIMIT_MS } from '../operations/health';

/**
 * Declarative alert rules, as `PUT /v1/alert-rules` takes them and PostgreSQL keeps them. A rule
 * watches one signal (or other rules, for a composite) per subject; the evaluation is in
 * `evaluate.ts`. The safety triggers of the product are rules too (`DEFAULT_RULES`), so an
 * operator can tune or disable them the same way, by storing a rule with the default's id.
 */

const DAY_SEC = 86_400;

const signalName = z
  .string()
  .max(128)
  .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must be a signal name like phq9.score');
const labelName = z
  .string()
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name (letters, digits and _)');
const labelValue = plainText(z.string().max(256));
const seconds = z.number().int().min(0).max(365 * DAY_SEC);

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export const routingSchema = z.strictObject({
  channels: z
    .array(z.enum(CHANNELS))
    .min(1)
    .refine((channels) => new Set(channels).size === channels.length, 'must not repeat a channel'),
  groupBy: z.array(labelName).default([]),
  repeatIntervalSec: z.number().int().min(60).max(7 * DAY_SEC),
  escalateAfterSec: z.number().int().min(60).max(7 * DAY_SEC).optional(),
});

const common = {
  id: slug,
  description: plainText(z.string().min(1).max(500)),
  severity: z.enum(SEVERITIES),
  labels: z.record(labelName, labelValue).default({}),
  routing: routingSchema,
  enabled: z.boolean().default(true),
  /** false: the rule is only a condition of composites and never makes alerts itself. */
  notify: z.boolean().default(true),
  subject: z.enum(['user', 'series']),
  /** Prometheus `for`: how long the condition must hold before the rule fires. */
  forSec: seconds.default(0),
  /**
   * Flap control (Prometheus `keep_firing_for`): how long the condition must stay clear before
   * its alert resolves; holding again meanwhile keeps the same alert, with no new page.
   */
  clearForSec: seconds.default(0),
  /** When it fires for a user, the user counts as flagged at risk for `atRiskDays`. */
  marksAtRisk: z.boolean().default(false),
  /**
   * The action `intervene`: when it fires for a user with safety-monitoring consent, detect sends
   * the app an `intervention.recommended` of this type and urgency, beside the alert.
   */
  intervene: z.strictObject({ interventionType: z.enum(RECOMMENDED_INTERVENTIONS), urgency: z.enum(INTERVENTION_URGENCIES) }).optional(),
  atRiskDays: z.number().int().min(1).max(365).default(30),
};

const watched = {
  signal: signalName,
  /** Only signals carrying these label values. */
  match: z.record(labelName, labelValue).default({}),
};

const thresholdRule = z.strictObject({ ...common, ...watched, kind: z.literal('threshold'), op: z.enum(COMPARISONS), value: z.number() });
/** Compares the change between a subject's consecutive values (value minus the previous one). */
const rateOfChangeRule = z.strictObject({ ...common, ...watched, kind: z.literal('rate_of_change'), op: z.enum(COMPARISONS), value: z.number() });
/** No signal from a subject for `forSec`; checked on the scheduled tick. */
const absenceRule = z.strictObject({
  ...common,
  ...watched,
  kind: z.literal('absence'),
  forSec: seconds.min(60),
  scope: z.enum(['seen', 'at_risk']),
});
const anomalyRule = z.strictObject({
  ...common,
  ...watched,
  kind: z.literal('anomaly'),
  detector: z.enum(['robust_z', 'seasonal', 'any']),
  direction: z.enum(['spike', 'dip', 'both']),
});
const compositeRule = z.strictObject({
  ...common,
  kind: z.literal('composite'),
  op: z.enum(['all', 'any']),
  conditions: z.array(slug).min(1).max(20),
});

export const alertRuleSchema = z
  .discriminatedUnion('kind', [thresholdRule, rateOfChangeRule, absenceRule, anomalyRule, compositeRule])
  .superRefine((rule, ctx) => {
    if (rule.marksAtRisk && rule.subject !== 'user') ctx.addIssue({ code: 'custom', path: ['marksAtRisk'], message: 'only a rule on users can flag them at risk' });
    if (rule.intervene && rule.subject !== 'user') ctx.addIssue({ code: 'custom', path: ['intervene'], message: 'only a rule on users can send an intervention to the app' });
    if (rule.kind === 'absence' && rule.scope === 'at_risk' && rule.subject !== 'user') ctx.addIssue({ code: 'custom', path: ['scope'], message: 'at_risk applies to users only' });
    if (rule.kind === 'anomaly' && rule.subject !== 'series') ctx.addIssue({ code: 'custom', path: ['subject'], message: 'anomaly verdicts come on series signals' });
    if (rule.kind === 'composite' && new Set(rule.conditions).size !== rule.conditions.length) ctx.addIssue({ code: 'custom', path: ['conditions'], message: 'must not repeat a rule' });
  });

export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type CompositeRule = Extract<AlertRule, { kind: 'composite' }>;
/** Every rule that watches a signal, i.e. every kind but composite. */
export type SignalRule = Exclude<AlertRule, { kind: 'composite' }>;

const HOUR_SEC = 3_600;
type RoutingInput = z.input<typeof routingSchema>;
const criticalRouting: RoutingInput = { channels: ['sns', 'email', 'dashboard'], groupBy: ['rule'], repeatIntervalSec: HOUR_SEC, escalateAfterSec: 900 };
const warningRouting: RoutingInput = { channels: ['sns', 'dashboard'], groupBy: ['rule'], repeatIntervalSec: 4 * HOUR_SEC };
// The second tier: a safety finding that needs a clinician today, not now, goes to their worklist
// (the alerts API and the dashboard) and their next digest e-mail; no page, so no escalation.
const worklistRouting: RoutingInput = { channels: ['dashboard', 'digest'], groupBy: ['rule'], repeatIntervalSec: 24 * HOUR_SEC };
const safety = { labels: { category: 'safety' }, subject: 'user', match: {} } as const;
// A series judged each minute goes in and out of anomalous as it hovers at the edge: ten quiet
// minutes end its alert, and a relapse within them is the same alert, not a new page.
const operations = { labels: { category: 'operations' }, subject: 'series', routing: warningRouting, severity: 'warning', kind: 'anomaly', detector: 'any', clearForSec: 600 } as const;

const DEFAULT_RULE_INPUTS: readonly AlertRuleInput[] = [
  {
    ...safety,
    id: 'crisis-signal',
    kind: 'threshold',
    description: 'A crisis signal of severity high or imminent',
    severity: 'critical',
    routing: criticalRouting,
    signal: 'crisis.severity',
    op: '>=',
    value: 3,
    marksAtRisk: true,
    intervene: { interventionType: 'crisis_support', urgency: 'crisis' },
  },
  {
    ...safety,
    id: 'emotional-state-crisis',
    kind: 'threshold',
    description: 'A choice after which the emotional state is crisis',
    severity: 'critical',
    routing: criticalRouting,
    signal: 'emotional_state.crisis',
    op: '>=',
    value: 1,
    marksAtRisk: true,
  },
  {
    ...safety,
    id: 'phq9-item9',
    kind: 'threshold',
    description: 'PHQ-9 item 9 (thoughts of self-harm) above 0',
    severity: 'critical',
    routing: worklistRouting,
    signal: 'phq9.item9',
    op: '>',
    value: 0,
    marksAtRisk: true,
  },
  {
    ...safety,
    id: 'phq9-rise',
    kind: 'rate_of_change',
    description: 'PHQ-9 score up by 5 or more since the previous assessment',
    severity: 'warning',
    routing: worklistRouting,
    signal: 'phq9.score',
    op: '>=',
    value: 5,
    marksAtRisk: true,
    intervene: { interventionType: 'check_in', urgency: 'elevated' },
  },
  {
    ...safety,
    id: 'at-risk-no-session',
    kind: 'absence',
    description: 'A user flagged at risk has started no session for 7 days',
    severity: 'warning',
    routing: worklistRouting,
    signal: 'session.started',
    forSec: 7 * DAY_SEC,
    scope: 'at_risk',
  },
  {
    // Pages through the same lifecycle as a crisis: a stalled detect consumer means crisis pages are not going out.
    id: 'detect-lag',
    kind: 'threshold',
    description: 'The detect consumer is behind the event stream: safety alerts are late',
    severity: 'critical',
    routing: criticalRouting,
    labels: { category: 'operations' },
    subject: 'series',
    signal: 'stream.lag_seconds',
    match: { consumer: 'detect' },
    op: '>',
    value: DETECT_LAG_LIMIT_MS / 1000,
    clearForSec: 300,
  },
  // The metric series the monitor judges each minute (functions/domain/anomaly/watched-series.ts).
  {
    ...operations,
    id: 'crisis-signals-surge',
    description: 'Crisis signals per minute far above what the detectors expect: a classifier gone wrong, or something happening to many users',
    signal: 'events.per_minute',
    match: { type: 'crisis.signal' },
    direction: 'spike',
  },
  {
    ...operations,
    id: 'ingest-errors-surge',
    description: 'Refused events per minute far above what the detectors expect: a client release or an integration broke',
    signal: 'ingest.errors_per_minute',
    direction: 'spike',
  },
  {
    ...operations,
    id: 'ingest-slow',
    description: 'The p95 latency of ingest far above what the detectors expect',
    signal: 'ingest.latency_p95_ms',
    direction: 'spike',
  },
];

/** The product's safety triggers; parsed here so a default can never be an invalid rule. */
export const DEFAULT_RULES: readonly AlertRule[] = DEFAULT_RULE_INPUTS.map((input) => alertRuleSchema.parse(input));

/** The rules in force: the defaults, each replaced by a stored rule of its id, then the other stored rules. */
export function mergeRules(defaults: readonly AlertRule[], stored: readonly AlertRule[]): AlertRule[] {
  const storedById = new Map(stored.map((rule) => [rule.id, rule]));
  const defaultIds = new Set(defaults.map((rule) => rule.id));
  return [...defaults.map((rule) => storedById.get(rule.id) ?? rule), ...stored.filter((rule) => !defaultIds.has(rule.id))];
}

/**
 * The composites of `rules`, each after the composites it depends on, so one pass evaluates a
 * composite of composites on fresh states. Assumes no cycles (the document schema refuses them).
 */
export function compositesInOrder(rules: readonly AlertRule[]): CompositeRule[] {
  const composites = new Map(rules.filter((rule): rule is CompositeRule => rule.kind === 'composite').map((rule) => [rule.id, rule]));
  const ordered: CompositeRule[] = [];
  const placed = new Set<string>();
  const place = (rule: CompositeRule): void => {
    if (placed.has(rule.id)) return;
    placed.add(rule.id);
    for (const id of rule.conditions) {
      const dependency = composites.get(id);
      if (dependency) place(dependency);
    }
    ordered.push(rule);
  };
  composites.forEach(place);
  return ordered;
}

/** The path to a condition that closes a cycle through `start`, or undefined. */
function cycleFrom(start: string, byId: ReadonlyMap<string, AlertRule>): string[] | undefined {
  const walk = (id: string, path: string[]): string[] | undefined => {
    const rule = byId.get(id);
    if (rule?.kind !== 'composite') return undefined;
    for (const next of rule.conditions) {
      if (next === start) return [...path, next];
      if (path.includes(next)) continue;
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

/**
 * The body of `PUT /v1/alert-rules`: the stored rules, all of them (a rule left out is removed;
 * a default left out comes back as shipped). Composites may name defaults as conditions.
 */
export const alertRulesDocumentSchema = z.strictObject({ rules: z.array(alertRuleSchema).max(500) }).superRefine((document, ctx) => {
  const seen = new Set<string>();
  document.rules.forEach((rule, index) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', index, 'id'], message: `repeats the rule id ${rule.id}` });
    seen.add(rule.id);
  });
  const byId = new Map(mergeRules(DEFAULT_RULES, document.rules).map((rule) => [rule.id, rule]));
  document.rules.forEach((rule, index) => {
    if (rule.kind !== 'composite') return;
    rule.conditions.forEach((id, position) => {
      const path = ['rules', index, 'conditions', position];
      const condition = byId.get(id);
      if (!condition) ctx.addIssue({ code: 'custom', path, message: `names no rule: ${id}` });
      else if (condition.subject !== rule.subject) ctx.addIssue({ code: 'custom', path, message: `${id} watches ${condition.subject} subjects, this rule ${rule.subject}` });
    });
    const cycle = cycleFrom(rule.id, byId);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['rules', index, 'conditions'], message: `makes a cycle: ${cycle.join(' -> ')}` });
  });
});

export type AlertRulesDocument = z.infer<typeof alertRulesDocumentSchema>;

/** What a transition carries of its rule. */
export function ruleRef(rule: AlertRule): RuleRef {
  const ref = { id: rule.id, severity: rule.severity, labels: { ...rule.labels, rule: rule.id }, routing: rule.routing };
  return rule.intervene ? { ...ref, intervene: rule.intervene } : ref;
}
