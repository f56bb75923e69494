import { ROUTES, type RouteKey } from '../../functions/handlers/http/roles';
import { parseString } from '@fast-csv/parse';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { postgresDatabase } from '../../functions/adapters/pg/database';
import { SqlAnomalyStore } from '../../functions/adapters/pg/sql-anomaly-stores';
import { SqlOutcomePredictionStore } from '../../functions/adapters/pg/sql-outcome-predictions';
import { cohortPrediction } from '../../functions/domain/behaviour/outcome-predictions';
import type { OutcomeModel } from '../../functions/domain/behaviour/outcome-model';
import { SqlPatternStore } from '../../functions/adapters/pg/sql-behavior-patterns';
import type { BehaviourPattern } from '../../functions/domain/behaviour/patterns';

const K = 3;
const at = new Date(Date.now() - 30 * 60_000);
const hour = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}`;
const moods = (platform: string, users: number) =>
  Array.from({ length: users }, (_, i) => makeEvent({ userId: `${platform}-person-${i}`, occurredAt: at.toISOString(), context: { platform } }, 'mood.reported'));

/**
 * Every route that releases cross-user aggregates (`releases` in ROUTES), asked about a group of
 * k - 1 distinct users and one of k: `smallSuppressed` and `largeShown` must both come back true.
 * Android has k - 1 users, iOS k; all of them consented to research as well. A route marked as a
 * release without a row here fails the first test.
 */
/** A report's CSV as records by its header (fast-csv's parser, not ours). */
function csvRecords(text: string): Promise<Record<string, string>[]> {
  return new Promise((resolve, reject) => {
    const records: Record<string, string>[] = [];
    parseString(text, { headers: true })
      .on('data', (record: Record<string, string>) => records.push(record))
      .on('error', reject)
      .on('end', () => resolve(records));
  });
}

/** A user rule that recommends a breathing exercise on a very low mood: what the effectiveness row of k users is made of. */
const LOW_MOOD_RULE = {
  id: 'low-mood',
  kind: 'threshold',
  description: 'A very low mood',
  severity: 'warning',
  subject: 'user',
  signal: 'mood.valence',
  op: '<',
  value: -0.5,
  routing: { channels: ['dashboard'], groupBy: ['rule'], repeatIntervalSec: 3600 },
  intervene: { interventionType: 'breathing', urgency: 'standard' },
};

type Check = (app: TestRuntime) => Promise<{ smallSuppressed: boolean; largeShown: boolean }>;
const researchExport = (app: TestRuntime, metric: string) =>
  app.request('POST', '/v1/research/exports', { body: { metric, from: new Date(hour).toISOString(), to: new Date(hour + 3_600_000).toISOString(), epsilon: 0.1 } });
const cohort = async (app: TestRuntime, name: string, definition: object) => (await app.request('POST', '/v1/cohorts', { body: { name, definition } })).body.id as string;
const android = (app: TestRuntime) => cohort(app, 'android', { attribute: { platform: 'android' } });
const everyone = (app: TestRuntime) => cohort(app, 'everyone', { firstSeen: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' } });
const RELEASES: Partial<Record<RouteKey, Check>> = {
  // Android's k - 1 are withheld; so would iOS's k be (everyone minus iOS is Android); everyone is shown.
  'GET /v1/cohorts': async (app) => {
    const [small, large] = [await android(app), await everyone(app)];
    const { cohorts } = (await app.request('GET', '/v1/cohorts')).body as { cohorts: { id: string; users: number | null }[] };
    const usersOf = (id: string) => cohorts.find((entry) => entry.id === id)?.users;
    return { smallSuppressed: usersOf(small) === null, largeShown: usersOf(large) === 2 * K - 1 };
  },
  'GET /v1/cohorts/{id}/retention': async (app) => {
    const [small, large] = [await android(app), await everyone(app)];
    const withheld = await app.request('GET', `/v1/cohorts/${small}/retention`);
    const shown = await app.request('GET', `/v1/cohorts/${large}/retention`);
    return {
      smallSuppressed: withheld.body.rows.length === 0 && withheld.body.suppressed[0]?.reason === 'k_anonymity',
      largeShown: JSON.stringify(shown.body.rows.map((row: { users: number }) => row.users)) === JSON.stringify([2 * K - 1]),
    };
  },
  'GET /v1/cohorts/compare': async (app) => {
    const [small, large] = [await android(app), await everyone(app)];
    const withheld = await app.request('GET', `/v1/cohorts/compare?a=${small}&b=${large}&metric=moodValence`);
    const shown = await app.request('GET', `/v1/cohorts/compare?a=${large}&b=${large}&metric=moodValence`);
    return { smallSuppressed: withheld.body.metrics.length === 0 && withheld.body.suppressed[0]?.reason === 'k_anonymity', largeShown: shown.body.metrics[0]?.a.users === 2 * K - 1 };
  },
  // Android's k - 1 are withheld without being named; iOS goes with them (the total minus iOS
  // would be Android: test/e2e/disclosure.test.ts), and the total of 2k - 1 is shown.
  'GET /v1/metrics/{metric}': async (app) => {
    const answer = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour&groupBy=platform`);
    const total = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);
    return {
      smallSuppressed:
        JSON.stringify(answer.body.suppressed) === JSON.stringify([{ reason: 'k_anonymity' }]) &&
        !answer.body.series.some((s: { group: { platform: string } }) => s.group.platform === 'android') &&
        !JSON.stringify(answer.body).includes('android'),
      largeShown: total.body.series[0]?.points[0]?.users === 2 * K - 1,
    };
  },
  // Android users alone sent assessments; everyone sent moods.
  'POST /v1/research/exports': async (app) => {
    const small = await researchExport(app, 'assessment.score');
    const large = await researchExport(app, 'mood.valence');
    return { smallSuppressed: small.body.suppressed?.[0]?.reason === 'k_anonymity' && small.body.count === undefined, largeShown: large.status === 200 && typeof large.body.count?.value === 'number' };
  },
  // A research report over everything: assessment.score (k - 1 users) suppressed, mood.valence (2k - 1) released;
  // and an operational report, whose volumes withhold assessment.completed (k - 1 users) and show all events (2k - 1 users);
  // mood.reported goes too, as all events less the moods would be Android's assessments.
  'POST /v1/reports': async (app) => {
    const period = { from: new Date(hour).toISOString(), to: new Date(hour + 3_600_000).toISOString() };
    const research = await app.request('POST', '/v1/reports', { body: { kind: 'research', ...period, epsilon: 0.1 } });
    const lines = (await app.madeReport(research.body.id as string)).text.split('\n');
    const line = (metric: string) => lines.find((text) => text.startsWith(`${metric},`)) ?? '';
    const operations = await app.request('POST', '/v1/reports', { body: { kind: 'operations', ...period, format: 'csv' } });
    const cells = await csvRecords((await app.madeReport(operations.body.id as string)).text);
    const thisPeriod = (type: string) => cells.find((cell) => cell['section'] === 'volumes' && cell['row']!.startsWith(`${type} (`) && cell['column'] === 'This period');
    return {
      smallSuppressed: line('assessment.score').endsWith(',k_anonymity') && thisPeriod('assessment.completed')?.['status'] === 'suppressed' && thisPeriod('assessment.completed')?.['value'] === '',
      largeShown: /^mood\.valence,-?\d+,/.test(line('mood.valence')) && thisPeriod('All events')?.['value'] === String(3 * K - 2),
    };
  },
  // Last: its events change what the routes above would read. Android's k - 1 get crisis support
  // recommended (the default crisis rule), iOS's k a breathing exercise (LOW_MOOD_RULE).
  'GET /v1/interventions/effectiveness': async (app) => {
    const now = new Date().toISOString();
    const events = [
      ...Array.from({ length: K - 1 }, (_, i) => makeEvent({ userId: `android-person-${i}`, occurredAt: now, attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')),
      ...Array.from({ length: K }, (_, i) => makeEvent({ userId: `ios-person-${i}`, occurredAt: now, attributes: { valence: -0.8, arousal: 0.7 } }, 'mood.reported')),
    ];
    await app.request('POST', '/v1/events', { body: { events } });
    await app.runtime.detect();
    const answer = await app.request('GET', '/v1/interventions/effectiveness');
    const types = (answer.body.weeks as { types: { interventionType: string; suppressed?: true; users?: number }[] }[]).at(-1)!.types;
    return {
      smallSuppressed: JSON.stringify(types.find((row) => row.interventionType === 'crisis_support')) === JSON.stringify({ interventionType: 'crisis_support', suppressed: true }),
      largeShown: types.find((row) => row.interventionType === 'breathing')?.users === K,
    };
  },
};

/**
 * Anomalies come from the monitor, which judges a minute 90 s after it closes and after a
 * detector's warm-up: too slow to wait for here. The rows are written to the store the runtime
 * reads (PostgreSQL), one anomaly of a minute of k - 1 users and one of k, and the route answers.
 * Outcome predictions come from the nightly model: a version is written with a cohort of k - 1
 * users and one of k.
 */
const RELEASES_ON_POSTGRES: Partial<Record<RouteKey, Check>> = {
  'GET /v1/anomalies': async (app) => {
    const answer = await app.request('GET', `/v1/anomalies?${range}`);
    const shown = (answer.body.anomalies as { labels: { type: string } }[]).map((anomaly) => anomaly.labels.type);
    return { smallSuppressed: !shown.includes('crisis.signal'), largeShown: JSON.stringify(shown) === JSON.stringify(['mood.reported']) };
  },
  'GET /v1/predictions': async (app) => {
    const [all, small] = await Promise.all([app.request('GET', '/v1/predictions'), app.request('GET', '/v1/predictions?cohort=small')]);
    const shown = (answer: typeof all) => (answer.body.predictions as { cohort: string; users: number }[]).map((row) => `${row.cohort}:${row.users}`);
    return {
      smallSuppressed: JSON.stringify(small.body.suppressed) === JSON.stringify([{ group: { cohort: 'small' }, reason: 'k_anonymity' }]) && shown(small).length === 0 && !shown(all).some((row) => row.startsWith('small')),
      largeShown: JSON.stringify(shown(all)) === JSON.stringify([`large:${K}`]),
    };
  },
  // Archetypes of k - 1, k and k users: the first is withheld, and the second with it (the total
  // minus the rest would give the first away); a sequence with k - 1 drop-outs is withheld too.
  'GET /v1/patterns': async (app) => {
    const answer = await app.request('GET', '/v1/patterns');
    const shown = (answer.body.patterns as { id: string }[]).map((pattern) => pattern.id);
    const withheld = (answer.body.suppressed as { group: { pattern: string } }[]).map((entry) => entry.group.pattern);
    return {
      smallSuppressed: JSON.stringify(withheld.sort()) === JSON.stringify(['archetype-k', 'archetype-k-1', 'sequence-k-1']),
      largeShown: JSON.stringify(shown.sort()) === JSON.stringify(['archetype-k-too', 'sequence-k']),
    };
  },
};

const profile = { sessionsPerWeek: 4, sessionsPerWeekTrend: 0, weeklyVariability: 1, completionRate: 0.8 };
const archetype = (id: string, users: number): BehaviourPattern => ({ id, kind: 'archetype', name: 'steady', users, share: users / (3 * K - 1), confidence: 0.7, profile });
const sequence = (id: string, droppedOut: number): BehaviourPattern => ({ id, kind: 'sequence', steps: ['session.ended:abandoned'], users: 2 * K, droppedOut, support: 0.5, confidence: droppedOut / (2 * K), lift: 1.5, precedes: 'dropout' });

describeWithServices(['postgres'], 'the release gate on routes whose data the test writes to PostgreSQL', () => {
  let app: TestRuntime;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    drop = postgres.drop;
    app = await startTestRuntime({ K_ANONYMITY: String(K), DATABASE_URL: postgres.url });
    const db = postgresDatabase(postgres.url, { max: 1 });
    const anomaly = (type: string, users: number, minute: number) => ({
      series: `events.per_minute{type=${type}}`,
      name: 'events.per_minute',
      labels: { type },
      detector: 'robust_z' as const,
      t: new Date(hour + minute * 60_000),
      value: 40,
      expected: 5,
      score: 9,
      direction: 'spike' as const,
      users,
    });
    await new SqlAnomalyStore(db).record([anomaly('crisis.signal', K - 1, 1), anomaly('mood.reported', K, 2)]);
    const quality = { accuracy: 0.8, auc: 0.9, brier: 0.1, trainedOn: 70, testedOn: 30, splitAt: at.toISOString(), calibration: [] };
    const model = { outcome: 'phq9_reliable_improvement', features: [], means: [], sds: [], regression: { name: 'LogisticRegression', numSteps: 1, learningRate: 1, numberClasses: 2, classifiers: [] }, quality } satisfies OutcomeModel;
    const cohort = (name: string, users: number) => cohortPrediction(name, Array.from({ length: users }, () => 0.5), Array.from({ length: users }, (_, i) => i % 2 === 0));
    await new SqlOutcomePredictionStore(db).saveVersion({ version: 'v1', trainedAt: at, model }, [cohort('small', K - 1), cohort('large', K)]);
    await new SqlPatternStore(db).save({
      model: { version: 'release-gate', trainedAt: new Date().toISOString(), users: 3 * K - 1, k: 3, silhouette: 0.5 },
      patterns: [archetype('archetype-k-1', K - 1), archetype('archetype-k', K), archetype('archetype-k-too', K), sequence('sequence-k-1', K - 1), sequence('sequence-k', K)],
    }, new Map());
    await db.close();
  });
  afterAll(async () => {
    await app?.stop();
    await drop?.();
  });

  it.each(Object.entries(RELEASES_ON_POSTGRES))('%s suppresses a group of k - 1 users and shows one of k', async (_route, check) => {
    expect(await check(app)).toEqual({ smallSuppressed: true, largeShown: true });
  });
});

