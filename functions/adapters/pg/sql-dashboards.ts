import type { Dashboard, DashboardContent, DashboardRole, Viewer, Widget } from '../../domain/dashboards/dashboard';
import type { DashboardStore } from '../../ports/dashboards';
import { textArray } from './array-literals';
import type { SqlExecutor } from './database';

type DashboardRow = { id: string; title: string; owner: string; shared_with: DashboardRole[]; version: number; widgets: Widget[] };

const COLUMNS = 'id, title, owner, shared_with, version, widgets';

const dashboardOf = (row: DashboardRow): Dashboard => ({ id: row.id, title: row.title, owner: row.owner, sharedWith: row.shared_with, version: row.version, widgets: row.widgets });

export class SqlDashboardStore implements DashboardStore {
  constructor(private readonly db: SqlExecutor) {}

  async add(dashboard: Dashboard, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO dashboards (id, title, owner, shared_with, widgets, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4::text[], $5::jsonb, $6, $7, $7)`,
      [dashboard.id, dashboard.title, dashboard.owner, textArray(dashboard.sharedWith), JSON.stringify(dashboard.widgets), dashboard.version, at.toISOString()],
    );
  }

  async get(id: string): Promise<Dashboard | undefined> {
    const { rows } = await this.db.query<DashboardRow>(`SELECT ${COLUMNS} FROM dashboards WHERE id = $1`, [id]);
    return rows[0] && dashboardOf(rows[0]);
  }

  async visibleTo(viewer: Viewer): Promise<Dashboard[]> {
    // canSee, in SQL: admins see all, others their own and those shared with their role.
    const { rows } = await this.db.query<DashboardRow>(
      `SELECT ${COLUMNS} FROM dashboards
        WHERE $1 = 'admin' OR owner = $2 OR $1 = ANY (shared_with)
        ORDER BY created_at, id`,
      [viewer.role, viewer.actor],
    );
    return rows.map(dashboardOf);
  }

  async countOwnedBy(owner: string): Promise<number> {
    const { rows } = await this.db.query<{ count: string }>('SELECT count(*)::text AS count FROM dashboards WHERE owner = $1', [owner]);
    return Number(rows[0]?.count ?? 0);
  }

  async replace(id: string, version: number, content: DashboardContent, at: Date): Promise<Dashboard | undefined> {
    const { rows } = await this.db.query<DashboardRow>(
      `UPDATE dashboards SET title = $3, shared_with = $4::text[], widgets = $5::jsonb, version = version + 1, updated_at = $6
        WHERE id = $1 AND version = $2
        RETURNING ${COLUMNS}`,
      [id, version, content.title, textArray(content.sharedWith), JSON.stringify(content.widgets), at.toISOString()],
    );
    return rows[0] && dashboardOf(rows[0]);
  }

  async remove(id: string): Promise<boolean> {
    const { rows } = await this.db.query('DELETE FROM dashboards WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }
}
