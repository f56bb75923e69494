/**
 * PII-like content in the string fields ingest keeps (DESIGN.md: "PII-like strings inside allowed
 * fields are rejected"). Those fields are identifiers, versions, locales and time zones, never
 * prose (the schemas refuse spaces), so what can hide in them is a token: an e-mail address, a
 * phone number, an IP address, a payment card number or a national id.
 *
 * Numbers are written with any separator (`4111.1111.1111.1111`, `07700-900-123`,
 * `192.168.001.001`, `ab-12-34-56-c`), so the value is normalised first (`normaliseForPii`) and
 * the detectors look at digit groups joined by any of ` . - / _`, zero-padded or not.
 *
 * The detectors lean towards the ids apps really send: a UUID is removed before the digit-based
 * ones look (its last group alone is 12 hex digits, often all decimal); a long digit run counts
 * as a phone number only in a phone's shape (+ and country code, 00 or a trunk 0 before a non-zero
 * digit, or 3-3-4 groups), not as any 9 digits, so a timestamp or a zero-padded counter in an id
 * passes; and a card number must start as cards do (2 to 6), so a millisecond timestamp that
 * happens to pass the Luhn check is no card.
 */
export type PiiKind = 'email' | 'phone' | 'ip_address' | 'card_number' | 'national_id';

/**
 * The value with its separators made plain: full-width and other compatibility forms folded
 * (NFKC), invisible format characters (zero-width spaces, soft hyphens) dropped, every Unicode
 * dash read as `-` and every space as one ` `, and spacing around a separator removed.
 */
export function normaliseForPii(value: string): string {
  // Ingest runs this on every kept string: printable ASCII, nearly all of them, needs only the spacing.
  const folded = /[^\x21-\x7e]/.test(value)
    ? value
        .normalize('NFKC')
        .replace(/\p{Cf}/gu, '')
        .replace(/[\p{Pd}\u2212]/gu, '-')
        .replace(/[\p{Zs}\s]+/gu, ' ')
    : value;
  return folded.includes(' ') ? folded.replace(/ ?([.\-/_@]) ?/g, '$1') : folded;
}

const SEPARATORS = [' ', '.', '-', '/', '_'] as const;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
/**
 * Four octets joined by one separator throughout; a digit or a fifth part on either side makes it
 * something else (a version like 1.2.3.4.5, a longer number).
 */
const IPV4 = SEPARATORS.map((separator) => {
  const s = `\\${separator}`;
  return new RegExp(`(?<!\\d)(?<!\\d${s})(\\d{1,3})${s}(\\d{1,3})${s}(\\d{1,3})${s}(\\d{1,3})(?!\\d)(?!${s}\\d)`, 'g');
});
// Eight groups, or a compressed form with `::`.
const IPV6 = /(^|[^0-9a-f:])(([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|([0-9a-f]{1,4}:)*[0-9a-f]{0,4}::([0-9a-f]{1,4}:?)*)($|[^0-9a-f:])/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
// US social security number (3-2-4, one separator throughout), UK national insurance number.
const SSN = /(?<!\d)\d{3}([ .\-/_])\d{2}\1\d{4}(?!\d)/;
const NI_NUMBER = /(?<![A-Za-z])[A-CEGHJ-PR-TW-Z]{2}[ .\-/_]?\d{2}[ .\-/_]?\d{2}[ .\-/_]?\d{2}[ .\-/_]?[A-D](?![A-Za-z0-9])/i;
// Groups of 3 to 6 digits (4-4-4-4, Amex's 4-6-5) or one run of 13 to 19.
const CARD_CANDIDATE = /(?<!\d)\d{3,6}(?:[ .\-/_]\d{3,6})+(?!\d)|(?<!\d)\d{13,19}(?!\d)/g;
// Digit groups as phone numbers are written: a leading +, parentheses around a part.
const PHONE_CANDIDATE = /(?<![\d+])(?:\+ ?)?\(?\d+(?:[ .\-/_()]{1,3}\d+)*/g;
const MAX_PHONE_GROUPS = 5;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1 && (digit *= 2) > 9) digit -= 9;
    sum += digit;
  }
  return sum % 10 === 0;
}

const isIpv4 = (text: string): boolean =>
  SEPARATORS.some((separator, i) => text.includes(separator) && [...text.matchAll(IPV4[i]!)].some((m) => m.slice(1, 5).every((octet) => Number(octet) <= 255)));

