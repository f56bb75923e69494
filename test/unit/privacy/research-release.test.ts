import { randomBytes } from 'node:crypto';
import { memberHash } from '../../../functions/domain/rollups/distinct-sketch';
import { pooledBytes, randomBits } from '../../../functions/domain/privacy/noise/random-bits';
import { RESEARCH_BOUNDS, releaseResearch, researchCost, researchValues } from '../../../functions/domain/privacy/research-release';
import type { StoredEvent } from '../../../functions/domain/events/schema';

const random = randomBits(pooledBytes((n) => randomBytes(n)));
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
