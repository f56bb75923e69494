import type { StoredEvent } from '../domain/events/schema';
import type { PurgeCutoffs } from '../domain/privacy/retention';
import type { DecidedHours, SeriesRow, SeriesSelection, SeriesSketchRow, Span, UsedRows } from '../domain/rollups/metric-query';

export interface RollUpStep {
  /** Epoch ms: hour and day rows now hold every event of the minutes before it. */
  readonly rolledUpTo: number;
  /** How many minute rows the step folded. */
  readonly minuteRows: number;
  /** False when minutes before `until` remain for further steps. */
  readonly done: boolean;
}

/** What metric queries read of the rollups. */
export interface RollupReader {
  /** The selected rows: one per group and bucket with events. */
  readSeries(rows: SeriesSelection): Promise<SeriesRow[]>;
  /**
   * The selected rows with their sketches, to be summed into coarser groups; with `spans` (of
   * whole UTC days within the selection, for an hour selection), only the rows within them. Rows
   * `used` refuses may be left out, their sketches not read back. `decided`, this store's answer to
   * readDecidedHours of the same rows, lets it reuse what that read took.
   */
  readSeriesSketches(rows: SeriesSelection, spans?: readonly Span[], used?: UsedRows, decided?: DecidedHours): Promise<SeriesSketchRow[]>;
  /**
   * An hour selection's rows of the whole UTC days, from its start, whose release decisions for
   * `k` the store keeps (DecidedHours), read in one snapshot. A store that keeps none leaves it out.
   */
  readDecidedHours?(rows: SeriesSelection, k: number): Promise<DecidedHours>;
}

/** Time-bucketed metric rollups (PostgreSQL): written by the aggregator and the roll-up, read by metric queries. */
export interface AppliedEvents {
  readonly applied: number;
  readonly duplicates: number;
  /**
   * The events applied by this call (the first of each new eventId), in no set order: what may be
   * counted downstream once per event, whatever the stream redelivers.
   */
  readonly fresh: readonly StoredEvent[];
}

export interface RollupStore extends RollupReader {
  /**
   * Folds the events into the rollups exactly once per eventId: events seen before (a replayed
   * stream batch) and repeats within the batch are counted in `duplicates` and change nothing.
   */
  applyEvents(events: readonly StoredEvent[]): Promise<AppliedEvents>;
  /**
   * One step of the roll-up: folds minutes before `until` (epoch ms) into hour and day rows, as
   * many as one step may take. Reads answer the same before and after; the roll-up only makes
   * them, and the aggregator's writes, cheaper.
   */
  rollUp(until: number): Promise<RollUpStep>;
  /**
   * Deletes event ids, minute rows and hour rows from before their cutoffs; minute rows the
   * roll-up has not folded yet are kept whatever their age. Day rows are kept.
   */
  purge(cutoffs: RollupPurgeCutoffs): Promise<PurgeResult>;
  /**
   * Erasure: deletes the subject's event ids, research values, feature row and the archetypes fits put them in,
   * and records the erasure, after which the subject's
   * events received before `erasedAt` are never applied. The rollups already written stay.
   */
  eraseSubject(subject: string, erasedAt: Date): Promise<{ eventIds: number; researchValues: number; featureRows: number; patternAssignments: number }>;
}

/** The cutoffs the rollup store enforces (the audit trail has its own). */
export type RollupPurgeCutoffs = Pick<PurgeCutoffs, 'idempotencyKeys' | 'minuteRollups' | 'hourRollups'>;

/** How many of each were deleted. */
export interface PurgeResult {
  readonly idempotencyKeys: number;
  readonly minuteRows: number;
  readonly hourRows: number;
}
