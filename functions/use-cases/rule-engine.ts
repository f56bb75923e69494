import type { Clock } from '../ports';
import type { AlertRuleStore, ConditionStore } from '../ports/alert-rules';
import { clearing, observeComposite, observeSignal, observeTime, stillFiring, watches, type AtRisk, type ConditionState, type Step } from '../domain/alerting/evaluate';
import { subjectKey, type Signal, type Subject, type Transition } from '../domain/alerting/model';
import { alertRulesDocumentSchema, compositesInOrder, type AlertRule, type CompositeRule, type SignalRule } from '../domain/alerting/rules';

export interface RuleEngineDeps {
  readonly rules: AlertRuleStore;
  readonly conditions: ConditionStore;
  readonly clock: Clock;
  /** How long the rules read from the store are used before they are read again; 5 s by default. */
  readonly cacheMs?: number;
}

export interface RuleEngine {
  /** Every enabled rule that watches the signals, then the composites over them: the transitions they made, in order. */
  observe(signals: readonly Signal[]): Promise<Transition[]>;
  /** The scheduled check: absences, conditions that have now held for their `forSec`, and composites. */
  tick(): Promise<Transition[]>;
  /**
   * A firing transition for every active condition of an enabled rule: applied each minute, it
   * opens any alert whose opening was lost between the condition's save and the alert's write,
   * and changes nothing for alerts that exist (the lifecycle deduplicates by fingerprint).
   */
  stillFiring(): Promise<Transition[]>;
}

// Each retry follows a write by another invocation on the same (rule, subject); more than a few means a hot loop.
const MAX_ATTEMPTS = 5;

const sameState = (a: ConditionState, b: ConditionState): boolean => JSON.stringify(a) === JSON.stringify(b);

const isQuiet = (state: ConditionState): boolean => !state.holds && !state.active && state.atRisk === null;

/**
 * A threshold or anomaly condition that has never held needs no row: nothing later depends on a
 * value that did not cross, unlike a rate of change's previous value or an absence's last
 * activity. Without this the detect consumer wrote a row per user for every calm choice.
 */
const needsNoRowUntilItHolds = (rule: SignalRule): boolean => rule.kind === 'threshold' || rule.kind === 'anomaly';

