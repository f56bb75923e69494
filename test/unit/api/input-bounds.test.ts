import fc from 'fast-check';
import { boundedInstant, boundedInstantMs, isPlainText } from '../../../functions/domain/api/input-bounds';

describe('plain text', () => {
  it.each([
    ['NUL', '\u0000'],
    ['tab', '\t'],
    ['newline', '\n'],
    ['escape', '\u001b'],
    ['unit separator', '\u001f'],
    ['DEL', '\u007f'],
    ['C1 NEL', '\u0085'],
    ['C1 APC', '\u009f'],
    ['an unpaired high surrogate', '\ud800'],
    ['an unpaired low surrogate', '\udfff'],
  ])('refuses %s anywhere in the text', (_name, control) => {
    expect([isPlainText(control), isPlainText(`a${control}`), isPlainText(`${control}b`)]).toEqual([false, false, false]);
  });

  it('takes any text of printable characters, accents, emoji and other scripts', () => {
    expect(['night shift, ward 4', 'réunion', '\u{1f4a5}', '危機', '', ' '].every(isPlainText)).toBe(true);
  });

  it('agrees with the definition on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (text) => {
        const controls = [...text].some((char) => {
          const code = char.codePointAt(0)!;
          return code <= 0x1f || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xdfff);
        });
        expect(isPlainText(text)).toBe(!controls);
      }),
    );
  });
});

describe('bounded instants', () => {
  it.each([
    ['2000-01-01T00:00:00Z', true],
    ['1999-12-31T23:59:59.999Z', false],
    ['2000-01-01T00:30:00+01:00', false],
    ['2100-12-31T23:59:59Z', true],
    ['2101-01-01T00:00:00Z', false],
    ['2100-12-31T23:00:00-01:00', false],
    ['0000-01-01T00:00:00Z', false],
    ['9999-12-31T23:59:59Z', false],
    ['2028-02-29T12:00:00Z', true],
    ['2026-02-29T12:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['2026-11-20T10:00:00+14:00', true],
  ])('%s is in range: %s', (text, inRange) => {
    expect(Number.isNaN(boundedInstantMs(text))).toBe(!inRange);
    expect(boundedInstant.safeParse(text).success).toBe(inRange);
  });

  it('refuses what is not an ISO-8601 date-time with an offset', () => {
    expect(['2026-11-20', '2026-11-20T10:00:00', 'yesterday', '+275760-09-13T00:00:00Z'].map((text) => boundedInstant.safeParse(text).success)).toEqual([false, false, false, false]);
  });
});
