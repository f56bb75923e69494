import { findPii, piiIn } from '../../../functions/domain/privacy/pii';

describe('PII-like content in kept string fields', () => {
  it.each([
    ['jane.doe@example.org', 'email'],
    ['reply-to-x.jane@ex.co.uk', 'email'],
    ['+447700900123', 'phone'],
    ['call-07700900123', 'phone'],
    ['555-123-4567', 'phone'],
    ['192.168.0.1', 'ip_address'],
    ['host-10.0.0.7', 'ip_address'],
    ['fe80::1ff:fe23:4567:890a', 'ip_address'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ip_address'],
    ['4111111111111111', 'card_number'],
    ['card-4111-1111-1111-1111', 'card_number'],
    ['123-45-6789', 'national_id'],
    ['ni-AB123456D', 'national_id'],
  ])('finds %s: %s', (value, kind) => {
    expect(piiIn(value)).toBe(kind);
  });

  it.each([
    'forest-path',
    'scene-12',
    '550e8400-e29b-41d4-a716-446655440000',
    // A UUID whose groups are all decimal digits: its last group is no phone number.
    '12345678-1234-1234-1234-123456789012',
    'goal-1700000000000',
    '4111111111111112',
    'user@tenant',
    'v1.2.3',
    'scene:ab:cd',
    'breathing_4_7_8',
    'c-20261125',
    'en-GB',
    'Europe/London',
  ])('lets the id-like %s pass', (value) => {
    expect(piiIn(value)).toBeUndefined();
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
