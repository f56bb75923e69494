import { cohortDefinitionSchema, isMember, newCohortSchema, patternReferences, releasableCohorts, retentionMatrix, type CohortDefinition, type CohortSubject } from '../../../functions/domain/behaviour/cohorts';
import type { FeatureState } from '../../../functions/domain/behaviour/features';
import type { StoredCohort } from '../../../functions/ports/cohorts';
import { storedCohortMemberships } from '../../../functions/use-cases/cohorts';

const DAY = 86_400_000;
// Monday 2026-10-05, UTC.
const MONDAY = Date.UTC(2026, 9, 5);
const epochDay = (at: number) => Math.floor(at / DAY);
let next = 0;
/** A user first seen `startDay` days after MONDAY and active on those days too. */
function subject(startDay: number, activeDays: number[], platform: CohortSubject['platform'] = 'ios'): CohortSubject {
  next += 1;
  const firstAt = MONDAY + startDay * DAY + 3_600_000;
  return { key: String(next).padStart(6, '0'), firstAt, platform, activeDays: [startDay, ...activeDays].map((day) => epochDay(MONDAY) + day) };
}

describe('cohort definitions', () => {
  it('selects by first-seen period (from inclusive, to exclusive), platform, and all of several', () => {
    const ios = subject(0, []);
    const android = subject(7, [], 'android');
    const week1 = { firstSeen: { from: new Date(MONDAY + 7 * DAY).toISOString(), to: new Date(MONDAY + 14 * DAY).toISOString() } };

    expect([ios, android].map((user) => isMember(week1, user))).toEqual([false, true]);
    expect([ios, android].map((user) => isMember({ attribute: { platform: 'android' } }, user))).toEqual([false, true]);
    expect(isMember({ all: [week1, { attribute: { platform: 'ios' } }] }, android)).toBe(false);
    expect(isMember({ all: [week1, { attribute: { platform: 'android' } }] }, android)).toBe(true);
  });

  it('selects the users a fit put in an archetype, alone and with other parts, and names where each pattern is referred to', () => {
    const fading = { ...subject(0, []), patterns: new Set(['fading-v1']) };
    const unfitted = subject(0, []);
    const definition: CohortDefinition = { all: [{ attribute: { platform: 'ios' } }, { all: [{ pattern: 'fading-v1' }, { pattern: 'fading-v1' }] }] };

    expect([fading, unfitted].map((user) => isMember({ pattern: 'fading-v1' }, user))).toEqual([true, false]);
    expect(isMember({ pattern: 'steady-v1' }, fading)).toBe(false);
    expect([fading, unfitted].map((user) => isMember(definition, user))).toEqual([true, false]);
    expect(patternReferences(definition)).toEqual([
      { id: 'fading-v1', path: 'definition.all.1.all.0.pattern' },
      { id: 'fading-v1', path: 'definition.all.1.all.1.pattern' },
    ]);
    expect(patternReferences({ attribute: { platform: 'ios' } })).toEqual([]);
    expect(cohortDefinitionSchema.safeParse({ pattern: '' }).error?.issues[0]?.path).toEqual(['pattern']);
  });

  it('refuses a period that ends before it starts, an unknown key, too deep a nesting, and names the field', () => {
    const period = cohortDefinitionSchema.safeParse({ firstSeen: { from: '2026-10-10T00:00:00Z', to: '2026-10-01T00:00:00Z' } });
    expect(period.success).toBe(false);
    expect(cohortDefinitionSchema.safeParse({ attribute: { locale: 'en-GB' } }).success).toBe(false);
    let deep: object = { attribute: { platform: 'ios' } };
    for (let level = 0; level < 4; level += 1) deep = { all: [deep] };
    const nested = newCohortSchema.safeParse({ name: 'deep', definition: deep });
    expect(nested.success).toBe(false);
    expect(nested.error?.issues[0]?.path).toEqual(['definition']);
    expect(newCohortSchema.safeParse({ name: 'ok', definition: { all: [{ attribute: { platform: 'ios' } }] } }).success).toBe(true);
  });
});

describe('releasable cohorts', () => {
  const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i).padStart(6, '0'));

  it('withholds a cohort under k, and the newer of two that differ by 1..k-1 people, not the older', () => {
    const k = 3;
    const older = keys(0, 10);
    const oneMore = keys(0, 11);
    const small = keys(0, 2);
    const disjoint = keys(20, 30);
    expect(releasableCohorts([older, oneMore, small, disjoint], 100, k)).toEqual([true, false, false, true]);
  });

  it('compares members, not only sizes: same size, two people swapped, is too close', () => {
    const a = keys(0, 10);
    const swapped = [...keys(1, 10), '000099'];
    expect(releasableCohorts([a, swapped], 100, 3)).toEqual([true, false]);
    expect(releasableCohorts([a, swapped], 100, 2)).toEqual([true, true]);
  });

  it('withholds a cohort that is everyone but 1..k-1 people, and allows one that is everyone', () => {
    expect(releasableCohorts([keys(0, 99), keys(0, 100)], 100, 3)).toEqual([false, true]);
  });
});

