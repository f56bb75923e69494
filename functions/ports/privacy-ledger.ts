import type { PrivacyCost } from '../domain/privacy/noise/mechanisms';
import type { PrivacyBudget, SpendDecision } from '../domain/privacy/noise/privacy-budget';

export interface LedgerEntry {
  readonly dataset: string;
  readonly at: Date;
  readonly actor: string;
  readonly role: string;
  /** What was released (metric, range, mechanism): never a user. */
  readonly release: Readonly<Record<string, unknown>>;
  readonly cost: PrivacyCost;
}

/** The privacy budget's ledger (PostgreSQL). */
export interface PrivacyLedger {
  /** Decides against the dataset's past spends and, when admitted, records the entry: one step, so two releases cannot both take the last of a budget. */
  spend(entry: LedgerEntry, budget: PrivacyBudget): Promise<SpendDecision>;
  /** Every spend of the dataset so far. */
  spent(dataset: string): Promise<PrivacyCost[]>;
}
