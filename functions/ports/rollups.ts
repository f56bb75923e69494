import type { StoredEvent } from '../domain/events/schema';
import type { GroupTileMaxima, GroupUsersRow, SeriesRow, SeriesSelection, SeriesSketchRow, TileSelection } from '../domain/rollups/metric-query';

/** Time-bucketed metric rollups (PostgreSQL): written by the aggregator, read by metric queries. */
export interface RollupStore {
  /**
   * Folds the events into the rollups exactly once per eventId: events seen before (a replayed
   * stream batch) and repeats within the batch are counted in `duplicates` and change nothing.
   */
  applyEvents(events: readonly StoredEvent[]): Promise<{ applied: number; duplicates: number }>;
  /** The selected rows: one per group and bucket with events. */
  readSeries(rows: SeriesSelection): Promise<SeriesRow[]>;
  /** The selected rows with their sketches, to be summed into coarser groups. */
  readSeriesSketches(rows: SeriesSelection): Promise<SeriesSketchRow[]>;
  /** Per group, the largest distinct-users count of any one selected row. */
  readGroupTileMaxima(rows: TileSelection): Promise<GroupTileMaxima>;
  /** The users sketches of the selected rows of `groupKeys`, one per stored row (the caller merges per group). */
  readGroupUsers(rows: TileSelection, groupKeys: readonly string[]): Promise<GroupUsersRow[]>;
}
