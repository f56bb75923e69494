import { gzipSync } from 'node:zlib';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { jsonLines } from '../../../functions/adapters/json-lines';
import { ConsentUnavailableError } from '../../../functions/ports/consent';
import { MAX_IMPORT_LINE_CHARS, MAX_LISTED_ERRORS, UnreadableFileError } from '../../../functions/domain/events/history-import';
import { importFailure, makeImportHistory } from '../../../functions/use-cases/import-history';
import { makeEvent } from '../../support/events';

const NOW = new Date('2026-12-04T12:00:00Z');
const DAY = 86_400_000;
const pseudonymise = { user: (id: string) => `p-${id}`, session: (id: string) => `s-${id}` };
const everyone = { getMany: async (subjects: readonly string[]) => new Map(subjects.map((subject) => [subject, { scopes: { analytics: true } }] as const)) } as never;

/** An import over an in-memory store that dedupes by eventId, as the rollup store does. */
function harness(options: { batchLines?: number; consent?: never } = {}) {
  const stored = new Map<string, StoredEvent>();
  const applied: number[] = [];
  const importHistory = makeImportHistory({
    consent: options.consent ?? everyone,
    pseudonymise,
    clock: { now: () => NOW },
    rollups: {
      applyEvents: async (events) => {
        applied.push(events.length);
        let fresh = 0;
        for (const event of events) {
          if (stored.has(event.eventId)) continue;
          stored.set(event.eventId, event);
          fresh += 1;
        }
        return { applied: fresh, duplicates: events.length - fresh };
      },
    },
    ...(options.batchLines === undefined ? {} : { batchLines: options.batchLines }),
  });
  return { stored, applied, importHistory };
}

async function* linesOf(...lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

const old = (daysAgo: number, overrides: Record<string, unknown> = {}) => JSON.stringify(makeEvent({ occurredAt: new Date(NOW.getTime() - daysAgo * DAY).toISOString(), ...overrides }));

describe('importHistory', () => {
  it('stores events of any age, and reports each refused line by its number while going on', async () => {
    const { stored, importHistory } = harness({ batchLines: 2 });
    const summary = await importHistory(
      linesOf(old(90), '', '{"eventId": "broken', old(45, { userId: 'someone' }), '[1, 2]', old(1, { occurredAt: new Date(NOW.getTime() + 2 * DAY).toISOString() }), old(400)),
    );

    expect(summary).toEqual({
      read: 6,
      accepted: 3,
      duplicates: 0,
      rejected: { malformed_line: 2, occurred_at_out_of_range: 1 },
      errors: [
        { line: 3, code: 'malformed_line', message: 'not valid JSON: each line must hold one event as a JSON object' },
        { line: 5, code: 'malformed_line', message: 'not a JSON object: each line must hold one event' },
        { line: 6, code: 'occurred_at_out_of_range', message: 'occurredAt: more than 24 h in the future' },
      ],
      errorsNotListed: 0,
    });
    expect([...stored.values()].map((event) => event.subject)).toEqual(['p-user-1', 'p-someone', 'p-user-1']);
  });

  it('counts an event stored before, or repeated in the file, as a duplicate, in a batch or across batches', async () => {
    const { stored, importHistory } = harness({ batchLines: 3 });
    const [a, b] = [old(40, { eventId: '6f1d2c3b-0000-4000-8000-00000000000a' }), old(41, { eventId: '6f1d2c3b-0000-4000-8000-00000000000b' })];
    const first = await importHistory(linesOf(a, a.replace('000a', '000A'), b, a));
    const again = await importHistory(linesOf(a, b));

    expect([first.accepted, first.duplicates, first.rejected]).toEqual([2, 2, {}]);
    expect([again.accepted, again.duplicates]).toEqual([0, 2]);
    expect(stored.size).toBe(2);
  });

  it('refuses what ingest refuses: PII (without echoing it), no consent, an invalid event', async () => {
    const nobody = { getMany: async () => new Map() } as never;
    const { importHistory } = harness({ consent: nobody });
    const summary = await importHistory(linesOf(JSON.stringify(makeEvent({ occurredAt: new Date(NOW.getTime() - 50 * DAY).toISOString(), attributes: { screen: 'jane.doe@example.com', activeSec: 5 } }, 'engagement.heartbeat')), old(50), old(50, { type: 'no.such.type' })));

    expect(summary.rejected).toEqual({ pii_detected: 1, consent_missing: 1, invalid_event: 1 });
    expect(JSON.stringify(summary)).not.toContain('jane.doe');
  });

  it('does not echo a malformed line, which may hold personal data', async () => {
    const { importHistory } = harness();
    const summary = await importHistory(linesOf('{"userId": "bob@example.com", oops}'));

    expect(summary.errors).toHaveLength(1);
    expect(JSON.stringify(summary)).not.toContain('bob@example.com');
  });

  it('lists the first refused lines and counts the rest', async () => {
    const { importHistory } = harness();
    const summary = await importHistory(linesOf(...Array.from({ length: MAX_LISTED_ERRORS + 7 }, () => 'nope')));

    expect(summary.errors).toHaveLength(MAX_LISTED_ERRORS);
    expect(summary.errors.at(-1)!.line).toBe(MAX_LISTED_ERRORS);
    expect(summary.errorsNotListed).toBe(7);
    expect(summary.rejected).toEqual({ malformed_line: MAX_LISTED_ERRORS + 7 });
  });

  it('reports progress after each batch', async () => {
    const { importHistory } = harness({ batchLines: 2 });
    const progress: number[] = [];
    await importHistory(linesOf(old(30), old(31), old(32)), (step) => progress.push(step.read));

    expect(progress).toEqual([2, 3]);
  });

  it('stops with the registry error, which a caller reports as 503 to run again', async () => {
    const down = { getMany: async () => Promise.reject(new Error('timeout')) } as never;
    const { importHistory } = harness({ consent: down });
    const failure = await importHistory(linesOf(old(30))).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConsentUnavailableError);
    expect(importFailure(failure)).toMatchObject({ status: 503, code: 'consent_unavailable' });
    expect(importFailure(new Error('bug'))).toBeUndefined();
  });
});

