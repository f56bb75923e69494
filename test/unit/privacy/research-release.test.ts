import fc from 'fast-check';
import { memberHash } from '../../../functions/domain/rollups/distinct-sketch';
import { noiseHalfWidth } from '../../../functions/domain/privacy/noise/noise-intervals';
import {
  RESEARCH_BOUNDS,
  RESEARCH_METRIC_NAMES,
  releaseResearch,
  reportSuppressions,
  researchCost,
  researchReportCsv,
  researchValues,
  withheldLine,
  type Interval,
  type ReportLine,
  type ResearchRelease,
} from '../../../functions/domain/privacy/research-release';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { cryptoRandom, seededRandom, STANDARD_ERRORS } from './noise-statistics';

const random = cryptoRandom();
const subject = (n: number) => n.toString(16).padStart(64, '0');
const mood = (n: number, valence: number, research: boolean): StoredEvent =>
  ({
    v: 1,
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'mood.reported',
    occurredAt: '2026-11-20T10:00:00.000Z',
    receivedAt: '2026-11-20T10:00:01.000Z',
    subject: subject(n),
    session: subject(n + 1),
    attributes: { valence, arousal: 0.5 },
    context: { platform: 'ios' },
    ...(research && { research: true }),
  });

describe('the research dataset and its releases', () => {
  it('takes values only from events marked for research, one per metric each feeds, under the hash of the pseudonym', () => {
    const values = researchValues([mood(1, 0.5, true), mood(2, -0.5, false)]);

    expect(values.map((value) => [value.metric, value.value, value.subjectHash])).toEqual([
      ['events', 1, memberHash(subject(1))],
      ['mood.valence', 0.5, memberHash(subject(1))],
    ]);
  });

  it('spends exactly the epsilon asked (and delta for Gaussian), split between count and sum for a distribution', () => {
    const rows = [{ subjectHash: 1n, value: 0.5 }];
    const laplace = { metric: 'mood.valence', epsilon: 0.3, mechanism: 'laplace', maxContributionsPerUser: 2 } as const;
    const gaussian = { ...laplace, mechanism: 'gaussian', delta: 1e-6 } as const;

    expect(researchCost(laplace)).toEqual({ epsilon: 0.3, delta: 0 });
    expect(researchCost(gaussian)).toEqual({ epsilon: 0.3, delta: 1e-6 });
    expect(releaseResearch(random, rows, laplace).spent).toEqual({ epsilon: 0.3, delta: 0 });
    expect(releaseResearch(random, rows, { ...laplace, metric: 'events' }).sum).toBeUndefined();
  });

  it('bounds what one user can add: a user with 10,000 huge values moves the noisy count and sum as much as one with m values', () => {
    // 200 honest users with one value each; an adversary with 10,000 values of 1e300.
    const honest = Array.from({ length: 200 }, (_, i) => ({ subjectHash: BigInt(i), value: 0.25 }));
    const adversary = Array.from({ length: 10_000 }, () => ({ subjectHash: 999n, value: 1e300 }));
    const query = { metric: 'mood.valence', epsilon: 2, mechanism: 'laplace', maxContributionsPerUser: 3 } as const;
    const draws = 2_000;
    let countSum = 0;
    let sumSum = 0;
    for (let i = 0; i < draws; i += 1) {
      const release = releaseResearch(random, [...honest, ...adversary], query);
      countSum += release.count.value;
      sumSum += release.sum!.value;
    }
    const one = releaseResearch(random, honest, query);
    // True bounded figures: 200 + 3 values; 200 x 0.25 + 3 x 1 (clamped to the upper bound).
    // Mean of 2,000 draws within 6 standard errors: a correct mechanism fails this about 2e-9 of the time.
    expect(Math.abs(countSum / draws - 203)).toBeLessThan((6 * one.count.standardDeviation) / Math.sqrt(draws));
    expect(Math.abs(sumSum / draws - 53)).toBeLessThan((6 * one.sum!.standardDeviation) / Math.sqrt(draws));
    expect(RESEARCH_BOUNDS['mood.valence']).toEqual({ lower: -1, upper: 1 });
  });
});

