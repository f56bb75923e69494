import type { z } from 'zod';
import { MAX_DASHBOARDS_PER_OWNER, canChange, canSee, type Dashboard, type DashboardContent, type DashboardUpdate, type Viewer } from '../domain/dashboards/dashboard';
import { READY_MADE_DASHBOARDS, readyMadeDashboard } from '../domain/dashboards/ready-made';
import { widgetQueryIssue, type WidgetReach } from '../domain/dashboards/widget-reach';
import type { Clock } from '../ports';
import type { DashboardStore } from '../ports/dashboards';

export interface DashboardsDeps {
  readonly store: DashboardStore;
  readonly clock: Clock;
  readonly newId: () => string;
  /** How long the rollups widgets read from are kept, where known: no widget reaches further back. */
  readonly retention: Omit<WidgetReach, 'now'>;
}

type Invalid = { readonly status: 'invalid'; readonly issue: z.core.$ZodIssue };
/** Why a dashboard the caller sees is not theirs to change. */
type Refused = { readonly status: 'read_only' | 'forbidden' };
type NotFound = { readonly status: 'not_found' };

/** Why a dashboard cannot be changed by the caller. */
export type Unchangeable = Refused | NotFound;
export type Creation = { readonly status: 'created'; readonly dashboard: Dashboard } | Invalid | { readonly status: 'limit_reached' };
export type Save = { readonly status: 'saved'; readonly dashboard: Dashboard } | { readonly status: 'stale'; readonly version: number } | Invalid | Refused | NotFound;
export type Removal = { readonly status: 'deleted' } | Refused | NotFound;

/**
 * Dashboards: the ready-made ones and the saved ones a caller may see, and the changes their
 * owners and admins make, each save checked against the version it was made from.
 */
export function makeDashboards(deps: DashboardsDeps) {
  const invalid = (content: DashboardContent): Invalid | undefined => {
    const issue = widgetQueryIssue(content.widgets, { now: deps.clock.now().getTime(), ...deps.retention });
    return issue && { status: 'invalid', issue };
  };

  /**
   * The dashboard if the viewer may see it: one they may not is not found, not refused, so its
   * existence is not told. `id` is a ready-made one's or a UUID (the handler checks it).
   */
  async function visible(id: string, viewer: Viewer): Promise<Dashboard | undefined> {
    const dashboard = readyMadeDashboard(id) ?? (await deps.store.get(id));
    return dashboard && canSee(dashboard, viewer) ? dashboard : undefined;
  }

  /** The dashboard the viewer may change, or why not. */
  async function changeable(id: string, viewer: Viewer): Promise<Dashboard | Unchangeable> {
    const dashboard = await visible(id, viewer);
    if (!dashboard) return { status: 'not_found' };
    if (readyMadeDashboard(id)) return { status: 'read_only' };
    return canChange(dashboard, viewer) ? dashboard : { status: 'forbidden' };
  }

  return {
    async list(viewer: Viewer): Promise<Dashboard[]> {
      return [...READY_MADE_DASHBOARDS.filter((dashboard) => canSee(dashboard, viewer)), ...(await deps.store.visibleTo(viewer))];
    },

    get: visible,

    async create(content: DashboardContent, viewer: Viewer): Promise<Creation> {
      const refused = invalid(content);
      if (refused) return refused;
      if ((await deps.store.countOwnedBy(viewer.actor)) >= MAX_DASHBOARDS_PER_OWNER) return { status: 'limit_reached' };
      const dashboard: Dashboard = { id: deps.newId(), title: content.title, owner: viewer.actor, sharedWith: content.sharedWith, version: 1, widgets: content.widgets };
      await deps.store.add(dashboard, deps.clock.now());
      return { status: 'created', dashboard };
    },

    /** Saves the whole dashboard if it is still at the version the update was made from. */
    async save(id: string, update: DashboardUpdate, viewer: Viewer): Promise<Save> {
      const { version, ...content } = update;
      const refused = invalid(content);
      if (refused) return refused;
      const current = await changeable(id, viewer);
      if ('status' in current) return current;
      const saved = await deps.store.replace(id, version, content, deps.clock.now());
      if (saved) return { status: 'saved', dashboard: saved };
      const now = await deps.store.get(id);
      return now ? { status: 'stale', version: now.version } : { status: 'not_found' };
    },

    async remove(id: string, viewer: Viewer): Promise<Removal> {
      const current = await changeable(id, viewer);
      if ('status' in current) return current;
      return (await deps.store.remove(id)) ? { status: 'deleted' } : { status: 'not_found' };
    },
  };
}

export type Dashboards = ReturnType<typeof makeDashboards>;
