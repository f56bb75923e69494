import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
  type KinesisClient,
  type ListShardsCommandInput,
} from '@aws-sdk/client-kinesis';
import {
  ForeignSequenceNumberError,
  type EventStreamReader,
  type EventStreamWriter,
  type PutRecordResult,
  type StreamRecord,
  type StreamRecordInput,
} from '../../ports';

// GetRecords may answer empty pages while the iterator walks over trimmed or sparse parts of a
// shard; a few more calls find the records without looping forever on a truly empty shard.
const MAX_EMPTY_PAGES = 5;

/** The event stream on Kinesis Data Streams. */
export class KinesisEventStream implements EventStreamWriter, EventStreamReader {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  async putRecords(records: readonly StreamRecordInput[]): Promise<PutRecordResult[]> {
    if (records.length === 0) return [];
    try {
      const output = await this.client.send(
        new PutRecordsCommand({
          StreamName: this.streamName,
          Records: records.map((record) => ({ PartitionKey: record.partitionKey, Data: record.data })),
        }),
      );
      const entries = output.Records ?? [];
      return records.map((_, index): PutRecordResult => {
        const entry = entries[index];
        if (entry?.ShardId && entry.SequenceNumber && !entry.ErrorCode) {
          return { ok: true, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
        }
        return {
          ok: false,
          errorCode: entry?.ErrorCode ?? 'MissingResult',
          errorMessage: entry?.ErrorMessage ?? 'Kinesis answered no result for this record',
        };
      });
    } catch (error) {
      // The ingest use case owns retries with backoff; a whole-request failure (throttling, a
      // timeout after the SDK's own attempts) is a failure of every record in it.
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      return records.map((): PutRecordResult => ({ ok: false, errorCode: name, errorMessage: message }));
    }
  }

  async listShards(): Promise<string[]> {
    const shardIds: string[] = [];
    let input: ListShardsCommandInput = { StreamName: this.streamName };
    for (;;) {
      const output = await this.client.send(new ListShardsCommand(input));
      for (const shard of output.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
      if (!output.NextToken) return shardIds;
      // Kinesis refuses StreamName together with NextToken.
      input = { NextToken: output.NextToken };
    }
  }

  /** The ARN and the creation time: a stream created again under its name has the same ARN. */
  async streamId(): Promise<string> {
    const { StreamDescriptionSummary: summary } = await this.client.send(new DescribeStreamSummaryCommand({ StreamName: this.streamName }));
    if (!summary?.StreamARN || !summary.StreamCreationTimestamp) throw new Error(`Kinesis described stream ${this.streamName} without its ARN or creation time`);
    return `${summary.StreamARN}@${summary.StreamCreationTimestamp.toISOString()}`;
  }

  async readShard(shardId: string, afterSequenceNumber: string | undefined, limit: number): Promise<StreamRecord[]> {
    const { ShardIterator } = await this.client
      .send(
        new GetShardIteratorCommand({
          StreamName: this.streamName,
          ShardId: shardId,
          ...(afterSequenceNumber === undefined
            ? { ShardIteratorType: 'TRIM_HORIZON' }
            : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: afterSequenceNumber }),
        }),
      )
      .catch((error: unknown) => {
        // Kinesis refuses a starting sequence number that "did not come from this stream".
        if (afterSequenceNumber !== undefined && error instanceof Error && error.name === 'InvalidArgumentException') {
          throw new ForeignSequenceNumberError(error.message, { cause: error });
        }
        throw error;
      });
    let iterator = ShardIterator;
    for (let page = 0; iterator && page < MAX_EMPTY_PAGES; page += 1) {
      const output = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      const records = output.Records ?? [];
      if (records.length > 0) {
        return records.map((record) => ({
          shardId,
          sequenceNumber: record.SequenceNumber ?? '',
          partitionKey: record.PartitionKey ?? '',
          data: record.Data ?? new Uint8Array(),
          approximateArrivalTimestamp: record.ApproximateArrivalTimestamp ?? new Date(0),
        }));
      }
      if (!output.MillisBehindLatest) return [];
      iterator = output.NextShardIterator;
    }
    return [];
  }
}

/** Creates the stream when missing and resolves once it is ACTIVE (tests and the emulated mode). */
export async function ensureStream(client: KinesisClient, streamName: string, shardCount: number): Promise<void> {
  try {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  await waitUntilStreamExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { StreamName: streamName });
}