const holds = (interval: Interval, value: number) => interval.lower <= value && value <= interval.upper;
const users = (values: readonly number[]) => values.map((value, i) => ({ subjectHash: BigInt(i), value }));

/** What every release must satisfy, whatever its data and noise: figures that make sense. */
function expectSensible(release: ResearchRelease): void {
  const { count, sum, mean, bounds, suppressed } = release;
  expect(Number.isInteger(count.value) && count.value >= 0).toBe(true);
  expect(count.interval.lower >= 0 && holds(count.interval, count.value)).toBe(true);
  expect(count.standardDeviation).toBeGreaterThan(0);
  if (!sum) {
    expect([mean, suppressed]).toEqual([undefined, []]);
    return;
  }
  expect(holds(sum.interval, sum.value)).toBe(true);
  if (bounds.lower >= 0) expect(sum.interval.lower).toBeGreaterThanOrEqual(0);
  if (mean) {
    expect(bounds.lower <= mean.interval.lower && holds(mean.interval, mean.value) && mean.interval.upper <= bounds.upper).toBe(true);
    expect(suppressed).toEqual([]);
  } else {
    expect(suppressed).toEqual([{ reason: 'insufficient_data', figure: 'mean', message: expect.stringContaining('too small to carry a mean') }]);
  }
  // A count within its 97.5 % half-width of zero may stand for no value at all: it carries no mean.
  if (count.value < 1 + noiseHalfWidth(count.noise, 1, 0.025)) expect(mean).toBeUndefined();
}

describe('released figures make sense', () => {
  it('whatever the seed, population, metric, mechanism, ε and m: no negative count, every mean inside its bounds, every interval around its figure and inside the bounds', () => {
    const value = fc.oneof(fc.double({ min: -2, max: 30, noNaN: true }), fc.double({ min: -1e7, max: 1e7, noNaN: true }));
    const seen = { means: 0, withheldMeans: 0 };
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(...RESEARCH_METRIC_NAMES),
        fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { maxLength: 300 }),
        fc.oneof(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.double({ min: 2, max: 10, noNaN: true })),
        fc.constantFrom('laplace' as const, 'gaussian' as const),
        fc.integer({ min: 1, max: 10 }),
        (seed, metric, population, epsilon, mechanism, maxContributionsPerUser) => {
          const rows = population.flatMap((values, user) => values.map((each) => ({ subjectHash: BigInt(user), value: each })));
          const query = { metric, epsilon, mechanism, maxContributionsPerUser, ...(mechanism === 'gaussian' && { delta: 1e-6 }) };

          const release = releaseResearch(seededRandom(seed), rows, query);
          expectSensible(release);
          if (release.mean) seen.means++;
          if (release.suppressed.length > 0) seen.withheldMeans++;
        },
      ),
      { numRuns: 400 },
    );
    // Both branches were exercised, not one of them alone.
    expect(seen.means).toBeGreaterThan(5);
    expect(seen.withheldMeans).toBeGreaterThan(5);
  });

  it('withholds the mean of one user at epsilon 0.1 as insufficient_data, from every one of 200 seeds', () => {
    const query = { metric: 'mood.valence', epsilon: 0.1, mechanism: 'laplace', maxContributionsPerUser: 10 } as const;
    const releases = Array.from({ length: 200 }, (_, seed) => releaseResearch(seededRandom(seed + 1), users([0.5]), query));

    expect(releases.filter((release) => release.mean !== undefined)).toEqual([]);
    expect(releases.every((release) => release.suppressed[0]?.reason === 'insufficient_data')).toBe(true);
  });

  it('states each figure with its noise: the mechanism, its scale and standard deviation', () => {
    const laplace = releaseResearch(random, users([0.5, 0.25]), { metric: 'mood.valence', epsilon: 0.4, mechanism: 'laplace', maxContributionsPerUser: 1 });
    const gaussian = releaseResearch(random, users([0.5, 0.25]), { metric: 'mood.valence', epsilon: 0.4, mechanism: 'gaussian', delta: 1e-6, maxContributionsPerUser: 1 });

    // ε 0.2 for each of count and sum, sensitivity 1: scale 1 / 0.2 for both.
    expect(laplace.count.noise).toEqual({ distribution: 'discrete_laplace', scale: 5 });
    expect(laplace.sum?.noise).toEqual({ distribution: 'discrete_laplace', scale: 5 });
    expect(gaussian.count.noise).toEqual({ distribution: 'discrete_gaussian', sigma: expect.closeTo(gaussian.count.standardDeviation, 6) });
    expect(laplace.count.interval.confidence).toBe(0.95);
  });

  it('gives intervals that hold the true count, sum and mean at least 95 % of the time (1,000 releases of 400 users)', () => {
    // 400 users with one value of 0.25 each; ε 4 leaves a mean that the count can carry.
    const query = { metric: 'mood.valence', epsilon: 4, mechanism: 'laplace', maxContributionsPerUser: 1 } as const;
    const draws = 1_000;
    const held = { count: 0, sum: 0, mean: 0 };
    for (let i = 0; i < draws; i++) {
      const release = releaseResearch(random, users(Array.from({ length: 400 }, () => 0.25)), query);
      if (holds(release.count.interval, 400)) held.count++;
      if (release.sum && holds(release.sum.interval, 100)) held.sum++;
      if (release.mean && holds(release.mean.interval, 0.25)) held.mean++;
    }
    // 6 standard errors of a proportion of 0.95 over 1,000 draws below 0.95.
    const least = draws * (0.95 - STANDARD_ERRORS * Math.sqrt((0.95 * 0.05) / draws));
    expect(held.count).toBeGreaterThanOrEqual(least);
    expect(held.sum).toBeGreaterThanOrEqual(least);
    expect(held.mean).toBeGreaterThanOrEqual(least);
  });
});

