import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlDashboardStore } from '../../functions/adapters/pg/sql-dashboards';
import { canSee, type Dashboard, type DashboardContent, type Viewer } from '../../functions/domain/dashboards/dashboard';
import { contractOnBothDatabases } from '../support/both-databases';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2027, 2, 1, 9, minute));

const content = (title: string, sharedWith: DashboardContent['sharedWith'] = []): DashboardContent => ({
  title,
  sharedWith,
  widgets: [{ id: 'w1', title: 'Sessions', query: { metric: 'sessions', interval: 'day', groupBy: ['platform'], filter: { platform: ['ios'] }, timeZone: 'Europe/London', range: 'P30D' }, chart: 'line', grid: { x: 0, y: 0, w: 6, h: 4 } }],
});
const dashboard = (n: number, owner: string, title: string, sharedWith: DashboardContent['sharedWith'] = []): Dashboard => ({ id: id(n), owner, version: 1, ...content(title, sharedWith) });

const VIEWERS: Viewer[] = [
  { actor: 'analyst-1', role: 'analyst' },
  { actor: 'analyst-2', role: 'analyst' },
  { actor: 'clinician-1', role: 'clinician' },
  { actor: 'admin-1', role: 'admin' },
];

async function expectDashboardStoreContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const store = new SqlDashboardStore(db);
  const saved = [dashboard(1, 'analyst-1', 'Mine'), dashboard(2, 'analyst-1', 'For analysts', ['analyst']), dashboard(3, 'clinician-1', 'For everyone', ['analyst', 'clinician']), dashboard(4, 'admin-1', 'For clinicians', ['clinician'])];
  for (const [n, each] of saved.entries()) await store.add(each, at(n));

  // Kept as given, widgets and all.
  expect(await store.get(id(3))).toEqual(saved[2]);
  expect(await store.get(id(9))).toBeUndefined();

  // Listed, oldest first, by the same rule as canSee.
  for (const viewer of VIEWERS) {
    expect({ viewer: viewer.actor, seen: (await store.visibleTo(viewer)).map((each) => each.title) }).toEqual({ viewer: viewer.actor, seen: saved.filter((each) => canSee(each, viewer)).map((each) => each.title) });
  }
  expect((await store.visibleTo({ actor: 'analyst-2', role: 'analyst' })).map((each) => each.title)).toEqual(['For analysts', 'For everyone']);
  expect([await store.countOwnedBy('analyst-1'), await store.countOwnedBy('nobody')]).toEqual([2, 0]);

  // Saved on the version it was made from, as the next version; refused on any other, changing nothing.
  const renamed = await store.replace(id(1), 1, content('Mine, renamed', ['clinician']), at(10));
  expect(renamed).toEqual({ ...saved[0], version: 2, title: 'Mine, renamed', sharedWith: ['clinician'] });
  expect(await store.replace(id(1), 1, content('Stale'), at(11))).toBeUndefined();
  expect(await store.replace(id(1), 3, content('From the future'), at(11))).toBeUndefined();
  expect(await store.replace(id(9), 1, content('Nobody'), at(11))).toBeUndefined();
  expect(await store.get(id(1))).toEqual(renamed);

  // Saves made from one version at the same time: exactly one is kept, and it is what the store holds.
  const racing = await Promise.all(Array.from({ length: 8 }, (_, n) => store.replace(id(2), 1, content(`Racer ${n}`), at(20))));
  const winners = racing.filter((each) => each !== undefined);
  expect(winners).toHaveLength(1);
  expect(await store.get(id(2))).toEqual({ ...winners[0], version: 2 });

  // Deleted once; a second delete finds none.
  expect(await store.remove(id(4))).toBe(true);
  expect(await store.remove(id(4))).toBe(false);
  expect([await store.get(id(4)), (await store.visibleTo({ actor: 'admin-1', role: 'admin' })).map((each) => each.id)]).toEqual([undefined, [id(1), id(2), id(3)]]);
}

contractOnBothDatabases('SQL dashboard store', 'keeps dashboards, lists those a viewer may see, saves only on the version read (one of racing saves wins) and deletes', expectDashboardStoreContract);
