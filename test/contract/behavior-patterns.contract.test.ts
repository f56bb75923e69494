import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlPatternStore } from '../../functions/adapters/pg/sql-behavior-patterns';
import { SqlCohortPopulation, SqlCohortStore } from '../../functions/adapters/pg/sql-cohorts';
import { SqlFeatureRows } from '../../functions/adapters/pg/sql-user-features';
import { featureDeltas } from '../../functions/domain/behaviour/features';
import type { PatternModel } from '../../functions/domain/behaviour/patterns';
import type { StoredEvent } from '../../functions/domain/events/schema';
import { contractOnBothDatabases } from '../support/both-databases';

const T0 = Date.UTC(2026, 10, 20, 2);
const model = (night: number): PatternModel => ({
  model: { version: `v${night}`, trainedAt: new Date(T0 + night * 86_400_000).toISOString(), users: 100 + night, k: 2, silhouette: 0.5 },
  patterns: [
    { id: `v${night}-a`, kind: 'archetype', name: 'steady', users: 60, share: 0.6, confidence: 0.7, profile: { sessionsPerWeek: 4, sessionsPerWeekTrend: 0, weeklyVariability: 1.5, completionRate: 0.8 } },
    { id: `v${night}-s`, kind: 'sequence', steps: ['session.ended:abandoned', 'mood.reported:negative'], users: 30, droppedOut: 20, support: 0.3, confidence: 2 / 3, lift: 2, precedes: 'dropout' },
    { id: `v${night}-b`, kind: 'archetype', name: 'fading', users: 40, share: 0.4, confidence: 0.6, profile: { sessionsPerWeek: 1, sessionsPerWeekTrend: -0.4, weeklyVariability: 0.8, completionRate: 0.6 } },
  ],
});

async function expectContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const store = new SqlPatternStore(db);
  expect(await store.latest()).toBeNull();
  // Each night's fit puts subjects 1 and 2 in its first archetype and subject 3 in its second.
  const assignments = (night: number) => new Map([['1', `v${night}-a`], ['2', `v${night}-a`], ['3', `v${night}-b`]]);
  await new SqlCohortStore(db).add({ id: '6f1d3c2a-0000-4000-8000-000000000001', name: 'fading of night 2, on iOS', definition: { all: [{ attribute: { platform: 'ios' } }, { pattern: 'v2-b' }] }, createdAt: new Date(T0).toISOString(), createdBy: 'analyst-1' });
  for (const night of [3, 1, 2, 4, 5, 6, 7, 8, 9]) await store.save(model(night), assignments(night));

  expect(await store.latest()).toEqual(model(9));
  const { rows } = await db.query<{ version: string }>('SELECT version FROM behavior_pattern_models ORDER BY trained_at');
  // The newest seven, and night 2's, which a cohort is defined by.
  expect(rows.map((row) => row.version)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
  expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_behavior_patterns')).rows[0]!.n).toBe(8 * 3);
  expect(await store.kindsOf(['v9-a', 'v9-s', 'v2-b', 'v1-a', 'none'])).toEqual(new Map([['v9-a', 'archetype'], ['v9-s', 'sequence'], ['v2-b', 'archetype']]));
  const members = await new SqlCohortPopulation(db).patternMembers(['v2-b', 'v9-a', 'v1-a']);
  expect(new Map([...members].map(([pattern, keys]) => [pattern, [...keys].sort()]))).toEqual(new Map([['v2-b', ['3']], ['v9-a', ['1', '2']]]));

  const states = [...featureDeltas(Array.from({ length: 7 }, (_, i) => ({ type: 'session.started', occurredAt: new Date(T0 + i).toISOString(), subject: `subject-${i}`, attributes: {}, context: {} }) as unknown as StoredEvent)).values()];
  await db.query('INSERT INTO user_features (subject_hash, state, updated_at) SELECT h, s, now() FROM unnest($1::int8[], $2::jsonb[]) AS u(h, s)', [states.map((_, i) => String(i * 1_000 - 3_000)), states.map((state) => JSON.stringify(state))]);
  const pages: number[] = [];
  const read = [];
  for await (const page of new SqlFeatureRows(db).pages(3)) {
    pages.push(page.length);
    read.push(...page.map(([, state]) => state));
  }
  expect(pages).toEqual([3, 3, 1]);
  expect(read).toEqual(states);
}

contractOnBothDatabases('SQL behaviour patterns', 'keeps the newest seven versions and those a cohort is defined by, answers the newest with its patterns in order, the members of its archetypes, and pages every feature row once', expectContract);
