/**
 * What PII detection costs ingest: `findPii` over one event of each type with the sample
 * attributes and a full context (what nearly every event is), and `piiIn` over every format of
 * the test table and its near misses (the slow paths: normalisation, digit groups).
 * ROUNDS rounds; prints microseconds per event and per value, and the median.
 * `npx tsx bench/pii-detect.ts` (ROUNDS, REPEAT).
 */
import { EVENT_TYPES } from '../functions/domain/events/schema';
import { findPii, piiIn } from '../functions/domain/privacy/pii';
import { makeEvent } from '../test/support/events';
import { NEAR_MISSES, PII_FORMATS } from '../test/support/pii-formats';
import { median } from './support';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const REPEAT = Number(process.env.REPEAT ?? 20_000);

const events = EVENT_TYPES.map((type) => makeEvent({ context: { appVersion: '4.2.1', platform: 'ios', locale: 'en-GB', timezone: 'Europe/London' } }, type) as { attributes: object; context?: object });
const values = [...NEAR_MISSES, ...PII_FORMATS.map((format) => format.make(4242))];

/** Microseconds per item of one pass of `REPEAT` passes over the items. */
function timed<T>(items: readonly T[], detect: (item: T) => unknown): number {
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < REPEAT; pass += 1) for (const item of items) detect(item);
  return Number(process.hrtime.bigint() - start) / 1000 / (REPEAT * items.length);
}

const perEvent: number[] = [];
const perValue: number[] = [];
for (let round = 1; round <= ROUNDS; round += 1) {
  perEvent.push(timed(events, findPii));
  perValue.push(timed(values, piiIn));
  process.stdout.write(`round ${round}: ${perEvent.at(-1)!.toFixed(2)} µs per event, ${perValue.at(-1)!.toFixed(2)} µs per table value\n`);
}
process.stdout.write(`median over ${ROUNDS} rounds: ${median(perEvent).toFixed(2)} µs per event (${events.length} types), ${median(perValue).toFixed(2)} µs per table value (${values.length} values)\n`);
