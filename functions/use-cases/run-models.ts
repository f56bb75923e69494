import type { Logger } from '../adapters/log';
import type { Clock, ObjectStore } from '../ports';

/** When the nightly run starts, UTC: the stack's EventBridge rule and the local runtime's scheduler alike. */
export const MODEL_RUN_HOUR_UTC = 2;

/** Where each model's artefacts are kept: one object per version, never overwritten. */
export const MODEL_PREFIX = 'models/';

/** How far a step has got, for a progress bar: `done` of `total` units of its own. */
export type StepProgress = (done: number, total: number) => void;

/** What a step fitted: its version, the figures it is judged by, and what it learned. */
export interface ModelArtefact {
  readonly version: string;
  readonly trainedAt: string;
  /** The quality figures and sizes a reader compares versions by (no individual's figure). */
  readonly quality: Readonly<Record<string, unknown>>;
  /** The fitted model itself: parameters, not data. */
  readonly model: unknown;
}

/** One model the nightly run fits: the archetypes and sequences, the outcome model. */
export interface ModelStep {
  readonly name: string;
  /** Fits and stores the model where its routes read it; answers undefined when there is too little data to fit. */
  run(progress: StepProgress): Promise<ModelArtefact | undefined>;
}

export type StepReport =
  | { readonly name: string; readonly status: 'fitted'; readonly version: string; readonly quality: Readonly<Record<string, unknown>>; readonly artefact: string; readonly seconds: number }
  | { readonly name: string; readonly status: 'skipped'; readonly reason: string; readonly seconds: number }
  | { readonly name: string; readonly status: 'failed'; readonly error: string; readonly seconds: number };

export interface ModelRunReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly steps: readonly StepReport[];
}

export interface RunModelsDeps {
  readonly steps: readonly ModelStep[];
  /** The model bucket in AWS, DATA_DIR/models locally. */
  readonly artefacts: Pick<ObjectStore, 'put'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export const artefactKey = (step: string, version: string) => `${MODEL_PREFIX}${step}/${version}.json`;

/**
 * The model run (DESIGN.md "Behaviour analysis"), nightly and by hand: each step in turn, its
 * artefact written under `models/<step>/<version>.json` with its quality figures. A step that
 * fails does not stop the others (the outcome model does not need today's archetypes); the run
 * reports every step, and the caller treats any failure as the run's.
 */
export function makeRunModels(deps: RunModelsDeps) {
  return async function runModels(progress: (step: string, done: number, total: number) => void = () => undefined): Promise<ModelRunReport> {
    const startedAt = deps.clock.now();
    const steps: StepReport[] = [];
    for (const step of deps.steps) {
      const began = deps.clock.now().getTime();
      const seconds = () => (deps.clock.now().getTime() - began) / 1_000;
      try {
        const artefact = await step.run((done, total) => progress(step.name, done, total));
        if (!artefact) {
          steps.push({ name: step.name, status: 'skipped', reason: 'too little data to fit', seconds: seconds() });
          continue;
        }
        const key = artefactKey(step.name, artefact.version);
        await deps.artefacts.put(key, JSON.stringify({ step: step.name, ...artefact }), 'application/json');
        steps.push({ name: step.name, status: 'fitted', version: artefact.version, quality: artefact.quality, artefact: key, seconds: seconds() });
      } catch (error) {
        // The message only: a stack or a cause could quote data.
        const message = error instanceof Error ? error.message : 'unknown error';
        deps.logger.error('model step failed', { step: step.name, error: message });
        steps.push({ name: step.name, status: 'failed', error: message, seconds: seconds() });
      }
    }
    const report = { startedAt: startedAt.toISOString(), finishedAt: deps.clock.now().toISOString(), steps };
    deps.logger.info('models run', { steps: steps.map((step) => `${step.name}:${step.status}`).join(','), seconds: (Date.parse(report.finishedAt) - startedAt.getTime()) / 1_000 });
    return report;
  };
}

export type RunModels = ReturnType<typeof makeRunModels>;
