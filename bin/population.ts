import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MAX_PLANTED_WEEKS, plantedPopulation } from '../functions/domain/demo/planted-population';
import { DEMO_CONSENT, putConsent } from '../functions/local/consent-client';
import { Stop, integerOption, cliOptions, requireToken, runCli, unreachable } from './cli-options';

/*
 * `npm run population -- --out history.jsonl`: the planted population (functions/domain/demo/
 * planted-population.ts) as a history file for `npm run import`, and what was planted beside it
 * (`history.truth.json`). With --consent, its users' consent is recorded in the running runtime
 * first, as their app would have done, so the import admits their events.
 */

const USAGE = `Usage: npm run population -- --out FILE.jsonl [options]
  --out FILE         the history, one event per line (gzipped when FILE ends in .gz); the truth goes
                     beside it as FILE's name with .truth.json for .jsonl
  --users N          users (default 2000)
  --weeks N          weeks of history, at most ${MAX_PLANTED_WEEKS} (default 14)
  --seed N           PRNG seed (default 1)
  --end ISO          when the history ends (default: now)
  --consent          record the users' consent (analytics, safety monitoring) in the running runtime
  --url URL          that runtime (default http://127.0.0.1:3000)
  --token TOKEN      an admin token (default $DEV_TOKEN, else \${DATA_DIR:-./.data}/dev-token)`;

const integer = integerOption(USAGE);

/** `history.jsonl` and `history.jsonl.gz` -> `history.truth.json`. */
const truthPathOf = (out: string) => `${out.replace(/\.jsonl(\.gz)?$/, '')}.truth.json`;

async function main(): Promise<number> {
  const values = cliOptions(USAGE, {
    out: { type: 'string' },
    users: { type: 'string' },
    weeks: { type: 'string' },
    seed: { type: 'string' },
    end: { type: 'string' },
    consent: { type: 'boolean' },
    url: { type: 'string' },
    token: { type: 'string' },
  });
  if (!values.out) throw new Stop(`--out is required\n\n${USAGE}`, 2);
  const end = values.end === undefined ? new Date() : new Date(values.end);
  if (Number.isNaN(end.getTime())) throw new Stop(`--end must be an ISO-8601 instant, got ${values.end}`, 2);
  const { truth, events } = plantedPopulation({
    seed: integer('seed', values.seed, 1, 2 ** 32 - 1),
    end,
    users: integer('users', values.users, 2_000, 999_999),
    weeks: integer('weeks', values.weeks, 14, MAX_PLANTED_WEEKS),
  });

  if (values.consent) {
    const url = (values.url ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
    await putConsent(url, requireToken(values.token), truth.users.map((user) => user.userId), DEMO_CONSENT).catch((error: unknown) => {
      throw error instanceof TypeError ? unreachable(url, error) : error;
    });
    console.log(`Consent recorded for ${truth.users.length} users in ${url}`);
  }

  let lines = 0;
  const text = Readable.from(
    (function* () {
      for (const event of events()) {
        lines += 1;
        yield `${JSON.stringify(event)}\n`;
      }
    })(),
  );
  const file = createWriteStream(values.out);
  await (values.out.endsWith('.gz') ? pipeline(text, createGzip(), file) : pipeline(text, file));
  const truthPath = truthPathOf(values.out);
  await writeFile(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
  console.log(
    [
      `${lines} events of ${truth.users.length} users over ${truth.weeks} weeks (${truth.from} to ${truth.to}), seed ${truth.seed}, in ${values.out}`,
      `What was planted: ${truthPath} (archetype shares ${Object.entries(truth.archetypes)
        .map(([name, archetype]) => `${name} ${archetype.plantedShare.toFixed(3)}`)
        .join(', ')}; best possible accuracy of an outcome model ${truth.bestPossibleAccuracy.toFixed(3)})`,
      `Import it with: npm run import -- ${values.out}`,
    ].join('\n'),
  );
  return 0;
}

runCli(main);
