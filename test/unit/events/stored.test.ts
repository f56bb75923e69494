import { decodeStoredEvent, decodeWithSchemas } from '../../../functions/domain/events/stored';
import { EVENT_TYPES, type EventType } from '../../../functions/domain/events/schema';
import { mulberry32 } from '../../../functions/domain/demo/synthetic-traffic';
import { SAMPLE_ATTRIBUTES } from '../../support/events';

// The reference is the schemas alone: the hand-written fast path must answer exactly what they do.
const reference = decodeWithSchemas;

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const HEX = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

function stored(type: EventType, attributes: Record<string, unknown> = SAMPLE_ATTRIBUTES[type]): Record<string, unknown> {
  return {
    v: 1,
    eventId: '3f2a8c1e-5b7d-4e9f-a1c3-7d5e9b2f4a6c',
    type,
    occurredAt: '2026-11-20T10:00:00.000Z',
    receivedAt: '2026-11-20T10:00:01.500Z',
    subject: HEX,
    session: HEX.split('').reverse().join(''),
    attributes,
    context: { appVersion: '4.2.1', platform: 'ios', locale: 'en-GB', timezone: 'Europe/London' },
  };
}

// Values that break or bend each kind of field: wrong types, bounds, patterns, case, extras.
const ODD_VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1.5, 2, 5, 6, 7, 9, 27, 28, 60, 3_600, 3_601, 86_400, 86_401, 3_600_000, 3_600_001, 2 ** 53, -1e-9,
  '', 'x', 'ios', 'IOS', 'calm', 'narrative', 'breathing', 'standard', 'completed', 'PHQ-9', 'GAD-7', 'WHO-5', 'low', 'classifier', 'skill_acquired',
  '-bad', 'a b', 'x'.repeat(128), 'x'.repeat(129), '4.2.1', '4.2.1-beta.1', 'v4', 'en', 'EN', 'Europe/London', 'UTC', 'utc', '1', [], [1], {}, { a: 1 },
  [0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0], [3, 3, 3, 3, 3, 3, 3, 3, 4], [1, 1, 1, 1, 1, 1, 1, 0.5, 0.5], [1, 1, 1, 1, 1, 1, 1],
  '2026-11-20T10:00:00Z', '2026-11-20T10:00:00.123456Z', '2026-11-20T10:00:00+01:00', '2026-02-30T10:00:00.000Z', '2026-11-20T24:00:00.000Z', '2026-11-20 10:00:00Z',
  '3F2A8C1E-5B7D-4E9F-A1C3-7D5E9B2F4A6C', '3f2a8c1e-5b7d-0e9f-a1c3-7d5e9b2f4a6c', '00000000-0000-0000-0000-000000000000', HEX.toUpperCase(), HEX.slice(1), `${HEX}0`,
  '3f2a8c1e-5b7d-9e9f-a1c3-7d5e9b2f4a6c', '3f2a8c1e-5b7d-8e9f-B1c3-7d5e9b2f4a6c', '3f2a8c1e-5b7d-4e9f-c1c3-7d5e9b2f4a6c', '3f2a8c1e-5b7d-4e9f-71c3-7d5e9b2f4a6c',
  '3f2a8c1e-5b7d-4e9f-a1c3-7d5e9b2f4a6g', '3f2a8c1e_5b7d-4e9f-a1c3-7d5e9b2f4a6c', 'ffffffff-ffff-ffff-ffff-ffffffffffff', `${HEX.slice(0, 63)}g`,
];

describe('decodeStoredEvent', () => {
  it('answers what the schemas answer, for valid events and for every field bent in every odd way', () => {
    const random = mulberry32(11);
    const cases: unknown[] = ['"just a string"', 'null', '[]', '{}'].map((text) => JSON.parse(text));
    for (const type of EVENT_TYPES) {
      const base = stored(type);
      cases.push(base, { ...base, extra: 1, attributes: { ...(base['attributes'] as object), text: 'free text' }, context: { platform: 'web', other: 'x' } });
      // Each envelope field, each attribute and each context field replaced by each odd value.
      for (const key of Object.keys(base)) for (const value of ODD_VALUES) cases.push({ ...base, [key]: value });
      // The research mark: true, or any odd value in its place.
      for (const value of [true, ...ODD_VALUES]) cases.push({ ...base, research: value });
      // The safety-monitoring mark, the same.
      for (const value of [true, ...ODD_VALUES]) cases.push({ ...base, safety: value });
      for (const key of [...Object.keys(SAMPLE_ATTRIBUTES[type]), 'unknownKey']) {
        for (const value of ODD_VALUES) cases.push({ ...base, attributes: { ...SAMPLE_ATTRIBUTES[type], [key]: value } });
      }
      for (const key of ['appVersion', 'platform', 'locale', 'timezone']) {
        for (const value of ODD_VALUES) cases.push({ ...base, context: { ...(base['context'] as object), [key]: value } });
      }
      // And a few hundred random combinations of two changes.
      for (let i = 0; i < 300; i++) {
        const attributes: Record<string, unknown> = { ...SAMPLE_ATTRIBUTES[type] };
        const keys = Object.keys(attributes);
        for (let k = 0; k < 2; k++) attributes[keys[Math.floor(random() * keys.length)]!] = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
        cases.push({ ...base, type: EVENT_TYPES[Math.floor(random() * EVENT_TYPES.length)], attributes });
      }
    }
    let accepted = 0;
    for (const json of cases) {
      // Through JSON, as a record travels (-0 becomes 0).
      const expected = reference(JSON.parse(JSON.stringify(json)));
      const actual = decodeStoredEvent(encode(json));
      expect(actual).toEqual(expected);
      // Same keys in the same order, not merely equal.
      expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      if (actual.ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(500);
    expect(cases.length - accepted).toBeGreaterThan(2_000);
  });

  it('refuses bytes that are not UTF-8 JSON', () => {
    expect(decodeStoredEvent(new Uint8Array([0xff, 0xfe]))).toEqual({ ok: false, reason: 'not JSON' });
    expect(decodeStoredEvent(new TextEncoder().encode('{"v":1'))).toEqual({ ok: false, reason: 'not JSON' });
  });

  it("keeps the app's channel token only for the consumer that asks for it, and refuses a record whose token is not one", () => {
    const token = 'app-session-token-0123456789abcdef';
    const record = encode({ ...stored('crisis.signal'), safety: true, channelToken: token });

    const forDetect = decodeStoredEvent(record, { keepChannelToken: true });
    const forTheRest = decodeStoredEvent(record);

    expect(forDetect.ok && forDetect.event.channelToken).toBe(token);
    expect(forTheRest.ok).toBe(true);
    expect(JSON.stringify(forTheRest)).not.toContain(token);
    expect(decodeStoredEvent(encode({ ...stored('crisis.signal'), channelToken: 'short' }))).toEqual({ ok: false, reason: 'bad envelope at channelToken' });
    expect(decodeStoredEvent(encode({ ...stored('crisis.signal'), channelToken: 'x'.repeat(20) + ' with space' }), { keepChannelToken: true })).toEqual({ ok: false, reason: 'bad envelope at channelToken' });
    // Inside the context it is no field the stream knows: dropped by every decoder.
    const inContext = decodeStoredEvent(encode({ ...stored('crisis.signal'), context: { platform: 'ios', channelToken: token } }), { keepChannelToken: true });
    expect(JSON.stringify(inContext)).not.toContain(token);
  });
});
