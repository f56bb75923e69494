/**
 * PII-like content in the string fields ingest keeps (DESIGN.md: "PII-like strings inside allowed
 * fields are rejected"). Those fields are identifiers, versions, locales and time zones, never
 * prose (the schemas refuse spaces), so what can hide in them is a token: an e-mail address, a
 * phone number, an IP address, a payment card number or a national id.
 *
 * The detectors lean towards the ids apps really send: a UUID is removed before the digit-based
 * ones look (its last group alone is 12 hex digits, often all decimal), and a long digit run
 * counts as a phone number only in a phone's shape (+ and country code, a trunk 0, or
 * 3-3-4 groups), not as any 9 digits, so a timestamp in an id passes.
 */
export type PiiKind = 'email' | 'phone' | 'ip_address' | 'card_number' | 'national_id';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(^|[^\\d.])${OCTET}(\\.${OCTET}){3}($|[^\\d.])`);
// Eight groups, or a compressed form with `::`.
const IPV6 = /(^|[^0-9a-f:])(([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|([0-9a-f]{1,4}:)*[0-9a-f]{0,4}::([0-9a-f]{1,4}:?)*)($|[^0-9a-f:])/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const PHONE = /(^|\D)(\+\d{7,15}|0\d{9,10}|\d{3}[-.]\d{3}[-.]\d{4})($|\D)/;
// US social security number, UK national insurance number.
const NATIONAL_ID = /(^|\D)\d{3}-\d{2}-\d{4}($|\D)|(^|[^A-Za-z])[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]($|[^A-Za-z0-9])/i;
// 13 to 19 digits, single dashes allowed between them.
const CARD = /\d(-?\d){12,18}/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1 && (digit *= 2) > 9) digit -= 9;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The kind of PII-like content in the value, or undefined. */
export function piiIn(value: string): PiiKind | undefined {
  if (EMAIL.test(value)) return 'email';
  if (IPV4.test(value) || (value.includes(':') && IPV6.test(value))) return 'ip_address';
  const withoutUuids = value.replace(UUID, '-');
  for (const run of withoutUuids.match(CARD) ?? []) if (luhn(run.replace(/-/g, ''))) return 'card_number';
  if (NATIONAL_ID.test(withoutUuids)) return 'national_id';
  if (PHONE.test(withoutUuids)) return 'phone';
  return undefined;
}

// A four-part app version (1.2.3.4) has an IPv4 address's shape and is none.
const NOT_LOOKED_FOR: Readonly<Record<string, PiiKind>> = { 'context.appVersion': 'ip_address' };

/**
 * The first string field of the parts ingest keeps (as a path like `attributes.sceneId`) that
 * holds PII-like content, and its kind. The user and session ids are not among them: ingest keeps
 * only their pseudonyms.
 */
export function findPii(kept: { readonly attributes: object; readonly context?: object }): { field: string; kind: PiiKind } | undefined {
  for (const part of ['attributes', 'context'] as const) {
    for (const [name, value] of Object.entries(kept[part] ?? {}) as [string, unknown][]) {
      const field = `${part}.${name}`;
      const kind = typeof value === 'string' ? piiIn(value) : undefined;
      if (kind && NOT_LOOKED_FOR[field] !== kind) return { field, kind };
    }
  }
  return undefined;
}
