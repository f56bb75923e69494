import type { ConditionState } from '../domain/alerting/evaluate';
import type { Subject } from '../domain/alerting/model';
import type { AlertRule } from '../domain/alerting/rules';

/** The alert rules (PostgreSQL), read by the rules engine and `GET/PUT /v1/alert-rules`. */
export interface AlertRuleStore {
  /** The rules in force: `DEFAULT_RULES` merged with the stored ones (a stored rule with a default's id replaces it). */
  list(): Promise<AlertRule[]>;
  /** Replaces every stored rule; the caller has validated them as a document. */
  replace(rules: readonly AlertRule[], actor: string): Promise<void>;
}

/** The state of one rule's condition for one subject, with the version it was read at. */
export interface StoredCondition {
  readonly ruleId: string;
  readonly subject: Subject;
  readonly state: ConditionState;
  /** 0 when nothing is stored yet. */
  readonly version: number;
}

/** Which stored conditions of a rule the scheduled tick needs. */
export type ConditionFilter =
  /** Holding but not active yet: a `forSec` may have passed. */
  | 'pending'
  | 'active'
  /** Not active, and the latest signal before the date: candidates for an absence. */
  | { readonly quietBefore: Date };

export interface AtRiskUser {
  readonly subject: Subject;
  readonly since: Date;
  readonly until: Date;
}

/**
 * Per (rule, subject) condition state. Writes are optimistic: `save` succeeds only when the stored
 * version is still the one read, so of two invocations on the same records one writes and the
 * other reads again and finds the records already counted: one transition between them.
 */
export interface ConditionStore {
  get(ruleId: string, subject: Subject): Promise<StoredCondition>;
  /** The states of several rules for one subject (the conditions of a composite); missing ones are left out. */
  getMany(ruleIds: readonly string[], subject: Subject): Promise<StoredCondition[]>;
  /** Writes `state` as version `expectedVersion + 1`; false, writing nothing, when another writer got there first. */
  save(ruleId: string, subject: Subject, state: ConditionState, expectedVersion: number): Promise<boolean>;
  list(ruleId: string, filter: ConditionFilter): Promise<StoredCondition[]>;
  /** Users that some active `marksAtRisk` rule has flagged and whose flag runs past `at`. */
  atRisk(at: Date): Promise<AtRiskUser[]>;
  /** Erasure: forgets every condition of the subject; answers how many. */
  eraseSubject(subject: Subject): Promise<number>;
  /**
   * Retention: forgets the conditions last written before `cutoff` that hold nothing any more
   * (neither pending, nor active, nor marking a user at risk past the cutoff); answers how many.
   */
  purgeIdleBefore(cutoff: Date): Promise<number>;
}
