import type { PiiKind } from '../../functions/domain/privacy/pii';

/**
 * How each kind of PII is written in the wild, for the detector's unit tests and the canary
 * suite alike: several separators, spacing and zero-padding per kind, and the near misses (ids,
 * versions, dates, locales) that must pass.
 */
export interface PiiFormat {
  readonly kind: PiiKind;
  /** How the value is written, for test names. */
  readonly format: string;
  /** A value of this format, a different one for each n from 0 to 99,999. */
  readonly make: (n: number) => string;
}

const digits = (n: number, width: number): string => String(n).padStart(width, '0');

/** The body with its Luhn check digit appended. */
export function withLuhnCheck(body: string): string {
  let sum = 0;
  for (let k = 0; k < body.length; k++) {
    let digit = Number(body[body.length - 1 - k]);
    if (k % 2 === 0 && (digit *= 2) > 9) digit -= 9;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** A 16-digit Visa-range card number in four groups, distinct per n. */
const cardGroups = (n: number): string[] => withLuhnCheck(`411111${digits(n, 9)}`).match(/\d{4}/g) ?? [];
/** Six digits for the subscriber part of a phone number, split 3-3. */
const six = (n: number): [string, string] => {
  const d = digits(n, 6);
  return [d.slice(0, 3), d.slice(3)];
};
const nanp = (n: number): [string, string] => {
  const d = digits(n, 7);
  return [d.slice(0, 3), d.slice(3)];
};
const ssn = (n: number): [string, string, string] => {
  const d = String(123_000_000 + n);
  return [d.slice(0, 3), d.slice(3, 5), d.slice(5)];
};
const niPairs = (n: number): string[] => digits(n, 6).match(/\d\d/g) ?? [];
const octets = (n: number): number[] => [10, (n >> 16) & 255, (n >> 8) & 255, n & 255];
const hex = (n: number): string => n.toString(16);
const fullWidth = (text: string): string => text.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));

