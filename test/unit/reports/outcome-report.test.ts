import type { PatternModel } from '../../../functions/domain/behaviour/patterns';
import { releasePatterns } from '../../../functions/domain/behaviour/patterns';
import type { ReportParagraph, ReportTable } from '../../../functions/domain/reports/document';
import { groupTotals, patternSection, periodUnit, predictionSection, previousPeriod, summarySection } from '../../../functions/domain/reports/outcome-report';
import type { MetricAnswer } from '../../../functions/domain/rollups/metric-query';

const WITHHELD = { withheld: 'k_anonymity' } as const;
const at = (iso: string) => Date.parse(iso);

describe('the outcome report\'s periods', () => {
  it('knows a local month, week and day, and a range that is none of them', () => {
    // March 2027 in London: GMT, then BST from the 28th.
    expect(periodUnit({ from: at('2027-03-01T00:00:00Z'), to: at('2027-03-31T23:00:00Z') }, 'Europe/London')).toBe('month');
    expect(periodUnit({ from: at('2027-03-22T00:00:00Z'), to: at('2027-03-28T23:00:00Z') }, 'Europe/London')).toBe('week');
    expect(periodUnit({ from: at('2027-03-28T00:00:00Z'), to: at('2027-03-28T23:00:00Z') }, 'Europe/London')).toBe('day');
    expect(periodUnit({ from: at('2027-03-01T00:00:00Z'), to: at('2027-03-15T00:00:00Z') }, 'Europe/London')).toBeUndefined();
  });

  it('compares a month with the month before, whatever its length, and another range with as long before it', () => {
    expect(previousPeriod({ from: at('2027-03-01T00:00:00Z'), to: at('2027-03-31T23:00:00Z') }, 'Europe/London')).toEqual({ from: at('2027-02-01T00:00:00Z'), to: at('2027-03-01T00:00:00Z') });
    expect(previousPeriod({ from: at('2027-03-01T00:00:00Z'), to: at('2027-03-15T00:00:00Z') }, 'Europe/London')).toEqual({ from: at('2027-02-15T00:00:00Z'), to: at('2027-03-01T00:00:00Z') });
  });
});

function answer(series: MetricAnswer['series'], withheld: boolean): MetricAnswer {
  return { metric: 'interventions', interval: 'day', timeZone: 'UTC', from: '2027-03-01T00:00:00Z', to: '2027-03-03T00:00:00Z', groupBy: ['interventionType'], series, suppressed: withheld ? [{ reason: 'k_anonymity' }] : [] };
}

const point = (t: string, count: number) => ({ t, count, users: count });

describe('a group\'s total over a period', () => {
  const full = { group: { interventionType: 'breathing' }, points: [point('2027-03-01T00:00:00Z', 12), point('2027-03-02T00:00:00Z', 14)] };
  const gap = { group: { interventionType: 'grounding' }, points: [point('2027-03-01T00:00:00Z', 11)] };

  it('sums its buckets, and reads a group or bucket missing from an answer that withheld nothing as no events', () => {
    const totals = groupTotals(answer([full, gap], false), 2);
    expect([totals({ interventionType: 'breathing' }), totals({ interventionType: 'grounding' }), totals({ interventionType: 'mindfulness' })]).toEqual([26, 11, 0]);
  });

  it('withholds a group missing a bucket, or missing altogether, from an answer that withheld something: never a short sum or a zero', () => {
    const totals = groupTotals(answer([full, gap], true), 2);
    expect([totals({ interventionType: 'breathing' }), totals({ interventionType: 'grounding' }), totals({ interventionType: 'mindfulness' })]).toEqual([26, WITHHELD, WITHHELD]);
  });
});

const STORED: PatternModel = {
  model: { version: 'v1', trainedAt: '2027-03-01T02:00:00.000Z', users: 40, k: 2, silhouette: 0.5 },
  patterns: [
    { id: 'a', kind: 'archetype', name: 'steady', users: 35, share: 35 / 40, confidence: 0.7, profile: { sessionsPerWeek: 4, sessionsPerWeekTrend: 0, weeklyVariability: 1, completionRate: 0.8 } },
    { id: 'b', kind: 'archetype', name: 'fading', users: 5, share: 5 / 40, confidence: 0.6, profile: { sessionsPerWeek: 1, sessionsPerWeekTrend: -1, weeklyVariability: 1, completionRate: 0.4 } },
    { id: 's', kind: 'sequence', steps: ['session.ended:abandoned'], users: 20, droppedOut: 12, support: 0.5, confidence: 0.6, lift: 1.5, precedes: 'dropout' },
  ],
};