describe('week-N retention', () => {
  const now = new Date(MONDAY + 21 * DAY + 3_600_000);

  it('counts each row of first-seen week over the weeks that have ended, week 0 always', () => {
    // Week of MONDAY: 4 users; one active in week 1, two in week 2 (one of them also in week 1).
    // Week after: 2 users, both active in week 1 of their own.
    const users = [subject(0, [8]), subject(1, [15, 9]), subject(2, [16]), subject(3, []), subject(7, [14]), subject(8, [15])];
    const answer = retentionMatrix(users, { now, periods: 12, k: 1 });
    expect(answer.rows).toEqual([
      { start: '2026-10-05', users: 4, retained: [1, 0.5, 0.5] },
      { start: '2026-10-12', users: 2, retained: [1, 1] },
    ]);
    expect(answer.suppressed).toEqual([]);
  });

  it('withholds a small row, and the next smallest where one withheld row would be known by subtraction', () => {
    const users = [...Array.from({ length: 5 }, () => subject(0, [])), ...Array.from({ length: 4 }, () => subject(7, [])), subject(14, [])];
    const answer = retentionMatrix(users, { now, periods: 12, k: 3 });
    expect(answer.rows.map((row) => row.start)).toEqual(['2026-10-05']);
    expect(answer.suppressed).toEqual([{ reason: 'k_anonymity' }]);
  });

  it('shows a week where all or none came back, withholds one where 1..k-1 did or did not: null, not 0', () => {
    const users = [...Array.from({ length: 3 }, () => subject(0, [7])), ...Array.from({ length: 3 }, () => subject(0, [])), subject(0, [14])];
    const answer = retentionMatrix(users, { now, periods: 3, k: 3 });
    // Week 1: 3 of 7 active, 4 not (both >= 3): shown. Week 2: 1 of 7 active: withheld.
    expect(answer.rows).toEqual([{ start: '2026-10-05', users: 7, retained: [1, 3 / 7, null] }]);
    const none = retentionMatrix(Array.from({ length: 4 }, () => subject(0, [])), { now, periods: 3, k: 3 });
    expect(none.rows).toEqual([{ start: '2026-10-05', users: 4, retained: [1, 0, 0] }]);
  });

  it('stops at `periods` weeks', () => {
    expect(retentionMatrix([subject(0, [7, 14])], { now, periods: 2, k: 1 }).rows[0]?.retained).toEqual([1, 1]);
  });
});

describe('cohort memberships for the outcome model', () => {
  const stored = (id: string, definition: CohortDefinition): StoredCohort => ({ id, name: id, definition, createdAt: '2026-12-01T00:00:00.000Z', createdBy: 'analyst-1' });
  const state = (firstAt: number, platform: 'ios' | 'android') => ({ firstAt, days: [Math.floor(firstAt / DAY)], platform: { at: firstAt, value: platform } }) as unknown as FeatureState;

  it('puts everyone in "all" and each user in the released cohorts they belong to, and predicts for no withheld cohort', async () => {
    const users = [...Array.from({ length: 5 }, (_, i) => [`ios-${i}`, state(MONDAY, 'ios')] as const), ...Array.from({ length: 2 }, (_, i) => [`android-${i}`, state(MONDAY, 'android')] as const)];
    const cohorts = [stored('ios', { attribute: { platform: 'ios' } }), stored('android', { attribute: { platform: 'android' } })];
    const noFits = { patternMembers: async () => new Map<string, string[]>() };
    const memberships = storedCohortMemberships({ add: async () => undefined, list: async () => cohorts, count: async () => cohorts.length }, noFits, 2);

    const byCohort = await memberships.cohortsOf(users);
    expect(Object.fromEntries([...byCohort].map(([cohort, keys]) => [cohort, keys.length]))).toEqual({ all: 7, ios: 5, android: 2 });
    const strict = await storedCohortMemberships({ add: async () => undefined, list: async () => cohorts, count: async () => cohorts.length }, noFits, 3).cohortsOf(users);
    // Android's two are under k; iOS is everyone but those two, so it goes too.
    expect([...strict.keys()]).toEqual(['all']);
  });

  it('puts the users a fit assigned to an archetype in a cohort defined by that pattern, asking only for the patterns definitions name', async () => {
    const users = Array.from({ length: 9 }, (_, i) => [`user-${i}`, state(MONDAY, 'ios')] as const);
    const cohorts = [stored('fading', { pattern: 'fading-v1' }), stored('fading-ios', { all: [{ pattern: 'fading-v1' }, { attribute: { platform: 'ios' } }] })];
    const asked: string[][] = [];
    const fits = {
      patternMembers: async (ids: readonly string[]) => {
        asked.push([...ids]);
        return new Map([['fading-v1', ['user-0', 'user-1', 'user-2', 'user-3', 'gone-user']]]);
      },
    };

    const byCohort = await storedCohortMemberships({ add: async () => undefined, list: async () => [cohorts[0]!], count: async () => 1 }, fits, 2).cohortsOf(users);
    expect(byCohort.get('fading')).toEqual(['user-0', 'user-1', 'user-2', 'user-3']);
    expect(asked).toEqual([['fading-v1']]);
    // Every fading user is on iOS: the same members twice tell nothing more, so both are released.
    const both = await storedCohortMemberships({ add: async () => undefined, list: async () => cohorts, count: async () => 2 }, fits, 2).cohortsOf(users);
    expect([...both].map(([cohort, keys]) => [cohort, keys.length])).toEqual([['all', 9], ['fading', 4], ['fading-ios', 4]]);
  });
});
