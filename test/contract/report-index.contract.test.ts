import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlReportIndex } from '../../functions/adapters/pg/sql-report-index';
import type { ReportEntry } from '../../functions/ports/reports';
import { contractOnBothDatabases } from '../support/both-databases';

const entry = (n: number, createdAt: string): ReportEntry => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  kind: 'research',
  createdAt,
  createdBy: 'analyst-1',
  role: 'analyst',
  parameters: { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', epsilon: 0.5 },
  summary: { released: ['events'], suppressed: ['sessions'] },
  objectKey: `reports/research/${n}.csv`,
  contentType: 'text/csv',
});

async function expectIndexContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const index = new SqlReportIndex(db);
  await index.add(entry(1, '2025-10-01T00:00:00.000Z'));
  await index.add(entry(2, '2026-11-20T00:00:00.000Z'));

  expect(await index.get(entry(2, '').id)).toEqual(entry(2, '2026-11-20T00:00:00.000Z'));
  expect(await index.get('00000000-0000-4000-8000-000000000009')).toBeUndefined();
  expect(await index.purgeBefore(new Date('2025-11-25T00:00:00.000Z'))).toEqual(['reports/research/1.csv']);
  expect(await index.get(entry(1, '').id)).toBeUndefined();
  expect(await index.purgeBefore(new Date('2025-11-25T00:00:00.000Z'))).toEqual([]);
}

contractOnBothDatabases('SQL report index', 'keeps entries as added, and purges those created before a cutoff, answering their object keys', expectIndexContract);