describe('the release gate on every route that releases aggregates', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    // Before any event: detect reads the rules through a cache of a few seconds.
    await app.request('PUT', '/v1/alert-rules', { body: { rules: [LOW_MOOD_RULE] } });
    const events = [...moods('android', K - 1), ...moods('ios', K)];
    const assessments = events.filter((event) => String(event['userId']).startsWith('android')).map((event) => makeEvent({ userId: event['userId'], occurredAt: at.toISOString() }, 'assessment.completed'));
    await app.consent(events.map((event) => String(event['userId'])), { analytics: true, research: true, safety_monitoring: true });
    const posted = await app.request('POST', '/v1/events', { body: { events: [...events, ...assessments] } });
    if (posted.body.accepted !== 3 * K - 2) throw new Error(`the runtime took ${posted.body.accepted} of ${3 * K - 2} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('has a row for every releasing route', () => {
    const releasing = (Object.keys(ROUTES) as RouteKey[]).filter((route) => 'releases' in ROUTES[route]);
    expect([...Object.keys(RELEASES), ...Object.keys(RELEASES_ON_POSTGRES)].sort()).toEqual(releasing.sort());
  });

  it.each(Object.entries(RELEASES))('%s suppresses a group of k - 1 users and shows one of k', async (_route, check) => {
    expect(await check(app)).toEqual({ smallSuppressed: true, largeShown: true });
  });
});
