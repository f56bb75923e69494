import { createHash } from 'node:crypto';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlOutcomePredictionStore } from '../../functions/adapters/pg/sql-outcome-predictions';
import { SqlFeatureRows } from '../../functions/adapters/pg/sql-user-features';
import { FeatureStateWriter } from '../../functions/adapters/pg/sql-user-features';
import { plantedPopulation } from '../../functions/domain/demo/planted-population';
import { makeTrainOutcomeModel, wholePopulation } from '../../functions/use-cases/train-outcome-model';
import { contractOnBothDatabases } from '../support/both-databases';
import { storedEvent } from '../support/stored-event';

const END = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;
const pseudonym = (userId: string) => createHash('sha256').update(userId).digest('hex');
const { events } = plantedPopulation({ seed: 21, end: END, users: 300, weeks: 14 });
const stored = [...events()].map((event) => storedEvent(event, pseudonym));

/**
 * The nightly outcome model over the stored features: a version with its quality and its
 * cohorts, the previous version's live accuracy on the outcomes known since, and nothing of any
 * one user in what it stores.
 */
async function expectContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const features = new FeatureStateWriter();
  for (let i = 0; i < stored.length; i += 5_000) await features.apply(db, stored.slice(i, i + 5_000), i + 1);
  const store = new SqlOutcomePredictionStore(db);
  let now = new Date(END.getTime() - 14 * DAY);
  const versions = ['v1', 'v2'];
  const train = makeTrainOutcomeModel({ features: new SqlFeatureRows(db), cohorts: wholePopulation, store, clock: { now: () => now }, newId: () => versions.shift()! });

  const first = await train();
  expect(first).toMatchObject({ status: 'trained', version: 'v1', cohorts: 1, live: null });
  const v1 = await store.latest('phq9_reliable_improvement');
  expect(v1).toMatchObject({ version: 'v1', outcome: 'phq9_reliable_improvement', trainedAt: now.toISOString(), live: null });
  expect(v1!.quality.testedOn + v1!.quality.trainedOn).toBeGreaterThan(100);
  const [all] = await store.predictions('v1');
  expect(all).toMatchObject({ cohort: 'all', users: first.status === 'trained' ? first.predicted : -1 });
  // Two weeks before the end some outcomes are still to come: actual covers those known.
  expect(all!.known).toBeLessThan(all!.users);
  expect(all!.ci95[0]).toBeLessThan(all!.probability);
  expect(all!.ci95[1]).toBeGreaterThan(all!.probability);

  now = END;
  const second = await train();
  expect(second).toMatchObject({ status: 'trained', version: 'v2', live: { version: 'v1' } });
  expect((await store.latest('phq9_reliable_improvement'))!.version).toBe('v2');
  const live = (await db.query<{ live: { accuracy: number; n: number } }>(`SELECT live FROM outcome_models WHERE version = 'v1'`)).rows[0]!.live;
  expect(live.n).toBe(second.status === 'trained' ? second.live!.n : -1);
  expect(live.accuracy).toBeGreaterThan(0.5);
  expect(await store.predictions('v2', 'none')).toEqual([]);

  // Nothing stored names or scores a user: one row per cohort, no user's hash anywhere in the rows.
  const { rows: hashes } = await db.query<{ subject_hash: string }>(`SELECT subject_hash::text AS subject_hash FROM user_features`);
  const { rows: dumped } = await db.query<{ row: string }>(`SELECT row_to_json(m)::text AS row FROM outcome_models m UNION ALL SELECT row_to_json(p)::text FROM outcome_predictions p`);
  expect(dumped).toHaveLength(4);
  const text = dumped.map((row) => row.row).join('\n');
  expect(hashes.length).toBe(300);
  expect(hashes.filter((row) => text.includes(row.subject_hash))).toEqual([]);
  expect(stored.some((event) => text.includes(event.subject))).toBe(false);
}

contractOnBothDatabases('outcome models and predictions in SQL', 'trains from the stored features, keeps each version with its cohorts and live accuracy, and stores no user', expectContract, 300_000);