async function collect(source: AsyncIterable<string>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of source) lines.push(line);
  return lines;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('jsonLines', () => {
  const text = 'one\r\ntwo\n\nthree é\nlast';

  it('splits plain text on line ends, CRLF too, keeping blank lines and a last line without its end', async () => {
    expect(await collect(jsonLines(chunks(Buffer.from(text), 3)))).toEqual(['one', 'two', '', 'three é', 'last']);
  });

  it('reads gzip by its content, even when the first chunk holds one byte', async () => {
    expect(await collect(jsonLines(chunks(gzipSync(text), 1)))).toEqual(['one', 'two', '', 'three é', 'last']);
  });

  it('turns bytes that are not UTF-8 into U+FFFD on their own line', async () => {
    expect(await collect(jsonLines(chunks(Buffer.from([0x61, 0xff, 0x0a, 0x62]), 2)))).toEqual(['a\ufffd', 'b']);
  });

  it('cuts a line far over the limit as it reads it, so the import refuses it without holding it', async () => {
    const long = 'x'.repeat(MAX_IMPORT_LINE_CHARS * 3);
    const lines = await collect(jsonLines(chunks(Buffer.from(`${long}\nnext`), 64 * 1024)));

    expect(lines.map((line) => line.length)).toEqual([expect.any(Number), 4]);
    expect(lines[0]!.length).toBeGreaterThan(MAX_IMPORT_LINE_CHARS);
    expect(lines[0]!.length).toBeLessThan(MAX_IMPORT_LINE_CHARS + 64 * 1024 + 2);
  });

  it('ends a cut-off gzip file with UnreadableFileError, a 400', async () => {
    const cut = gzipSync(text.repeat(100)).subarray(0, 40);
    const failure = await collect(jsonLines(chunks(cut, 16))).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(UnreadableFileError);
    expect(importFailure(failure)).toMatchObject({ status: 400, code: 'unreadable_file' });
  });

  it('yields nothing for an empty file', async () => {
    expect(await collect(jsonLines(chunks(Buffer.alloc(0), 1)))).toEqual([]);
  });
});
