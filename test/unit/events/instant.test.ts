import fc from 'fast-check';
import { instantMs } from '../../../functions/domain/events/instant';

// Years 0000 to 9999: the instants toISOString writes with four digits.
const FIRST = Date.parse('0000-01-01T00:00:00.000Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');

describe('instantMs', () => {
  it('reads every instant toISOString writes as the instant itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: FIRST, max: LAST }), (ms) => {
        expect(instantMs(new Date(ms).toISOString())).toBe(ms);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with Date.parse on texts of the same shape with any digits or characters in them', () => {
    const character = fc.constantFrom(...'0123456789-:.TZ x+'.split(''));
    const shaped = fc.tuple(fc.integer({ min: FIRST, max: LAST }), fc.array(fc.tuple(fc.nat(23), character), { maxLength: 3 })).map(([ms, edits]) => {
      const text = new Date(ms).toISOString().split('');
      for (const [at, replacement] of edits) text[at] = replacement;
      return text.join('');
    });
    fc.assert(
      fc.property(shaped, (text) => {
        expect(instantMs(text)).toBe(Date.parse(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    '2024-02-29T12:00:00.000Z',
    '2023-02-29T12:00:00.000Z',
    '2026-02-30T00:00:00.000Z',
    '2026-04-31T00:00:00.000Z',
    '2026-12-31T24:00:00.000Z',
    '2026-12-31T23:59:60.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-00-10T00:00:00.000Z',
    '2026-10-00T00:00:00.000Z',
    '1900-02-29T00:00:00.000Z',
    '2000-02-29T00:00:00.000Z',
    '0000-03-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '2026-10-22T12:00:55.6491Z',
    '2026-10-22T12:00:55Z',
    '2026-10-22T12:00:55.649+01:00',
    '2026-10-22',
    '',
  ])('agrees with Date.parse on %s', (text) => {
    expect(instantMs(text)).toBe(Date.parse(text));
  });
});
