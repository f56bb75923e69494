import { createHash } from 'node:crypto';

const HASH_SPACE_BITS = 128n;

/** Shard ids as Kinesis names them: shardId-000000000000, shardId-000000000001, ... */
export function kinesisShardIds(shardCount: number): string[] {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  return Array.from({ length: shardCount }, (_, index) => `shardId-${String(index).padStart(12, '0')}`);
}

/** As Kinesis does: the 128-bit MD5 of the key, shards owning equal slices of the hash space. */
export function shardOf(partitionKey: string, shardIds: readonly string[]): string {
  const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
  return shardIds[Number((hash * BigInt(shardIds.length)) >> HASH_SPACE_BITS)]!;
}
