import { plantedPopulation } from '../functions/domain/demo/planted-population';
import { plantedStates } from '../functions/domain/demo/archetype-recovery';
import type { PatternModel } from '../functions/domain/behaviour/patterns';
import { makeFitPatterns } from '../functions/use-cases/fit-patterns';

/*
 * The pattern fit's time over many users, as the nightly model function runs it (without the
 * SQL read): the feature states of a planted population, each repeated to reach the count asked
 * for (the planted events of 100,000 users take minutes to make), through makeFitPatterns.
 * npx tsx bench/pattern-fit.ts [users] [runs]
 */
const [users = 100_000, runs = 3] = process.argv.slice(2).map(Number);
const end = new Date('2026-11-30T00:00:00Z');
const base = [...plantedStates(plantedPopulation({ seed: 16, end, users: 2_000, weeks: 12 }).events()).values()];
const rows = Array.from({ length: users }, (_, i) => [String(i), base[i % base.length]!] as const);
async function main(): Promise<void> {
  const seconds: number[] = [];
  let model: PatternModel | undefined;
  for (let run = 0; run < runs; run += 1) {
    let id = 0;
    const fit = makeFitPatterns({
      features: {
        async *pages(pageSize) {
          for (let start = 0; start < rows.length; start += pageSize) yield rows.slice(start, start + pageSize);
        },
      },
      patterns: { save: async (saved) => void (model = saved) },
      clock: { now: () => end },
      newId: () => `pattern-${(id += 1)}`,
    });
    const started = performance.now();
    await fit();
    seconds.push((performance.now() - started) / 1_000);
  }
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
  console.log(JSON.stringify({ users, runs, medianSeconds: Math.round(median * 100) / 100, k: model?.model.k, silhouette: model?.model.silhouette, sequences: model?.patterns.filter((pattern) => pattern.kind === 'sequence').length }));
}

void main();
