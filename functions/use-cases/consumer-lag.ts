import type { CheckpointStore, Clock, EventStreamReader } from '../ports';
import type { ConsumerLag } from '../domain/operations/health';
import { consumerLagSignal } from '../domain/alerting/signals';
import { resumeAfter } from '../domain/stream/checkpoint';
import type { SignalRules, TransitionSink } from './detect';

/** Records counted per shard at most: enough to tell a backlog from a blip without reading all of it. */
export const LAG_SAMPLE = 500;

/** How often the local runtime checks the detect consumer's lag against the rules. */
export const LAG_WATCH_EVERY_MS = 5_000;

export interface ConsumerLagDeps {
  readonly reader: EventStreamReader;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
}

/**
 * A consumer's lag read from the stream and the checkpoints it keeps, not from the consumer: a
 * consumer that died or hangs reports nothing, while its records keep ageing after its checkpoint.
 */
export function makeConsumerLag(deps: ConsumerLagDeps): (consumer: string) => Promise<ConsumerLag> {
  return async function consumerLag(consumer) {
    let recordsBehind = 0;
    let atLeast = false;
    let oldest = Number.POSITIVE_INFINITY;
    // Measured from where the consumer will resume: the start of a stream its checkpoints do not name.
    const streamId = await deps.reader.streamId();
    for (const shardId of await deps.reader.listShards()) {
      const { after } = resumeAfter(await deps.checkpoints.get(consumer, shardId), streamId);
      const records = await deps.reader.readShard(shardId, after, LAG_SAMPLE);
      recordsBehind += records.length;
      atLeast ||= records.length === LAG_SAMPLE;
      if (records[0]) oldest = Math.min(oldest, records[0].approximateArrivalTimestamp.getTime());
    }
    const oldestAgeMs = Number.isFinite(oldest) ? Math.max(0, deps.clock.now().getTime() - oldest) : 0;
    return { recordsBehind, atLeast, oldestAgeMs };
  };
}

/**
 * One look at a consumer's lag through the alert rules (`detect-lag` by default): a stall opens
 * a critical alert, paged like a crisis, and catching up resolves it.
 */
export function makeLagWatch(deps: { readonly consumer: string; readonly lag: (consumer: string) => Promise<ConsumerLag>; readonly rules: SignalRules; readonly alerts: TransitionSink; readonly clock: Clock }) {
  return async function watchLag(): Promise<ConsumerLag> {
    const lag = await deps.lag(deps.consumer);
    const transitions = await deps.rules.observe([consumerLagSignal(deps.consumer, lag, deps.clock.now())]);
    if (transitions.length > 0) await deps.alerts.apply(transitions);
    return lag;
  };
}
