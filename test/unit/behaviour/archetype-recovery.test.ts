import { archetypeRecovery, type ArchetypeRecovery } from '../../../functions/domain/demo/archetype-recovery';
import { ARCHETYPE_NAMES } from '../../../functions/domain/demo/planted-population';

describe('archetypes recovered from the planted population (2,000 users, 12 weeks, seed 16)', () => {
  let recovery: ArchetypeRecovery;

  beforeAll(() => {
    recovery = archetypeRecovery({ seed: 16, end: new Date('2026-11-30T00:00:00Z'), users: 2_000, weeks: 12 });
  }, 300_000);

  it('finds as many archetypes as were planted, with an adjusted Rand index of at least 0.90', () => {
    expect(recovery.fit.k).toBe(ARCHETYPE_NAMES.length);
    expect(recovery.adjustedRandIndex).toBeGreaterThanOrEqual(0.9);
  });

  it('recovers each archetype\'s share within 3 points, and names it from its profile as planted', () => {
    for (const name of ARCHETYPE_NAMES) {
      const { planted, recovered, name: recoveredName } = recovery.shares[name];
      expect({ name, off: Math.abs(recovered - planted) <= 0.03, recoveredName }).toEqual({ name, off: true, recoveredName: name });
    }
  });
});
