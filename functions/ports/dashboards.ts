import type { Dashboard, DashboardContent, Viewer } from '../domain/dashboards/dashboard';

/**
 * Saved dashboards (PostgreSQL): staff configuration, no user data. The ready-made ones are the
 * product's code (domain/dashboards/ready-made.ts), never rows here.
 */
export interface DashboardStore {
  /** Keeps a new dashboard as it is given (its version 1). */
  add(dashboard: Dashboard, at: Date): Promise<void>;
  get(id: string): Promise<Dashboard | undefined>;
  /** The dashboards `viewer` may see by the rule of `canSee` (domain/dashboards/dashboard.ts), oldest first. */
  visibleTo(viewer: Viewer): Promise<Dashboard[]>;
  countOwnedBy(owner: string): Promise<number>;
  /**
   * Replaces the content of the dashboard if it is still at `version`, as the next version, in one
   * compare-and-set: of two saves made from the same version, one moves it on and the other finds
   * it moved. Undefined when it is not at that version (changed since, or gone).
   */
  replace(id: string, version: number, content: DashboardContent, at: Date): Promise<Dashboard | undefined>;
  /** False when there was none. */
  remove(id: string): Promise<boolean>;
}
