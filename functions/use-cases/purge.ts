import type { Logger } from '../adapters/log';
import { purgeCutoffs, type RetentionPolicy } from '../domain/privacy/retention';
import type { Clock } from '../ports';
import type { PurgeResult, RollupStore } from '../ports/rollups';
import type { AuditLog } from '../ports/audit';
import type { ObjectStore } from '../ports';
import type { ReportIndex } from '../ports/reports';
import type { OperationalMinuteHistory } from '../ports/anomalies';
import type { AlertStore, RecipientStore } from '../ports/alerts';
import type { ConditionStore } from '../ports/alert-rules';
import type { InterventionStore } from '../ports/interventions';
import { MOOD_WINDOW_MS } from '../domain/alerting/intervention-effectiveness';

export interface PurgeDeps {
  readonly rollups: RollupStore;
  readonly audit: Pick<AuditLog, 'purgeBefore'>;
  /** `objects` where no lifecycle rule expires the report files (every local mode). */
  readonly reports: { readonly index: Pick<ReportIndex, 'purgeBefore'>; readonly objects?: Pick<ObjectStore, 'delete'> };
  /** Kept with the hour rollups: the operational report reads both for the same days. */
  readonly operationalMinutes: Pick<OperationalMinuteHistory, 'purgeBefore'>;
  readonly alerts: Pick<AlertStore, 'purgeResolvedBefore'>;
  readonly conditions: Pick<ConditionStore, 'purgeIdleBefore'>;
  /** Kept as long as alerts: each is the other half of a rule's firing. */
  readonly interventions: Pick<InterventionStore, 'purgeBefore' | 'forgetMoodsBefore'>;
  /** Digests sent and warning pages counted: kept as long as the alerts they were of. */
  readonly recipients: Pick<RecipientStore, 'purgeBefore'>;
  readonly policy: RetentionPolicy;
  /** Makes the purged rows' space reusable where the database does not by itself (the embedded PGlite). */
  readonly compact?: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Deletes what the retention policy no longer keeps (scheduled daily in AWS, hourly locally, and soon after the local runtime starts). */
export function makePurge(deps: PurgeDeps) {
  return async function purge(): Promise<PurgeResult & { auditEntries: number; reports: number; operationalMinutes: number; alerts: number; conditions: number; interventions: number; moods: number; digests: number }> {
    const now = deps.clock.now();
    const cutoffs = purgeCutoffs(deps.policy, now);
    const expiredReports = await deps.reports.index.purgeBefore(new Date(cutoffs.reports));
    for (const key of expiredReports) await deps.reports.objects?.delete(key);
    const result = {
      ...(await deps.rollups.purge(cutoffs)),
      auditEntries: await deps.audit.purgeBefore(new Date(cutoffs.audit)),
      reports: expiredReports.length,
      operationalMinutes: await deps.operationalMinutes.purgeBefore(new Date(cutoffs.hourRollups)),
      alerts: await deps.alerts.purgeResolvedBefore(new Date(cutoffs.alerts)),
      conditions: await deps.conditions.purgeIdleBefore(new Date(cutoffs.alerts)),
      interventions: await deps.interventions.purgeBefore(new Date(cutoffs.alerts)),
      // A last mood is kept only while it can still be a mood before: a week.
      moods: await deps.interventions.forgetMoodsBefore(new Date(now.getTime() - MOOD_WINDOW_MS)),
      digests: await deps.recipients.purgeBefore(new Date(cutoffs.alerts)),
    };
    await deps.compact?.();
    deps.logger.info('purged', result);
    return result;
  };
}

export type Purge = ReturnType<typeof makePurge>;
