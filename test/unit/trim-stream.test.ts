import { handledThrough } from '../../functions/domain/stream/checkpoint';
import { makeTrimHandled } from '../../functions/use-cases/trim-stream';
import type { Checkpoint, CheckpointStore, EventStreamReader, HandledRecords, StreamRecord } from '../../functions/ports';

/** A stream of numbered records per shard, and what trimThrough asked of it. */
function fakeStream(shards: Record<string, number>): EventStreamReader & HandledRecords & { trims: [string, string][] } {
  const trims: [string, string][] = [];
  return {
    trims,
    listShards: async () => Object.keys(shards),
    readShard: async (): Promise<StreamRecord[]> => [],
    streamId: async () => 'stream-b',
    async trimThrough(shardId, sequenceNumber) {
      trims.push([shardId, sequenceNumber]);
      return Math.min(Number(sequenceNumber), shards[shardId]!);
    },
  };
}

const checkpointsOf = (table: Record<string, Record<string, Checkpoint>>): CheckpointStore => ({
  get: async (consumer, shardId) => table[consumer]?.[shardId],
  set: async () => undefined,
});

describe('trimming the handled part of the embedded stream', () => {
  it('keeps everything a consumer without a checkpoint on this stream will read, and trims through the lowest checkpoint otherwise', () => {
    // Act
    const through = {
      both: handledThrough([{ sequenceNumber: '120', streamId: 'stream-b' }, { sequenceNumber: '95', streamId: 'stream-b' }], 'stream-b'),
      // Compared as numbers, not as text ('95' > '120').
      unnamed: handledThrough([{ sequenceNumber: '120' }, { sequenceNumber: '95' }], 'stream-b'),
      oneWithout: handledThrough([{ sequenceNumber: '120', streamId: 'stream-b' }, undefined], 'stream-b'),
      earlierStream: handledThrough([{ sequenceNumber: '120', streamId: 'stream-b' }, { sequenceNumber: '95', streamId: 'stream-a' }], 'stream-b'),
    };

    // Assess
    expect(through).toEqual({ both: '95', unnamed: '95', oneWithout: undefined, earlierStream: undefined });
  });

  it('trims each shard through what every consumer has handled, and no shard a consumer has not started', async () => {
    // Prepare
    const stream = fakeStream({ 'shard-0': 300, 'shard-1': 300 });
    const checkpoints = checkpointsOf({
      aggregate: { 'shard-0': { sequenceNumber: '200', streamId: 'stream-b' }, 'shard-1': { sequenceNumber: '150', streamId: 'stream-b' } },
      detect: { 'shard-0': { sequenceNumber: '180', streamId: 'stream-b' } },
    });

    // Act
    const trimmed = await makeTrimHandled({ stream, checkpoints, consumers: ['aggregate', 'detect'] })();

    // Assess
    expect(stream.trims).toEqual([['shard-0', '180']]);
    expect(trimmed).toBe(180);
  });
});
