import { featureDeltas, type FeatureState } from '../../../functions/domain/behaviour/features';
import { assessmentSection, tallyOutcomes, type OutcomeTally } from '../../../functions/domain/reports/outcome-sections';
import type { IncomingEvent } from '../../../functions/domain/events/schema';
import type { ReportTable } from '../../../functions/domain/reports/document';
import { makeEvent } from '../../support/events';
import { storedEvent } from '../../support/stored-event';

const DAY = 86_400_000;
const START = Date.UTC(2027, 0, 4, 9);
const K = 3;
// March 2027 and February 2027: a baseline on day d ends its eighth week on day d + 56.
const MARCH = { from: Date.UTC(2027, 2, 1), to: Date.UTC(2027, 3, 1) };
const FEBRUARY = { from: Date.UTC(2027, 1, 1), to: Date.UTC(2027, 2, 1) };
const NOW = Date.UTC(2027, 3, 1, 7);

let next = 0;
/** A user's PHQ-9 (and GAD-7) scores on the given days after START: the first is the baseline. */
function user(phq9: [day: number, score: number][], gad7: [day: number, score: number][] = []): FeatureState {
  next += 1;
  const userId = `user-${next}`;
  const score = (instrument: string) => ([day, value]: [number, number]) =>
    storedEvent(makeEvent({ userId, occurredAt: new Date(START + day * DAY).toISOString(), attributes: { instrument, score: value } }, 'assessment.completed') as unknown as IncomingEvent);
  return featureDeltas([...phq9.map(score('PHQ-9')), ...gad7.map(score('GAD-7'))]).get(userId)!;
}

function tallied(states: readonly FeatureState[]): Map<string, OutcomeTally> {
  const tallies = new Map<string, OutcomeTally>();
  for (const state of states) tallyOutcomes(tallies, state, { current: MARCH, previous: FEBRUARY }, NOW);
  return tallies;
}

const rowsOf = (tallies: Map<string, OutcomeTally>, k = K) => (assessmentSection(tallies, k).blocks[1] as ReportTable).rows;
// Day 0 is 4 January: day 56 is 1 March (in March), day 30 ends on 4 February (in February).
const MARCH_BASELINE = 0;
const FEBRUARY_BASELINE = -20;

describe('the outcome report\'s assessment section', () => {
  it('counts reliable improvement by week 8 for the users whose eighth week ended in each period, with the mean change', () => {
    const march = [
      user([[MARCH_BASELINE, 20], [40, 12]]), // down 8: improved
      user([[MARCH_BASELINE, 20], [50, 10]]), // halved: improved
      user([[MARCH_BASELINE, 16], [30, 12]]), // down 4: not
      user([[MARCH_BASELINE, 18], [30, 11]]), // down 7: improved
      user([[MARCH_BASELINE, 14]]), // no later score: not, and no change
      user([[MARCH_BASELINE, 12], [70, 2]]), // the later score is past week 8: not
    ];
    const february = [user([[FEBRUARY_BASELINE, 20], [0, 10]]), user([[FEBRUARY_BASELINE, 20], [0, 19]]), user([[FEBRUARY_BASELINE, 20], [0, 18]])];
    const tallies = tallied([...march, ...february]);

    expect(tallies.get('current:phq9_reliable_improvement')).toEqual({ users: 6, improved: 3, changed: 4, changeSum: -8 - 10 - 4 - 7 });
    expect(tallies.get('previous:phq9_reliable_improvement')).toEqual({ users: 3, improved: 1, changed: 3, changeSum: -10 - 1 - 2 });
    const [phq9] = rowsOf(tallies);
    // February's one improved user is a side of 1: the rate is withheld, and so is its change.
    expect(phq9).toEqual(['PHQ-9 (down 6 points or 50 %)', 6, 0.5, -29 / 4, 3, { withheld: 'k_anonymity' }, { withheld: 'k_anonymity' }]);
  });

  it('withholds the figures of fewer than k users, never shows them as zero, and leaves an outcome nobody reached empty', () => {
    const tallies = tallied([user([[MARCH_BASELINE, 20], [40, 12]]), user([[MARCH_BASELINE, 20], [40, 12]])]);
    const [phq9, gad7] = rowsOf(tallies);

    expect(phq9!.slice(1, 4)).toEqual([{ withheld: 'k_anonymity' }, { withheld: 'k_anonymity' }, { withheld: 'k_anonymity' }]);
    expect(gad7!.slice(1)).toEqual([0, null, null, 0, null, null]);
    // With k = 2 the two (both improved) are shown: all of a group is no small group.
    expect(rowsOf(tallies, 2)[0]!.slice(1, 4)).toEqual([2, 1, -8]);
  });

  it('reads GAD-7 by its own rule: down 4 points', () => {
    const tallies = tallied([user([], [[MARCH_BASELINE, 15], [30, 11]]), user([], [[MARCH_BASELINE, 15], [30, 12]]), user([], [[MARCH_BASELINE, 10], [30, 5]])]);

    expect(tallies.get('current:gad7_reliable_improvement')).toEqual({ users: 3, improved: 2, changed: 3, changeSum: -4 - 3 - 5 });
  });
});
