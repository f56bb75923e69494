import type { KinesisStreamEvent } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { makeAggregateHandler } from '../../../functions/handlers/aggregate';
import { makePseudonymiser } from '../../../functions/domain/privacy/pseudonymise';
import { toStoredEvent, validateEvent } from '../../../functions/domain/events/validate';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { makeEvent } from '../../support/events';
import { MemoryRecordKeys } from '../../support/record-keys';

const pepper = new Uint8Array(32).fill(3);
const pseudonymise = { user: makePseudonymiser(pepper, 'user'), session: makePseudonymiser(pepper, 'session') };
const logger = jsonLogger('test', 'silent');
// Plain JSON records (as an earlier version put them): no key is asked for.
const decoding = { logger, keys: new MemoryRecordKeys(), metrics: { count: () => undefined } };

function stored(overrides: Record<string, unknown> = {}): StoredEvent {
  const validation = validateEvent(makeEvent(overrides), new Date(), { freshness: true });
  if (!validation.ok) throw new Error(validation.message);
  return toStoredEvent(validation.event, pseudonymise, new Date());
}

function kinesisEvent(payloads: (StoredEvent | string)[]): KinesisStreamEvent {
  return {
    Records: payloads.map((payload, index) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'p',
        sequenceNumber: String(100 + index),
        data: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${100 + index}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    })),
  };
}

describe('aggregate handler', () => {
  it('applies the decodable records and reports only the poison one as a batch item failure', async () => {
    const applied: StoredEvent[][] = [];
    const handler = makeAggregateHandler({ aggregate: async (events) => (applied.push([...events]), { applied: events.length, duplicates: 0 }), ...decoding });
    const [first, last] = [stored(), stored()];

    const response = await handler(kinesisEvent([first, '{"v": 1, "type": "mood.reported"', last]));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '101' }] });
    expect(applied).toEqual([[first, last]]);
  });

  it('treats a record with a raw user id instead of a pseudonym as poison', async () => {
    const handler = makeAggregateHandler({ aggregate: async (events) => ({ applied: events.length, duplicates: 0 }), ...decoding });
    const forged = { ...stored(), subject: 'jane.doe@example.org' };

    const response = await handler(kinesisEvent([forged]));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '100' }]);
  });

  it('throws when the store fails, so the whole batch is retried (and bisected) by the mapping', async () => {
    const handler = makeAggregateHandler({ aggregate: () => Promise.reject(new Error('connection reset')), ...decoding });

    await expect(handler(kinesisEvent([stored()]))).rejects.toThrow('connection reset');
  });
});