export const PII_FORMATS: readonly PiiFormat[] = [
  { kind: 'email', format: 'plain', make: (n) => `canary${n}@example.org` },
  { kind: 'email', format: 'dotted local part, plus tag, subdomain', make: (n) => `jane.doe+c${n}@mail.example.co.uk` },
  { kind: 'email', format: 'full-width at sign', make: (n) => `canary${n}\uff20example.org` },
  { kind: 'email', format: 'spaces around the at sign', make: (n) => `canary${n} @ example.org` },

  { kind: 'phone', format: 'E.164', make: (n) => `+447700${digits(n, 6)}` },
  { kind: 'phone', format: 'international, spaces', make: (n) => `+44 7700 ${digits(n, 6)}` },
  { kind: 'phone', format: 'international with (0)', make: (n) => `+44 (0)7700 ${digits(n, 6)}` },
  { kind: 'phone', format: 'international, dashes', make: (n) => `+44-7700-${six(n).join('-')}` },
  { kind: 'phone', format: 'international prefix 00', make: (n) => `0044-7700-${digits(n, 6)}` },
  { kind: 'phone', format: 'national, unseparated', make: (n) => `07700${digits(n, 6)}` },
  { kind: 'phone', format: 'national, dashes', make: (n) => `07700-${six(n).join('-')}` },
  { kind: 'phone', format: 'national, dots', make: (n) => `07700.${six(n).join('.')}` },
  { kind: 'phone', format: 'national, underscores', make: (n) => `07700_${six(n).join('_')}` },
  { kind: 'phone', format: 'national, slashes', make: (n) => `07700/${six(n).join('/')}` },
  { kind: 'phone', format: 'national, en dashes', make: (n) => `07700\u2013${six(n).join('\u2013')}` },
  { kind: 'phone', format: 'national, no-break spaces', make: (n) => `07700\u00a0${six(n).join('\u00a0')}` },
  { kind: 'phone', format: 'national, full-width digits', make: (n) => fullWidth(`07700${digits(n, 6)}`) },
  { kind: 'phone', format: 'French pairs', make: (n) => `01 ${(digits(n, 8).match(/\d\d/g) ?? []).join(' ')}` },
  { kind: 'phone', format: 'North American, dashes', make: (n) => `555-${nanp(n).join('-')}` },
  { kind: 'phone', format: 'North American, dots', make: (n) => `555.${nanp(n).join('.')}` },
  { kind: 'phone', format: 'North American, parentheses', make: (n) => `(555) ${nanp(n).join('-')}` },
  { kind: 'phone', format: 'North American with 1, dashes', make: (n) => `1-555-${nanp(n).join('-')}` },

  { kind: 'ip_address', format: 'IPv4, dots', make: (n) => octets(n).join('.') },
  { kind: 'ip_address', format: 'IPv4, zero-padded', make: (n) => octets(n).map((o) => digits(o, 3)).join('.') },
  { kind: 'ip_address', format: 'IPv4, dashes in a host name', make: (n) => `ip-${octets(n).join('-')}` },
  { kind: 'ip_address', format: 'IPv4, underscores', make: (n) => octets(n).join('_') },
  { kind: 'ip_address', format: 'IPv4, spaced dots', make: (n) => octets(n).join(' . ') },
  { kind: 'ip_address', format: 'IPv6, compressed', make: (n) => `fe80::1ff:${hex(n >> 16)}:${hex(n & 0xffff)}:890a` },
  { kind: 'ip_address', format: 'IPv6, full', make: (n) => `2001:0db8:85a3:0000:0000:8a2e:${hex(n >> 16)}:${hex(n & 0xffff)}` },

  { kind: 'card_number', format: 'unseparated', make: (n) => cardGroups(n).join('') },
  { kind: 'card_number', format: 'dashes', make: (n) => cardGroups(n).join('-') },
  { kind: 'card_number', format: 'dots', make: (n) => cardGroups(n).join('.') },
  { kind: 'card_number', format: 'spaces', make: (n) => cardGroups(n).join(' ') },
  { kind: 'card_number', format: 'underscores', make: (n) => cardGroups(n).join('_') },
  { kind: 'card_number', format: 'slashes', make: (n) => cardGroups(n).join('/') },
  { kind: 'card_number', format: 'em dashes', make: (n) => cardGroups(n).join('\u2014') },
  { kind: 'card_number', format: 'zero-width spaces', make: (n) => cardGroups(n).join('\u200b') },
  { kind: 'card_number', format: 'Amex 4-6-5', make: (n) => withLuhnCheck(`3782${digits(n, 10)}`).replace(/^(\d{4})(\d{6})(\d{5})$/, '$1 $2 $3') },

  { kind: 'national_id', format: 'SSN, dashes', make: (n) => ssn(n).join('-') },
  { kind: 'national_id', format: 'SSN, dots', make: (n) => ssn(n).join('.') },
  { kind: 'national_id', format: 'SSN, spaces', make: (n) => ssn(n).join(' ') },
  { kind: 'national_id', format: 'SSN, underscores', make: (n) => ssn(n).join('_') },
  { kind: 'national_id', format: 'SSN, slashes', make: (n) => ssn(n).join('/') },
  { kind: 'national_id', format: 'NI number, compact', make: (n) => `AB${niPairs(n).join('')}C` },
  { kind: 'national_id', format: 'NI number, lower case with dashes', make: (n) => `ab-${niPairs(n).join('-')}-c` },
  { kind: 'national_id', format: 'NI number, spaces', make: (n) => `AB ${niPairs(n).join(' ')} D` },
  { kind: 'national_id', format: 'NI number, dots', make: (n) => `ab.${niPairs(n).join('.')}.a` },
];

/** Strings apps send that share a shape with PII and must pass. */
export const NEAR_MISSES: readonly string[] = [
  'forest-path',
  'scene-12',
  '550e8400-e29b-41d4-a716-446655440000',
  // A UUID whose groups are all decimal digits: its last group is no phone number.
  '12345678-1234-1234-1234-123456789012',
  'goal-1700000000000',
  // A millisecond timestamp that passes the Luhn check: no card starts with 1.
  `goal-${withLuhnCheck('176400000000')}`,
  '4111111111111112',
  '4111.1111.1111.1112',
  'user@tenant',
  'v1.2.3',
  '1.2.3.4.5',
  '256.1.1.1',
  'scene:ab:cd',
  'breathing_4_7_8',
  'c-20261125',
  'session-20261125-103000',
  '2026-11-25T10:00:00Z',
  'lvl-0001-0002-0003',
  '0-1-2-3-4-5-6-7-8-9',
  '555-1234',
  '123-45-67890',
  'AB123456',
  'ab-12-34-56',
  'en-GB',
  'es-419',
  'zh-Hant-TW',
  'Europe/London',
  'America/Argentina/Buenos_Aires',
  'Etc/GMT+10',
];
