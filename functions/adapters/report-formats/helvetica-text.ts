/*
 * Text the PDF's built-in Helvetica can draw. The standard PDF fonts cover WinAnsi (Latin-1 and a
 * few typographic marks) only, and pdfkit draws any other character as some WinAnsi glyph: "≥"
 * comes out as "e", which changes what a sentence says. So a report's text is mapped before
 * layout: the signs reports use to their plain spelling, anything else to "?".
 */

/** The WinAnsi characters outside Latin-1 (code points 0x80 to 0x9F of the encoding). */
const WIN_ANSI_MARKS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

const SPELLED: Readonly<Record<string, string>> = {
  '≥': '>=',
  '≤': '<=',
  '≠': '!=',
  '≈': '~',
  '−': '-',
  '→': '->',
  '←': '<-',
  '\u2009': ' ',
  '\u202f': ' ',
};

function drawable(character: string): boolean {
  const code = character.codePointAt(0) ?? 0;
  return character === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_MARKS.has(character);
}

export function helveticaText(text: string): string {
  let out = '';
  // NFC first: an "é" sent as "e" and a combining accent is one Latin-1 letter.
  for (const character of text.normalize('NFC')) out += drawable(character) ? character : (SPELLED[character] ?? '?');
  return out;
}

/** Every string in a report document (or any plain data) as helveticaText. */
export function withHelveticaText<T>(value: T): T {
  if (typeof value === 'string') return helveticaText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withHelveticaText(item)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withHelveticaText(item)])) as T;
  }
  return value;
}