/** Any run of consecutive groups of the candidate that reads as a card number. */
function hasCardNumber(text: string): boolean {
  for (const [candidate] of text.matchAll(CARD_CANDIDATE)) {
    const groups = candidate.split(/[ .\-/_]/);
    for (let first = 0; first < groups.length; first++) {
      let digits = '';
      for (let last = first; last < groups.length && digits.length < 19; last++) {
        digits += groups[last];
        if (digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && luhn(digits)) return true;
      }
    }
  }
  return false;
}

/** A North American number's groups (555 123 4567, 1 555 123 4567), or the digits of a national or 00 international one. */
function phoneShaped(groups: readonly string[]): boolean {
  const lengths = groups.map((group) => group.length).join(',');
  if (lengths === '3,3,4' || (lengths === '1,3,3,4' && groups[0] === '1')) return true;
  const digits = groups.join('');
  return (/^0[1-9]/.test(digits) && digits.length >= 10 && digits.length <= 11) || (/^00[1-9]/.test(digits) && digits.length >= 11 && digits.length <= 17);
}

function hasPhoneNumber(text: string): boolean {
  for (const [candidate] of text.matchAll(PHONE_CANDIDATE)) {
    const groups = candidate.match(/\d+/g) ?? [];
    if (candidate.startsWith('+')) {
      // E.164: a country code and at most 15 digits in all, however grouped.
      const digits = groups.slice(0, MAX_PHONE_GROUPS + 1).join('').length;
      if (digits >= 7 && digits <= 15) return true;
      continue;
    }
    for (let first = 0; first < groups.length; first++) {
      // A phone's later groups have two digits or more: 0-1-2-3-4-5-6-7-8-9 is a count, not a number.
      for (let last = first; last < Math.min(groups.length, first + MAX_PHONE_GROUPS); last++) {
        if (last > first && groups[last]!.length < 2) break;
        if (phoneShaped(groups.slice(first, last + 1))) return true;
      }
    }
  }
  return false;
}

/** The kind of PII-like content in the value, or undefined. */
export function piiIn(value: string): PiiKind | undefined {
  const text = normaliseForPii(value);
  if (text.includes('@') && EMAIL.test(text)) return 'email';
  if (text.includes(':') && IPV6.test(text)) return 'ip_address';
  // Every other kind has four digits or more (an IPv4 address) and the rest six or more.
  const withoutUuids = text.replace(UUID, '-');
  const digits = withoutUuids.replace(/\D/g, '').length;
  if (digits < 4) return undefined;
  if (isIpv4(text)) return 'ip_address';
  if (digits < 6) return undefined;
  if (hasCardNumber(withoutUuids)) return 'card_number';
  if (SSN.test(withoutUuids) || NI_NUMBER.test(withoutUuids)) return 'national_id';
  if (hasPhoneNumber(withoutUuids)) return 'phone';
  return undefined;
}

// A four-part app version (1.2.3.4) has an IPv4 address's shape and is none.
const NOT_LOOKED_FOR: Readonly<Record<string, PiiKind>> = { 'context.appVersion': 'ip_address' };
/**
 * The app's channel token is random (a hex token holds a phone number's run of digits one time in
 * a few), and is not kept: only the sealed stream record and the intervention back to the app
 * that made it carry it (test/e2e/pii-canaries.test.ts looks for it everywhere else).
 */
const NOT_SCANNED = new Set(['context.channelToken']);

/**
 * The first string field of the parts ingest keeps (as a path like `attributes.sceneId`) that
 * holds PII-like content, and its kind. The user and session ids are not among them: ingest keeps
 * only their pseudonyms.
 */
export function findPii(kept: { readonly attributes: object; readonly context?: object }): { field: string; kind: PiiKind } | undefined {
  for (const part of ['attributes', 'context'] as const) {
    for (const [name, value] of Object.entries(kept[part] ?? {}) as [string, unknown][]) {
      const field = `${part}.${name}`;
      if (NOT_SCANNED.has(field)) continue;
      const kind = typeof value === 'string' ? piiIn(value) : undefined;
      if (kind && NOT_LOOKED_FOR[field] !== kind) return { field, kind };
    }
  }
  return undefined;
}