export function makeRuleEngine(deps: RuleEngineDeps): RuleEngine {
  const cacheMs = deps.cacheMs ?? 5_000;
  let cache: { readonly rules: AlertRule[]; readonly loadedAt: number } | undefined;
  const { conditions } = deps;

  /** The enabled rules, read again once the cache time has passed, so a PUT takes effect without a deploy. */
  async function enabledRules(): Promise<AlertRule[]> {
    const now = deps.clock.now().getTime();
    if (cache === undefined || now - cache.loadedAt >= cacheMs) cache = { rules: (await deps.rules.list()).filter((rule) => rule.enabled), loadedAt: now };
    return cache.rules;
  }

  /**
   * Read, evaluate, write if the version is unchanged, else again: the transitions of the write
   * that succeeded, so two invocations racing on the same records report each transition once.
   */
  async function update(ruleId: string, subject: Subject, evaluate: (state: ConditionState | undefined) => Step[], skipQuietStart = false): Promise<Transition[]> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const stored = await conditions.get(ruleId, subject);
      const steps = evaluate(stored.version === 0 ? undefined : stored.state);
      const state = steps[steps.length - 1]?.state ?? stored.state;
      const transitions = steps.flatMap((step) => (step.transition ? [step.transition] : []));
      if (skipQuietStart && stored.version === 0 && isQuiet(state)) return transitions;
      if (sameState(state, stored.state) || (await conditions.save(ruleId, subject, state, stored.version))) return transitions;
    }
    throw new Error(`the condition of ${ruleId} for ${subjectKey(subject)} changed under ${MAX_ATTEMPTS} attempts; the records will be retried`);
  }

  /** Folds the signals of one (rule, subject), oldest first, through the rule. */
  const observeAll = (rule: SignalRule, signals: readonly Signal[]) => (initial: ConditionState | undefined) => {
    const steps: Step[] = [];
    let state = initial;
    for (const signal of signals) {
      const step = observeSignal(rule, state, signal);
      steps.push(step);
      state = step.state;
    }
    return steps;
  };

  /** The composites of the subject's kind that depend on a changed rule, each after its own conditions. */
  async function evaluateComposites(rules: readonly AlertRule[], subject: Subject, changed: Set<string>, at: number): Promise<Transition[]> {
    const enabled = new Set(rules.map((rule) => rule.id));
    const transitions: Transition[] = [];
    for (const composite of compositesInOrder(rules)) {
      if (composite.subject !== subject.kind || !composite.conditions.some((id) => changed.has(id))) continue;
      transitions.push(...(await evaluateComposite(composite, subject, enabled, at)));
      changed.add(composite.id);
    }
    return transitions;
  }

  async function evaluateComposite(composite: CompositeRule, subject: Subject, enabled: ReadonlySet<string>, at: number): Promise<Transition[]> {
    const states = new Map((await conditions.getMany(composite.conditions, subject)).map((stored) => [stored.ruleId, stored.state]));
    // A disabled condition is not met, whatever state it left behind.
    const met = composite.conditions.map((id) => enabled.has(id) && states.get(id)?.active === true);
    return update(composite.id, subject, (state) => [observeComposite(composite, state, subject, met, at)]);
  }

  async function observe(signals: readonly Signal[]): Promise<Transition[]> {
    if (signals.length === 0) return [];
    const rules = await enabledRules();
    const signalRules = rules.filter((rule): rule is SignalRule => rule.kind !== 'composite');
    const groups = new Map<string, { rule: SignalRule; subject: Subject; signals: Signal[] }>();
    const subjects = new Map<string, { subject: Subject; at: number; rules: Set<string> }>();
    // Oldest first: a batch holding a user's records out of order is put back in order before evaluation.
    for (const signal of [...signals].sort((a, b) => a.at.getTime() - b.at.getTime())) {
      for (const rule of signalRules) {
        if (!watches(rule, signal)) continue;
        const key = `${rule.id}\n${subjectKey(signal.subject)}`;
        const group = groups.get(key) ?? { rule, subject: signal.subject, signals: [] };
        group.signals.push(signal);
        groups.set(key, group);
        const touched = subjects.get(subjectKey(signal.subject)) ?? { subject: signal.subject, at: 0, rules: new Set<string>() };
        touched.at = Math.max(touched.at, signal.at.getTime());
        touched.rules.add(rule.id);
        subjects.set(subjectKey(signal.subject), touched);
      }
    }
    const fromSignals = await Promise.all(
      [...groups.values()].map((group) => update(group.rule.id, group.subject, observeAll(group.rule, group.signals), needsNoRowUntilItHolds(group.rule))),
    );
    const fromComposites = await Promise.all([...subjects.values()].map((touched) => evaluateComposites(rules, touched.subject, touched.rules, touched.at)));
    return [...fromSignals.flat(), ...fromComposites.flat()];
  }

  async function tick(): Promise<Transition[]> {
    const rules = await enabledRules();
    const now = deps.clock.now();
    const nowMs = now.getTime();
    const transitions: Transition[] = [];
    const timed = (rule: SignalRule, subject: Subject, atRisk?: AtRisk) => update(rule.id, subject, (state) => [observeTime(rule, state, subject, nowMs, atRisk)]);
    const atRiskUsers = rules.some((rule) => rule.kind === 'absence' && rule.scope === 'at_risk') ? await conditions.atRisk(now) : [];

    for (const rule of rules) {
      if (rule.kind === 'composite') continue;
      // Alerts kept open while their condition is clear resolve once it has been for clearForSec
      // (an at-risk absence's are evaluated with the flagged users below).
      if (rule.clearForSec > 0 && !(rule.kind === 'absence' && rule.scope === 'at_risk')) {
        for (const stored of await conditions.list(rule.id, 'active')) if (clearing(stored.state)) transitions.push(...(await timed(rule, stored.subject)));
      }
      if (rule.kind !== 'absence') {
        if (rule.forSec > 0) for (const stored of await conditions.list(rule.id, 'pending')) transitions.push(...(await timed(rule, stored.subject)));
        continue;
      }
      if (rule.scope === 'seen') {
        const quietBefore = new Date(nowMs - rule.forSec * 1000);
        for (const stored of await conditions.list(rule.id, { quietBefore })) transitions.push(...(await timed(rule, stored.subject)));
        continue;
      }
      const flagged = new Map(atRiskUsers.map((user) => [subjectKey(user.subject), user]));
      for (const user of atRiskUsers) transitions.push(...(await timed(rule, user.subject, { since: user.since.getTime(), until: user.until.getTime() })));
      // Absence alerts of users whose flag has run out resolve.
      for (const stored of await conditions.list(rule.id, 'active')) {
        if (!flagged.has(subjectKey(stored.subject))) transitions.push(...(await timed(rule, stored.subject)));
      }
    }

    const enabled = new Set(rules.map((rule) => rule.id));
    for (const composite of compositesInOrder(rules)) {
      const candidates = new Map<string, Subject>();
      for (const id of composite.conditions) for (const stored of await conditions.list(id, 'active')) candidates.set(subjectKey(stored.subject), stored.subject);
      for (const filter of ['pending', 'active'] as const) for (const stored of await conditions.list(composite.id, filter)) candidates.set(subjectKey(stored.subject), stored.subject);
      for (const subject of candidates.values()) {
        if (subject.kind === composite.subject) transitions.push(...(await evaluateComposite(composite, subject, enabled, nowMs)));
      }
    }
    return transitions;
  }

  async function stillFiringAll(): Promise<Transition[]> {
    const transitions: Transition[] = [];
    for (const rule of await enabledRules()) {
      if (!rule.notify) continue;
      for (const stored of await conditions.list(rule.id, 'active')) {
        const transition = stillFiring(rule, stored.subject, stored.state);
        if (transition) transitions.push(transition);
      }
    }
    return transitions;
  }

  return { observe, tick, stillFiring: stillFiringAll };
}

export interface AlertRulesAdminDeps {
  readonly rules: AlertRuleStore;
}

/** `GET/PUT /v1/alert-rules`. A bad body throws the ZodError, which the handler answers with 400 naming the field. */
export function makeAlertRulesAdmin(deps: AlertRulesAdminDeps) {
  return {
    async getRules(): Promise<{ rules: AlertRule[] }> {
      return { rules: await deps.rules.list() };
    },
    async putRules(body: unknown, actor: string): Promise<{ rules: AlertRule[] }> {
      const document = alertRulesDocumentSchema.parse(body);
      await deps.rules.replace(document.rules, actor);
      return { rules: await deps.rules.list() };
    },
  };
}

export type AlertRulesAdmin = ReturnType<typeof makeAlertRulesAdmin>;
