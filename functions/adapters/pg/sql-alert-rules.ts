import { alertRuleSchema, DEFAULT_RULES, mergeRules, type AlertRule } from '../../domain/alerting/rules';
import type { AlertRuleStore } from '../../ports/alert-rules';
import type { SqlDatabase } from './database';

export class SqlAlertRuleStore implements AlertRuleStore {
  constructor(private readonly db: SqlDatabase) {}

  async list(): Promise<AlertRule[]> {
    const { rows } = await this.db.query<{ body: unknown }>('SELECT body FROM alert_rules ORDER BY id');
    // Parsed again: a stored rule is the document it was accepted as, with the defaults of today's schema.
    return mergeRules(
      DEFAULT_RULES,
      rows.map((row) => alertRuleSchema.parse(row.body)),
    );
  }

  async replace(rules: readonly AlertRule[], actor: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Serialises two PUTs: the later one wins whole, never a mix of both.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('alert_rules'))");
      await tx.query('DELETE FROM alert_rules');
      for (const rule of rules) {
        await tx.query('INSERT INTO alert_rules (id, body, updated_by) VALUES ($1, $2::jsonb, $3)', [rule.id, JSON.stringify(rule), actor]);
      }
    });
  }
}
