import { subjectKey, type Signal, type Subject, type Transition } from './model';
import { ruleRef, type AlertRule, type Comparison, type CompositeRule, type SignalRule } from './rules';

/**
 * The evaluation of one rule for one subject, pure: the stored state of (rule, subject) and a
 * signal or a moment in, the new state and at most one transition out. The engine keeps the state
 * between invocations (PostgreSQL), so everything a rule remembers is in `ConditionState`.
 */

/** Recent event ids a state remembers: more than a Kinesis batch can repeat of one user and rule. */
export const SEEN_EVENT_IDS = 64;
const DAY_MS = 86_400_000;

export interface ConditionState {
  /** Whether the condition held at the last evaluation. */
  readonly holds: boolean;
  /** Since when it holds (epoch ms): the clock of `forSec`. Null when it does not hold. */
  readonly since: number | null;
  /** Held long enough: the rule fires (or, with `notify: false`, counts as a met condition). */
  readonly active: boolean;
  /** The latest signal's time (epoch ms) and value: ordering, rate of change and absence. */
  readonly lastAt: number | null;
  readonly lastValue: number | null;
  /** Event ids already counted, newest last: a redelivered record changes nothing. */
  readonly seen: readonly string[];
  /** Set while a `marksAtRisk` rule is active for a user, kept `atRiskDays` after. */
  readonly atRisk: { readonly since: number; readonly until: number } | null;
  /**
   * Since when an active condition no longer holds (epoch ms): it resolves once clear for the
   * rule's `clearForSec`. Absent in states saved before flap control, which never cleared.
   */
  readonly clearSince?: number | null;
}

export const INITIAL_CONDITION: ConditionState = { holds: false, since: null, active: false, lastAt: null, lastValue: null, seen: [], atRisk: null, clearSince: null };

/** Active but no longer holding: its alert stays open until the condition has been clear for `clearForSec`. */
export const clearing = (state: ConditionState): boolean => state.active && !state.holds;

export interface Step {
  readonly state: ConditionState;
  readonly transition?: Transition;
}

export function compare(left: number, op: Comparison, right: number): boolean {
  switch (op) {
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '==':
      return left === right;
    case '!=':
      return left !== right;
  }
}

/** Whether a rule watches this signal: its subject kind, its name and every label it matches on. */
export function watches(rule: SignalRule, signal: Signal): boolean {
  return (
    rule.subject === signal.subject.kind &&
    rule.signal === signal.name &&
    Object.entries(rule.match).every(([name, value]) => signal.labels[name] === value)
  );
}

function describe(rule: AlertRule, value: number | undefined): string {
  switch (rule.kind) {
    case 'threshold':
      return `${rule.signal} ${value} ${rule.op} ${rule.value}`;
    case 'rate_of_change':
      return `${rule.signal} changed by ${value} (${rule.op} ${rule.value})`;
    case 'absence':
      return `no ${rule.signal} for ${Math.round(rule.forSec / 3600)} h`;
    case 'anomaly':
      return `${rule.signal} anomalous (${rule.direction}), value ${value}`;
    case 'composite':
      return `${rule.op} of ${rule.conditions.join(', ')}`;
  }
}

/** Only the rule's id, its condition and the subject's key: never anything a person wrote. */
function summaryOf(rule: AlertRule, subject: Subject, state: 'firing' | 'resolved', value: number | undefined): string {
  return state === 'firing' ? `${rule.id}: ${describe(rule, value)} for ${subjectKey(subject)}` : `${rule.id} resolved for ${subjectKey(subject)}`;
}

interface Moment {
  readonly holds: boolean;
  readonly at: number;
  /** How long the condition must hold before the rule fires. */
  readonly forMs: number;
  readonly value?: number;
  readonly eventId?: string;
  readonly receivedAt?: Date;
}

/**
 * The state machine every kind shares: holding, held for long enough (active), stopped holding
 * (clearing), clear for long enough (resolved). Flap control: an active condition that holds again
 * while clearing stays active, so its alert keeps its identity and pages nobody again.
 */
function settle(rule: AlertRule, subject: Subject, state: ConditionState, moment: Moment): Step {
  const since = !moment.holds ? null : state.holds && state.since !== null ? state.since : moment.at;
  const clearSince = state.active && !moment.holds ? (state.clearSince ?? moment.at) : null;
  const active = state.active
    ? moment.holds || moment.at - clearSince! < rule.clearForSec * 1000
    : since !== null && moment.at - since >= moment.forMs;
  const atRisk = rule.marksAtRisk && active ? markAtRisk(state.atRisk, moment.at, rule.atRiskDays) : state.atRisk;
  const next: ConditionState = { ...state, holds: moment.holds, since, active, atRisk, clearSince: active ? clearSince : null };
  const changed = active !== state.active;
  if (!changed || !rule.notify) return { state: next };
  const kind = active ? 'firing' : 'resolved';
  // A resolution is dated when the condition stopped holding, and never before it began to hold:
  // an absence fires on the tick (now), and a session that arrives later with an earlier
  // occurredAt (history, a slow client) ends it now, not before it began.
  const at = kind === 'resolved' ? Math.max(clearSince ?? moment.at, state.since ?? -Infinity) : moment.at;
  const transition: Transition = {
    state: kind,
    rule: ruleRef(rule),
    subject,
    at: new Date(at),
    summary: summaryOf(rule, subject, kind, moment.value),
    ...(moment.value === undefined ? {} : { value: moment.value }),
    ...(moment.eventId === undefined ? {} : { eventId: moment.eventId }),
    ...(moment.receivedAt === undefined ? {} : { receivedAt: moment.receivedAt }),
  };
  return { state: next, transition };
}