describe('the suppression reasons of the research report', () => {
  it('lists a withheld line and a withheld mean under their metric, in the summary and the CSV alike', () => {
    const release = releaseResearch(seededRandom(7), users([0.5]), { metric: 'mood.valence', epsilon: 0.1, mechanism: 'laplace', maxContributionsPerUser: 10 });
    const lines: ReportLine[] = [
      { metric: 'mood.valence', release },
      { metric: 'assessment.score', suppressed: withheldLine('k_anonymity', 3) },
    ];

    expect(reportSuppressions(lines)).toEqual([
      { metric: 'mood.valence', reason: 'insufficient_data', figure: 'mean', message: expect.any(String) },
      { metric: 'assessment.score', reason: 'k_anonymity', message: 'fewer than 3 research-consented users contributed to this metric over the range' },
    ]);
    const [header, valence, score] = researchReportCsv(lines).trim().split('\n');
    expect(header).toBe('metric,count,count_sd,count_low,count_high,sum,sum_sd,sum_low,sum_high,mean,mean_sd,mean_low,mean_high,clamped_to,suppressed');
    expect(valence).toMatch(/^mood\.valence,\d+,[\d.]+,\d+,\d+,-?[\d.e-]+,[\d.]+,-?[\d.e-]+,-?[\d.e-]+,,,,,-1\.\.1,insufficient_data$/);
    expect(score).toBe('assessment.score,,,,,,,,,,,,,,k_anonymity');
  });

  it('tells a reader with nobody in the research dataset that research consent is what feeds it', () => {
    expect(withheldLine('no_research_consent', 3)).toEqual({ reason: 'no_research_consent', message: expect.stringMatching(/PUT \/v1\/consent\/\{userId\} with "research": true/) });
  });
});
