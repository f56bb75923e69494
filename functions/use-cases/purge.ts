import type { Logger } from '../adapters/log';
import { purgeCutoffs, type RetentionPolicy } from '../domain/privacy/retention';
import type { Clock } from '../ports';
import type { PurgeResult, RollupStore } from '../ports/rollups';
import type { AuditLog } from '../ports/audit';

export interface PurgeDeps {
  readonly rollups: RollupStore;
  readonly audit: Pick<AuditLog, 'purgeBefore'>;
  readonly policy: RetentionPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Deletes what the retention policy no longer keeps (scheduled daily in AWS, hourly locally). */
export function makePurge(deps: PurgeDeps) {
  return async function purge(): Promise<PurgeResult & { auditEntries: number }> {
    const cutoffs = purgeCutoffs(deps.policy, deps.clock.now());
    const result = { ...(await deps.rollups.purge(cutoffs)), auditEntries: await deps.audit.purgeBefore(new Date(cutoffs.audit)) };
    deps.logger.info('purged', result);
    return result;
  };
}

export type Purge = ReturnType<typeof makePurge>;
