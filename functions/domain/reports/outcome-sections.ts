import type { FeatureState } from '../behaviour/features';
import { OUTCOME_DAYS } from '../behaviour/outcome-features';
import { OUTCOME_NAMES, outcomeStatus, type OutcomeName } from '../behaviour/outcome-labels';
import type { ReportCell, ReportSection } from './document';

/*
 * The therapeutic-outcome report's assessment section (issue 17): reliable improvement by week 8
 * per instrument, for the users whose eighth week ended in the report's period, beside the period
 * before it. Counted from the users' feature rows, as the outcome model reads them, so the
 * report's rates and the model's labels are the same thing.
 */

const DAY_MS = 86_400_000;

export interface Window {
  /** Epoch ms, [from, to). */
  readonly from: number;
  readonly to: number;
}

/** One outcome's tally over the users whose week 8 ended in a window. */
export interface OutcomeTally {
  readonly users: number;
  readonly improved: number;
  /** Users with a score after the baseline, and the sum of their change (last score minus baseline). */
  readonly changed: number;
  readonly changeSum: number;
}

const EMPTY_TALLY: OutcomeTally = { users: 0, improved: 0, changed: 0, changeSum: 0 };

/**
 * Adds a user's outcomes, as known at `now`, to the tallies (keyed `window:outcome`) of the
 * windows their eighth week ended in; cheap enough to run page by page.
 */
export function tallyOutcomes(tallies: Map<string, OutcomeTally>, state: FeatureState, windows: Readonly<Record<'current' | 'previous', Window>>, now: number): void {
  for (const outcome of OUTCOME_NAMES) {
    const status = outcomeStatus(state.outcome, outcome, now);
    if (status.status !== 'known') continue;
    const end = status.baselineAt + OUTCOME_DAYS * DAY_MS;
    for (const [name, window] of Object.entries(windows)) {
      if (end < window.from || end >= window.to) continue;
      const key = `${name}:${outcome}`;
      const tally = tallies.get(key) ?? EMPTY_TALLY;
      tallies.set(key, {
        users: tally.users + 1,
        improved: tally.improved + (status.improved ? 1 : 0),
        changed: tally.changed + (status.change === null ? 0 : 1),
        changeSum: tally.changeSum + (status.change ?? 0),
      });
    }
  }
}

const WITHHELD: ReportCell = { withheld: 'k_anonymity' };

/**
 * A tally's figures as the release rule allows them: the users counted need k or more, and the
 * improved and the not improved each none or k or more (a share of 1..k-1 people would tell those
 * few people's outcomes, as a retention cell would); the mean change needs k users with a change.
 */
function released(tally: OutcomeTally, k: number): { users: ReportCell; rate: ReportCell; meanChange: ReportCell } {
  if (tally.users < k) return { users: tally.users === 0 ? 0 : WITHHELD, rate: tally.users === 0 ? null : WITHHELD, meanChange: tally.users === 0 ? null : WITHHELD };
  const sidesSettle = [tally.improved, tally.users - tally.improved].every((side) => side === 0 || side >= k);
  return {
    users: tally.users,
    rate: sidesSettle ? tally.improved / tally.users : WITHHELD,
    meanChange: tally.changed >= k ? tally.changeSum / tally.changed : tally.changed === 0 ? null : WITHHELD,
  };
}

const INSTRUMENT_LABELS: Record<OutcomeName, string> = {
  phq9_reliable_improvement: 'PHQ-9 (down 6 points or 50 %)',
  gad7_reliable_improvement: 'GAD-7 (down 4 points)',
};

/** The section: a row per outcome, this period beside the one before, and the change in the rate. */
export function assessmentSection(tallies: ReadonlyMap<string, OutcomeTally>, k: number): ReportSection {
  const rows = OUTCOME_NAMES.map((outcome): ReportCell[] => {
    const current = released(tallies.get(`current:${outcome}`) ?? EMPTY_TALLY, k);
    const previous = released(tallies.get(`previous:${outcome}`) ?? EMPTY_TALLY, k);
    const change = typeof current.rate === 'number' && typeof previous.rate === 'number' ? current.rate - previous.rate : current.rate === null || previous.rate === null ? null : WITHHELD;
    return [INSTRUMENT_LABELS[outcome], current.users, current.rate, current.meanChange, previous.users, previous.rate, change];
  });
  return {
    id: 'assessments',
    heading: 'Assessment change',
    blocks: [
      {
        kind: 'paragraph',
        text: 'Reliable improvement by week 8: from the first score of a user\'s first two weeks (the baseline) to their last score in the eight weeks after it. A user whose eighth week ended in the period counts in it; one with no later score has not shown improvement.',
      },
      {
        kind: 'table',
        caption: 'Reliable improvement by instrument, this period and the one before',
        columns: [
          { label: 'Outcome', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
          { label: 'Reliably improved', format: 'percent' },
          { label: 'Mean change', format: 'decimal', unit: 'points' },
          { label: 'Users, previous period', format: 'integer', unit: 'people' },
          { label: 'Reliably improved, previous period', format: 'percent' },
          { label: 'Change in the rate', format: 'percent' },
        ],
        rows,
      },
    ],
  };
}