/**
 * The firing transition of a condition that is active now, as it was made when it became active:
 * what the alert lifecycle needs to find again an alert whose opening was lost (the state was
 * saved, then the invocation died before the alert was written). Undefined when nothing fires.
 */
export function stillFiring(rule: AlertRule, subject: Subject, state: ConditionState): Transition | undefined {
  if (!state.active || !rule.notify) return undefined;
  const value = state.lastValue ?? undefined;
  return {
    state: 'firing',
    rule: ruleRef(rule),
    subject,
    at: new Date(state.since ?? state.lastAt ?? 0),
    summary: summaryOf(rule, subject, 'firing', value),
    ...(value === undefined ? {} : { value }),
  };
}

function markAtRisk(current: ConditionState['atRisk'], at: number, days: number): NonNullable<ConditionState['atRisk']> {
  const until = at + days * DAY_MS;
  if (current === null || current.until < at) return { since: at, until };
  return { since: current.since, until: Math.max(current.until, until) };
}

function remember(seen: readonly string[], eventId: string | undefined): readonly string[] {
  return eventId === undefined ? seen : [...seen, eventId].slice(-SEEN_EVENT_IDS);
}

/**
 * A signal the rule watches. A redelivered signal (an event id already seen, or a series point
 * at a time already seen) changes nothing. An older signal than the last one is stale: counted as
 * seen, but the condition stays what the newer signal made it, so a late record cannot flap an
 * alert.
 */
export function observeSignal(rule: SignalRule, stored: ConditionState | undefined, signal: Signal): Step {
  const state = stored ?? INITIAL_CONDITION;
  const at = signal.at.getTime();
  if (signal.eventId !== undefined && state.seen.includes(signal.eventId)) return { state };
  if (state.lastAt !== null && (at < state.lastAt || (at === state.lastAt && signal.eventId === undefined))) {
    return { state: { ...state, seen: remember(state.seen, signal.eventId) } };
  }
  const seenNow: ConditionState = { ...state, lastAt: at, lastValue: signal.value, seen: remember(state.seen, signal.eventId) };
  const moment = {
    at,
    forMs: rule.forSec * 1000,
    value: signal.value,
    ...(signal.eventId === undefined ? {} : { eventId: signal.eventId }),
    ...(signal.receivedAt === undefined ? {} : { receivedAt: signal.receivedAt }),
  };
  switch (rule.kind) {
    case 'threshold':
      return settle(rule, signal.subject, seenNow, { ...moment, holds: compare(signal.value, rule.op, rule.value) });
    case 'rate_of_change': {
      const change = state.lastValue === null ? null : signal.value - state.lastValue;
      return settle(rule, signal.subject, seenNow, { ...moment, value: change ?? 0, holds: change !== null && compare(change, rule.op, rule.value) });
    }
    case 'absence':
      // The subject showed up: the absence is over.
      return settle(rule, signal.subject, seenNow, { ...moment, forMs: 0, holds: false });
    case 'anomaly': {
      // A point without a verdict (a detector still warming up) says nothing either way.
      if (signal.anomaly === undefined) return { state: seenNow };
      const verdict = signal.anomaly;
      const holds =
        verdict.anomalous &&
        (rule.detector === 'any' || rule.detector === verdict.detector) &&
        (rule.direction === 'both' || rule.direction === verdict.direction);
      return settle(rule, signal.subject, seenNow, { ...moment, holds });
    }
  }
}

/** When a user was flagged at risk and until when, as the engine found it in the stored states. */
export interface AtRisk {
  readonly since: number;
  readonly until: number;
}

/**
 * The passing of time, on the scheduled tick: a condition that has now held for `forSec` fires,
 * and an absence rule fires for a subject not heard from for `forSec` (for `at_risk` scope, only
 * while the user is flagged, counting from the last signal or else from the flagging). An
 * absence alert of a user no longer at risk resolves.
 */
export function observeTime(rule: SignalRule, stored: ConditionState | undefined, subject: Subject, now: number, atRisk?: AtRisk): Step {
  const state = stored ?? INITIAL_CONDITION;
  if (rule.kind !== 'absence') {
    // Only a pending condition (holding, not yet for forSec) or a clearing one changes with time.
    if (state.holds === state.active) return { state };
    return settle(rule, subject, state, { holds: state.holds, at: now, forMs: rule.forSec * 1000, ...(state.lastValue === null ? {} : { value: state.lastValue }) });
  }
  const watched = rule.scope === 'seen' || (atRisk !== undefined && atRisk.until > now);
  const from = state.lastAt ?? (rule.scope === 'at_risk' ? atRisk?.since : undefined);
  const absent = watched && from !== undefined && now - from >= rule.forSec * 1000;
  if (absent === state.holds && !clearing(state)) return { state };
  return settle(rule, subject, state, { holds: absent, at: now, forMs: 0 });
}

/** A composite's conditions met (`all`/`any` of its rules active for the subject) or not, at `at`. */
export function observeComposite(rule: CompositeRule, stored: ConditionState | undefined, subject: Subject, met: readonly boolean[], at: number): Step {
  const state = stored ?? INITIAL_CONDITION;
  const holds = rule.op === 'all' ? met.length > 0 && met.every(Boolean) : met.some(Boolean);
  const when = Math.max(at, state.lastAt ?? at);
  if (holds === state.holds && !clearing(state) && (!holds || state.active || state.since === null || when - state.since < rule.forSec * 1000)) return { state };
  return settle(rule, subject, { ...state, lastAt: when }, { holds, at: when, forMs: rule.forSec * 1000 });
}
