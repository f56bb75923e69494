import { findPii, normaliseForPii, piiIn } from '../../../functions/domain/privacy/pii';
import { NEAR_MISSES, PII_FORMATS } from '../../support/pii-formats';

const SAMPLES = [0, 7, 4_242, 65_537, 99_999];

describe('PII-like content in kept string fields', () => {
  it.each(PII_FORMATS.map((f) => [f.kind, f.format, f]))('finds %s written as %s, alone and inside an id', (kind, _format, f) => {
    const values = SAMPLES.map((n) => f.make(n));

    expect(new Set(values).size).toBe(SAMPLES.length);
    expect(values.map((value) => [value, piiIn(value)])).toEqual(values.map((value) => [value, kind]));
    expect(values.map((value) => piiIn(`ref-${value}`))).toEqual(values.map(() => kind));
  });

  it.each([
    ['jane.doe@example.org', 'email'],
    ['reply-to-x.jane@ex.co.uk', 'email'],
    ['+447700900123', 'phone'],
    ['call-07700900123', 'phone'],
    ['07700-900-123', 'phone'],
    ['555-123-4567', 'phone'],
    ['192.168.0.1', 'ip_address'],
    ['192.168.001.001', 'ip_address'],
    ['host-10.0.0.7', 'ip_address'],
    ['fe80::1ff:fe23:4567:890a', 'ip_address'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ip_address'],
    ['4111111111111111', 'card_number'],
    ['card-4111-1111-1111-1111', 'card_number'],
    ['4111.1111.1111.1111', 'card_number'],
    ['123-45-6789', 'national_id'],
    ['123.45.6789', 'national_id'],
    ['ni-AB123456D', 'national_id'],
    ['ab-12-34-56-c', 'national_id'],
  ])('finds the reported %s: %s', (value, kind) => {
    expect(piiIn(value)).toBe(kind);
  });

  it.each(NEAR_MISSES)('lets the id-like %s pass', (value) => {
    expect(piiIn(value)).toBeUndefined();
  });

  it('reads any dash as -, any space as one space, drops invisible characters and the spacing around separators', () => {
    expect(normaliseForPii('4111\u2014111\u200b1 \u00a0 1111 . 1111\uff0d1111')).toBe('4111-1111 1111.1111-1111');
  });

  it('names the first field that holds any, in the attributes and then the context', () => {
    expect(findPii({ attributes: { scenarioId: 'forest', sceneId: 'jane@example.org' }, context: { locale: 'en-GB' } })).toEqual({ field: 'attributes.sceneId', kind: 'email' });
    expect(findPii({ attributes: { valence: 0.2 }, context: { appVersion: '4.2.1+10.0.0.7' } })).toBeUndefined();
    expect(findPii({ attributes: { screen: 'home' } })).toBeUndefined();
  });

  it('takes a four-part app version for what it is, not for an address', () => {
    expect(piiIn('1.2.3.4')).toBe('ip_address');
    expect(findPii({ attributes: {}, context: { appVersion: '1.2.3.4' } })).toBeUndefined();
  });
});
