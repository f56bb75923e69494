import type { EventStreamWriter, PutRecordResult, StreamRecordInput } from '../../../functions/ports';
import { makePseudonymiser } from '../../../functions/domain/privacy/pseudonymise';
import { makeIngest } from '../../../functions/use-cases/ingest';
import type { ConsentRecord, ConsentScopes } from '../../../functions/domain/privacy/consent';
import type { ConsentRegistry } from '../../../functions/ports/consent';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { makeEvent, SAMPLE_ATTRIBUTES } from '../../support/events';
import { MemoryRecordKeys } from '../../support/record-keys';
import { openRecord, sealedHeader } from '../../../functions/domain/privacy/sealed-record';

const NOW = new Date('2026-11-20T12:00:00Z');
const pepper = new Uint8Array(32).fill(7);
const pseudonymise = { user: makePseudonymiser(pepper, 'user'), session: makePseudonymiser(pepper, 'session') };

/** The record keys every ingest of this file seals under. */
const keys = new MemoryRecordKeys();

/** A stream that turns away the records `refuse` picks, attempt by attempt; it opens what it takes with the users' keys. */
class FakeStream implements EventStreamWriter {
  readonly taken: StoredEvent[] = [];
  readonly records: StreamRecordInput[] = [];
  calls = 0;
  constructor(private readonly refuse: (attempt: number, position: number) => boolean = () => false) {}
  async putRecords(records: readonly StreamRecordInput[]): Promise<PutRecordResult[]> {
    this.calls += 1;
    const opened = await Promise.all(records.map((record) => this.open(record)));
    return records.map((record, position) => {
      if (this.refuse(this.calls, position)) return { ok: false, errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' };
      this.records.push(record);
      this.taken.push(opened[position]!);
      return { ok: true, shardId: 'shardId-000000000000', sequenceNumber: String(this.taken.length) };
    });
  }
  private async open(record: StreamRecordInput): Promise<StoredEvent> {
    const header = sealedHeader(record.data);
    if (!header.sealed) throw new Error('ingest put a record that is not sealed');
    const key = (await keys.keysById([header.keyId])).get(header.keyId);
    const plaintext = key && openRecord(record.data, key);
    if (!plaintext) throw new Error('a sealed record does not open under its key');
    return JSON.parse(new TextDecoder().decode(plaintext)) as StoredEvent;
  }
}

/** Consent per pseudonym; everyone the test does not name has analytics consent. */
class FakeConsent implements Pick<ConsentRegistry, 'getMany'> {
  readonly lookups: string[][] = [];
  constructor(private readonly scopesOf: (subject: string) => ConsentScopes | undefined = () => ({ analytics: true, research: false, safety_monitoring: true })) {}
  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    this.lookups.push([...subjects]);
    const found = new Map<string, ConsentRecord>();
    for (const subject of subjects) {
      const scopes = this.scopesOf(subject);
      if (scopes) found.set(subject, { subject, scopes, updatedAt: NOW.toISOString() });
    }
    return found;
  }
}

function ingestWith(stream: EventStreamWriter, sleeps: number[] = [], consent: FakeConsent = new FakeConsent()) {
  return makeIngest({ stream, consent, keys, pseudonymise, clock: { now: () => NOW }, sleep: async (ms) => void sleeps.push(ms), random: () => 1 });
}

const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

