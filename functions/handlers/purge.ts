import type { ScheduledEvent } from 'aws-lambda';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { SqlOperationalMinutes } from '../adapters/pg/sql-operational-minutes';
import { SqlAlertStore } from '../adapters/pg/sql-alert-store';
import { SqlRecipientStore } from '../adapters/pg/sql-recipient-store';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { parseEnv, retentionEnv, retentionPolicy } from '../config/env';
import { connectDatabase } from '../config/lambda';
import { makePurge } from '../use-cases/purge';
import { lazyHandler } from './lazy';

/** The scheduled retention purge (EventBridge, daily): what the policy no longer keeps is deleted. */
const logger = lambdaLogger('purge');

export const handler = logger.around(
  lazyHandler(async () => {
    const policy = retentionPolicy(parseEnv(retentionEnv));
    const db = await connectDatabase({ logger });
    // The report files expire by the bucket's lifecycle rule; the purge drops their index entries.
    const purge = makePurge({
      rollups: new SqlRollupStore(db),
      audit: new SqlAuditLog(db),
      reports: { index: new SqlReportIndex(db) },
      operationalMinutes: new SqlOperationalMinutes(db),
      alerts: new SqlAlertStore(db),
      conditions: new SqlConditionStore(db),
      interventions: new SqlInterventionStore(db),
      recipients: new SqlRecipientStore(db),
      policy,
      clock: { now: () => new Date() },
      logger,
    });
    return (_event: Pick<ScheduledEvent, 'time'>) => purge();
  }),
);