describe('the patterns section', () => {
  it('shows what GET /v1/patterns releases, and a withheld pattern as withheld cells without its name', () => {
    const section = patternSection(releasePatterns(STORED, 10), STORED);
    const [archetypes, sequences] = section.blocks.filter((block): block is ReportTable => block.kind === 'table');
    // 5 users are fewer than k, and 35 of 40 would give the 5 away: both archetypes are withheld.
    expect(archetypes!.rows).toEqual([
      ['archetype withheld', ...Array(5).fill(WITHHELD)],
      ['archetype withheld', ...Array(5).fill(WITHHELD)],
    ]);
    expect(JSON.stringify(section)).not.toContain('fading');
    expect(sequences!.rows).toEqual([['session.ended:abandoned', 20, 0.5, 0.6, 1.5]]);
  });

  it('says there is not enough data before the first fit', () => {
    expect((patternSection(null, null).blocks[0] as ReportParagraph).text).toMatch(/^Not enough data/);
  });
});

describe('the predictions section', () => {
  const model = {
    version: 'm1',
    trainedAt: '2027-03-01T02:00:00.000Z',
    outcome: 'phq9_reliable_improvement' as const,
    quality: { accuracy: 0.8, auc: 0.85, brier: 0.15, trainedOn: 300, testedOn: 100, splitAt: '2027-01-01T00:00:00.000Z', calibration: [] },
    live: null,
  };

  it('shows the quality and each released cohort, a small cohort withheld and an observed rate of too few known outcomes not given', () => {
    const section = predictionSection(
      {
        model,
        predictions: [{ cohort: 'c1', users: 40, predictedOutcome: 'reliable_improvement', probability: 0.4, ci95: [0.3, 0.5], actual: null, outcomesKnown: 0 }],
        suppressed: [{ group: { cohort: 'c2' } }],
      },
      new Map([
        ['c1', 'Spring intake'],
        ['c2', 'Pilot'],
      ]),
    );
    const [quality, cohorts] = section.blocks.filter((block): block is ReportTable => block.kind === 'table');
    expect(quality!.rows).toContainEqual(['Live accuracy', { withheld: 'not_enough_data' }]);
    expect(cohorts!.rows).toEqual([
      ['Spring intake', 40, 0.4, 0.3, 0.5, { withheld: 'not_enough_data' }, { withheld: 'not_enough_data' }],
      ['Pilot', ...Array(6).fill(WITHHELD)],
    ]);
  });

  it('says there is not enough data before the first model', () => {
    expect((predictionSection({ model: null, predictions: [], suppressed: [] }, new Map()).blocks[0] as ReportParagraph).text).toMatch(/^Not enough data/);
  });
});

describe('the summary', () => {
  const period = { from: '2027-03-01T00:00:00.000Z', to: '2027-03-31T23:00:00.000Z', timeZone: 'Europe/London', label: '2027-03' };

  it('says when no baseline was given, and why a given one could not be compared', () => {
    const base = { period, sessions: 10, completedSessions: WITHHELD, activeUsers: null, k: 10 } as const;
    expect((summarySection({ ...base, baseline: undefined }).blocks[0] as ReportParagraph).text).toContain('No baseline period was given');
    const problem = summarySection({ ...base, baseline: { from: at('2026-01-01T00:00:00Z'), to: at('2026-02-01T00:00:00Z') }, baselineProblem: 'its hours are no longer kept' });
    expect((problem.blocks[0] as ReportParagraph).text).toContain('could not be compared: its hours are no longer kept');
    expect((problem.blocks[1] as ReportTable).rows).toEqual([
      ['Sessions started', 10],
      ['Sessions completed', WITHHELD],
      ['Active users', null],
    ]);
  });
});
