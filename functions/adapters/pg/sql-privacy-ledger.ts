import type { PrivacyCost } from '../../domain/privacy/noise/mechanisms';
import { canSpend, type PrivacyBudget, type SpendDecision } from '../../domain/privacy/noise/privacy-budget';
import type { LedgerEntry, PrivacyLedger } from '../../ports/privacy-ledger';
import type { SqlDatabase, SqlExecutor } from './database';

// numeric as text: the spends are summed exactly as the decimals they were written as.
const SPENDS = 'SELECT epsilon::text AS epsilon, delta::text AS delta FROM privacy_ledger WHERE dataset = $1 ORDER BY id';

async function spendsOf(db: SqlExecutor, dataset: string): Promise<PrivacyCost[]> {
  const { rows } = await db.query<{ epsilon: string; delta: string }>(SPENDS, [dataset]);
  return rows.map((row) => ({ epsilon: Number(row.epsilon), delta: Number(row.delta) }));
}

export class SqlPrivacyLedger implements PrivacyLedger {
  constructor(private readonly db: SqlDatabase) {}

  spend(entry: LedgerEntry, budget: PrivacyBudget): Promise<SpendDecision> {
    return this.db.transaction(async (tx) => {
      // Releases of one dataset take turns from reading the spends to recording theirs.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('privacy_ledger:' || $1))", [entry.dataset]);
      const decision = canSpend(budget, await spendsOf(tx, entry.dataset), entry.cost);
      if (decision.ok) {
        await tx.query('INSERT INTO privacy_ledger (dataset, at, actor, role, release, epsilon, delta) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)', [
          entry.dataset,
          entry.at.toISOString(),
          entry.actor,
          entry.role,
          JSON.stringify(entry.release),
          String(entry.cost.epsilon),
          String(entry.cost.delta),
        ]);
      }
      return decision;
    });
  }

  spent(dataset: string): Promise<PrivacyCost[]> {
    return spendsOf(this.db, dataset);
  }
}
