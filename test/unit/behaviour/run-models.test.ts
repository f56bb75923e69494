import { makeRunModels, type ModelStep } from '../../../functions/use-cases/run-models';
import type { ObjectStore } from '../../../functions/ports';
import { untilNextRun } from '../../../functions/local/model-runs';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function memoryObjects(): Pick<ObjectStore, 'put'> & { readonly objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    put: async (key, body) => void objects.set(key, body.toString()),
  };
}

const fitted = (name: string, version: string): ModelStep => ({
  name,
  run: async (progress) => {
    progress(1, 2);
    progress(2, 2);
    return { version, trainedAt: '2026-12-05T02:00:00.000Z', quality: { users: 2000 }, model: { centres: [[1, 2]] } };
  },
});

describe('the model run', () => {
  it('runs every step, keeps each artefact under models/<step>/<version>.json, and reports progress per step', async () => {
    const artefacts = memoryObjects();
    const progress: string[] = [];
    const run = makeRunModels({ steps: [fitted('patterns', 'v1'), fitted('outcomes', 'v7')], artefacts, clock: { now: () => new Date('2026-12-05T02:00:00Z') }, logger: silent });

    const report = await run((step, done, total) => progress.push(`${step} ${done}/${total}`));

    expect(report.steps.map((step) => [step.name, step.status])).toEqual([['patterns', 'fitted'], ['outcomes', 'fitted']]);
    expect([...artefacts.objects.keys()]).toEqual(['models/patterns/v1.json', 'models/outcomes/v7.json']);
    expect(JSON.parse(artefacts.objects.get('models/outcomes/v7.json')!)).toEqual({ step: 'outcomes', version: 'v7', trainedAt: '2026-12-05T02:00:00.000Z', quality: { users: 2000 }, model: { centres: [[1, 2]] } });
    expect(progress).toEqual(['patterns 1/2', 'patterns 2/2', 'outcomes 1/2', 'outcomes 2/2']);
  });

  it('goes on past a step that fails or has too little data, and says which and why', async () => {
    const failing: ModelStep = { name: 'patterns', run: async () => Promise.reject(new Error('the database did not answer')) };
    const empty: ModelStep = { name: 'sequences', run: async () => undefined };
    const artefacts = memoryObjects();
    const report = await makeRunModels({ steps: [failing, empty, fitted('outcomes', 'v2')], artefacts, clock: { now: () => new Date() }, logger: silent })();

    expect(report.steps.map((step) => step.status)).toEqual(['failed', 'skipped', 'fitted']);
    expect(report.steps[0]).toMatchObject({ error: 'the database did not answer' });
    expect([...artefacts.objects.keys()]).toEqual(['models/outcomes/v2.json']);
  });

  it('runs nightly at 02:00 UTC: the next one today before two, tomorrow after', () => {
    expect(untilNextRun(new Date('2026-12-05T01:30:00Z'))).toBe(30 * 60_000);
    expect(untilNextRun(new Date('2026-12-05T02:00:00Z'))).toBe(24 * 3_600_000);
    expect(untilNextRun(new Date('2026-12-05T23:00:00Z'))).toBe(3 * 3_600_000);
  });
});