describe('ingest', () => {
  it("seals each record under its user's key, partitioned by the key's random id: the stream holds neither the pseudonym nor the attributes in the clear", async () => {
    const stream = new FakeStream();
    const events = [makeEvent({ userId: 'sealed-user', occurredAt: at(2), attributes: { goalId: 'canary-goal-7f3a', milestone: 'breakthrough' } }, 'progress.milestone'), makeEvent({ userId: 'sealed-user', occurredAt: at(2) })];

    await ingestWith(stream)(events);

    const subject = pseudonymise.user('sealed-user');
    const [key] = (await keys.keysFor([subject])).values();
    expect(stream.records.map((record) => record.partitionKey)).toEqual([key!.keyId, key!.keyId]);
    expect(stream.taken.map((event) => event.subject)).toEqual([subject, subject]);
    for (const record of stream.records) {
      const bytes = Buffer.from(record.data);
      for (const secret of [subject, 'canary-goal-7f3a', 'breakthrough']) expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(subject, 'hex'))).toBe(false);
    }
    // A fresh IV per record: two records of one user never share a ciphertext prefix.
    expect(Buffer.from(stream.records[0]!.data).subarray(18, 30)).not.toEqual(Buffer.from(stream.records[1]!.data).subarray(18, 30));
  });

  it('refuses with consent_missing, and never puts on the stream, the events of users without analytics consent', async () => {
    const stream = new FakeStream();
    const withdrawn = pseudonymise.user('withdrawn');
    const consent = new FakeConsent((subject) =>
      subject === pseudonymise.user('never-asked') ? undefined : { analytics: subject !== withdrawn, research: true, safety_monitoring: true },
    );
    const events = ['consenting', 'never-asked', 'withdrawn', 'consenting'].map((userId) => makeEvent({ userId, occurredAt: at(2) }));

    const result = await ingestWith(stream, [], consent)(events);

    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'consent_missing'],
      [2, 'consent_missing'],
    ]);
    expect(result.rejected[0]!.message).toMatch(/^userId: /);
    expect(result.rejected[0]!.message).not.toContain('never-asked');
    expect(stream.taken.map((e) => e.subject)).toEqual([pseudonymise.user('consenting'), pseudonymise.user('consenting')]);
  });

  it('marks for research only the events of users who consented to research', async () => {
    const stream = new FakeStream();
    const consent = new FakeConsent((subject) => ({ analytics: true, research: subject === pseudonymise.user('researcher'), safety_monitoring: false }));

    await ingestWith(stream, [], consent)(['researcher', 'analytics-only'].map((userId) => makeEvent({ userId, occurredAt: at(2) })));

    expect(stream.taken.map((e) => [e.subject, e.research])).toEqual([
      [pseudonymise.user('researcher'), true],
      [pseudonymise.user('analytics-only'), undefined],
    ]);
  });

  it('marks for the safety watch only the events of users who consented to safety monitoring', async () => {
    const stream = new FakeStream();
    const consent = new FakeConsent((subject) => ({ analytics: true, research: false, safety_monitoring: subject === pseudonymise.user('watched') }));

    await ingestWith(stream, [], consent)(['watched', 'not-watched'].map((userId) => makeEvent({ userId, occurredAt: at(2) })));

    expect(stream.taken.map((e) => [e.subject, e.safety])).toEqual([
      [pseudonymise.user('watched'), true],
      [pseudonymise.user('not-watched'), undefined],
    ]);
  });

  it("puts the app's channel token beside the event, out of its context, and only for users who consented to safety monitoring", async () => {
    const stream = new FakeStream();
    const consent = new FakeConsent((subject) => ({ analytics: true, research: false, safety_monitoring: subject === pseudonymise.user('watched') }));
    const token = (userId: string) => `token-of-${userId}-0123456789`;

    const result = await ingestWith(stream, [], consent)(['watched', 'not-watched'].map((userId) => makeEvent({ userId, occurredAt: at(2), context: { platform: 'ios', channelToken: token(userId) } })));

    expect(result.accepted).toBe(2);
    expect(stream.taken.map((e) => [e.subject, e.channelToken, e.context])).toEqual([
      [pseudonymise.user('watched'), token('watched'), { platform: 'ios' }],
      [pseudonymise.user('not-watched'), undefined, { platform: 'ios' }],
    ]);
  });

  it('refuses a channel token that is not an opaque token, naming the field', async () => {
    const result = await ingestWith(new FakeStream())([makeEvent({ occurredAt: at(2), context: { channelToken: 'has spaces in it, not a token' } })]);

    expect(result.rejected).toEqual([{ index: 0, code: 'invalid_event', message: expect.stringContaining('context.channelToken') }]);
  });

  it('asks the registry once per request, by pseudonym, and not at all when nothing is valid', async () => {
    const consent = new FakeConsent();
    const ingest = ingestWith(new FakeStream(), [], consent);

    await ingest(['a', 'b', 'a'].map((userId) => makeEvent({ userId, occurredAt: at(2) })));
    await ingest([makeEvent({ occurredAt: 'yesterday' })]);

    expect(consent.lookups).toHaveLength(1);
    expect(new Set(consent.lookups[0])).toEqual(new Set([pseudonymise.user('a'), pseudonymise.user('b')]));
  });

  it('accepts one valid event of every type and puts each on the stream under its pseudonym', async () => {
    const stream = new FakeStream();
    const events = (Object.keys(SAMPLE_ATTRIBUTES) as (keyof typeof SAMPLE_ATTRIBUTES)[]).map((type) => makeEvent({ occurredAt: at(5) }, type));

    const result = await ingestWith(stream)(events);

    expect(result).toEqual({ accepted: 9, rejected: [] });
    expect(stream.taken.map((e) => e.type).sort()).toEqual(Object.keys(SAMPLE_ATTRIBUTES).sort());
    expect(stream.taken.every((e) => e.subject === pseudonymise.user('user-1'))).toBe(true);
  });

  it('never lets the raw user id, session id, a text field or unknown attributes reach the stream', async () => {
    const stream = new FakeStream();
    const event = makeEvent({
      userId: 'raw-user-canary',
      sessionId: 'raw-session-canary',
      occurredAt: at(1),
      attributes: { valence: 0.1, arousal: 0.2, text: 'I feel text-canary', favouriteColour: 'attr-canary' },
    });

    await ingestWith(stream)([event]);

    const onStream = JSON.stringify(stream.taken);
    for (const canary of ['raw-user-canary', 'raw-session-canary', 'text-canary', 'attr-canary', 'favouriteColour']) expect(onStream).not.toContain(canary);
    expect(stream.taken[0]?.attributes).toEqual({ valence: 0.1, arousal: 0.2 });
  });

  it('rejects an event whose kept fields hold PII with pii_detected, naming the field and not echoing the value', async () => {
    const stream = new FakeStream();
    const events = [
      makeEvent({ occurredAt: at(1), type: 'choice.made', attributes: { ...SAMPLE_ATTRIBUTES['choice.made'], sceneId: 'jane.doe@example.org' } }),
      makeEvent({ occurredAt: at(1), type: 'engagement.heartbeat', attributes: { screen: 'call-07700900123', activeSec: 5 } }),
      // Ids that only ever reach the stream as pseudonyms are not refused for what they hold.
      makeEvent({ occurredAt: at(1), userId: 'jane.doe@example.org' }),
    ];

    const result = await ingestWith(stream)(events);

    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([
      { index: 0, code: 'pii_detected', message: 'attributes.sceneId: holds what looks like an e-mail address; personal data may not be sent' },
      { index: 1, code: 'pii_detected', message: 'attributes.screen: holds what looks like a phone number; personal data may not be sent' },
    ]);
    expect(JSON.stringify([result, stream.taken])).not.toMatch(/jane|07700900123/);
  });

  it('rejects each bad event with its index and a message naming the field, and accepts the rest', async () => {
    const stream = new FakeStream();
    const events = [
      makeEvent({ occurredAt: at(1) }),
      makeEvent({ occurredAt: at(1), attributes: { valence: 3, arousal: 0.5 } }),
      makeEvent({ occurredAt: at(1), type: 'no.such.type' }),
      makeEvent({ occurredAt: at(1), eventId: 'not-a-uuid' }),
      makeEvent({ occurredAt: at(31 * 24 * 60) }),
      makeEvent({ occurredAt: new Date(NOW.getTime() + 25 * 3600_000).toISOString() }),
      makeEvent({ occurredAt: at(1), type: 'assessment.completed', attributes: { instrument: 'PHQ-9', score: 30 } }),
      'not an object',
    ];

    const result = await ingestWith(stream)(events);

    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'invalid_event'],
      [2, 'invalid_event'],
      [3, 'invalid_event'],
      [4, 'occurred_at_out_of_range'],
      [5, 'occurred_at_out_of_range'],
      [6, 'invalid_event'],
      [7, 'invalid_event'],
    ]);
    const messages = result.rejected.map((r) => r.message);
    expect(messages[0]).toMatch(/^attributes\.valence: /);
    expect(messages[1]).toMatch(/^type: /);
    expect(messages[2]).toMatch(/^eventId: /);
    expect(messages[3]).toMatch(/^occurredAt: older than 30 days/);
    expect(messages[4]).toMatch(/^occurredAt: more than 24 h in the future/);
    expect(messages[5]).toMatch(/^attributes\.score: must be at most 27/);
  });

  it('says a field left out is required, naming it', async () => {
    const { sessionId: _left, ...withoutSession } = makeEvent({ occurredAt: at(1) });

    const result = await ingestWith(new FakeStream())([withoutSession]);

    expect(result.rejected).toEqual([{ index: 0, code: 'invalid_event', message: 'sessionId: is required (string)' }]);
  });

  it('checks PHQ-9 items against the instrument: count, range and sum', async () => {
    const ingest = ingestWith(new FakeStream());
    const phq = (items: number[], score: number) => makeEvent({ occurredAt: at(1), type: 'assessment.completed', attributes: { instrument: 'PHQ-9', score, items } });

    const result = await ingest([phq([1, 1, 1], 3), phq([4, 0, 0, 0, 0, 0, 0, 0, 0], 4), phq([1, 1, 1, 1, 1, 1, 1, 1, 1], 5), phq([0, 0, 0, 0, 0, 0, 0, 0, 3], 3)]);

    expect(result.rejected.map((r) => r.message)).toEqual([
      'attributes.items: PHQ-9 has 9 items',
      'attributes.items[0]: must be at most 3',
      'attributes.score: must equal the sum of items (9)',
    ]);
    expect(result.accepted).toBe(1);
  });

  it('rejects a second event with the same eventId in one request', async () => {
    const event = makeEvent({ occurredAt: at(1) });

    const result = await ingestWith(new FakeStream())([event, { ...event }]);

    expect(result).toEqual({ accepted: 1, rejected: [{ index: 1, code: 'duplicate_event_id', message: expect.stringMatching(/^eventId: /) }] });
  });

  it('retries records the stream turned away, with growing backoff, and reports only those that never got through', async () => {
    const sleeps: number[] = [];
    // Record 0 gets through on the second attempt; record 1 is refused every time.
    const stream = new FakeStream((attempt, position) => (attempt === 1 ? true : position === 1 || (attempt > 2 && position === 0)));
    const events = [makeEvent({ occurredAt: at(1) }), makeEvent({ occurredAt: at(1) })];

    const result = await ingestWith(stream, sleeps)(events);

    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([{ index: 1, code: 'stream_unavailable', message: expect.stringContaining('ProvisionedThroughputExceededException') }]);
    expect(stream.calls).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });
});
