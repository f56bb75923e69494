import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../adapters/pg/migrator';
import { connectDatabase } from '../config/lambda';

const logger = lambdaLogger('migrate');

/**
 * The deploy-time migration custom resource (through `cr.Provider`): applies the product's SQL
 * migrations on create and update. Delete leaves the schema alone: data outlives a stack update
 * that drops the resource, and the cluster's own removal policy decides its fate.
 */
export const handler = logger.around(async (event: Pick<CloudFormationCustomResourceEvent, 'RequestType'>): Promise<{ PhysicalResourceId: string; Data: { applied: string } }> => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: 'schema-migrations', Data: { applied: '' } };
  const db = await connectDatabase({ logger });
  try {
    const applied = await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    logger.info('migrated', { applied: applied.join(',') || 'none' });
    return { PhysicalResourceId: 'schema-migrations', Data: { applied: applied.join(',') } };
  } finally {
    await db.close();
  }
});
