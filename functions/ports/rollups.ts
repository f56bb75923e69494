import type { StoredEvent } from '../domain/events/schema';
import type { GroupTileMaxima, GroupUsersRow, ReadPlan, SeriesRow } from '../domain/rollups/metric-query';

/** Time-bucketed metric rollups (PostgreSQL): written by the aggregator, read by metric queries. */
export interface RollupStore {
  /**
   * Folds the events into the rollups exactly once per eventId: events seen before (a replayed
   * stream batch) and repeats within the batch are counted in `duplicates` and change nothing.
   */
  applyEvents(events: readonly StoredEvent[]): Promise<{ applied: number; duplicates: number }>;
  /** The rows of `plan.series`: one per group and bucket with events. */
  readSeries(plan: ReadPlan['series']): Promise<SeriesRow[]>;
  /** Per group, the largest distinct-users count of any one stored row of `plan`'s tiles. */
  readGroupTileMaxima(plan: ReadPlan['users']): Promise<GroupTileMaxima>;
  /** The users sketches of the rows of `plan`'s tiles for `groupKeys`, one per stored row (the caller merges per group). */
  readGroupUsers(plan: ReadPlan['users'], groupKeys: readonly string[]): Promise<GroupUsersRow[]>;
}
