import { EVENT_TYPES, type EventType, type StoredEvent } from '../events/schema';
import { platformOf } from '../rollups/catalogue';

/**
 * The therapeutic platform's own operational metrics, under the names and labels its Prometheus
 * and Grafana already use, so this product's sessions and interactions appear beside the rest of
 * the platform's. Labels take only closed vocabularies: no user or session id, no app-chosen
 * identifier, no free text.
 */
export const USAGE_METRIC_NAMES = {
  sessions: 'tta_user_sessions_total',
  interactions: 'tta_user_interactions_total',
  sessionDuration: 'tta_session_duration_seconds',
} as const;

/** The platform's buckets for `tta_session_duration_seconds`: 1, 5, 10 and 30 minutes, 1 and 2 hours. */
export const SESSION_DURATION_BUCKETS_SECONDS: readonly number[] = [60, 300, 600, 1800, 3600, 7200];

/** `interaction_type` of a rejected event whose `type` is not one of the event types: its value is the client's, unbounded. */
export const INVALID_INTERACTION_TYPE = 'invalid';

/** One count or measurement for the Metrics port. */
export interface Measurement {
  readonly name: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface Usage {
  /** Summed per name and labels: a batch of 500 events makes a few counts, not 500. */
  readonly counts: readonly Measurement[];
  /** One per session ended: each is a histogram observation. */
  readonly observations: readonly Measurement[];
}

/**
 * `session_type` is the platform the session ran on (ios, android, web, desktop, or `unknown`
 * when the app did not say). The session's `scenarioId` and `channel` were the other candidates,
 * but they are identifiers the app chooses, any number of them up to 128 characters: a client
 * could grow label values without bound (the runtime's memory, CloudWatch's metric count), and a
 * count per scenario is a small cell the API only releases through its k-anonymity gate, where
 * `/metrics` has no token. Platform is a closed vocabulary checked at ingest, and both
 * `session.started` and `session.ended` carry it, so the counter and the histogram share it.
 * Sessions per scenario stay at `GET /v1/metrics/sessions?groupBy=scenarioId`.
 */
export const sessionType = (event: StoredEvent): string => platformOf(event);

function summed(measurements: readonly Measurement[]): Measurement[] {
  const byKey = new Map<string, Measurement>();
  for (const measurement of measurements) {
    const key = JSON.stringify([measurement.name, measurement.dimensions]);
    const seen = byKey.get(key);
    byKey.set(key, seen ? { ...seen, value: seen.value + measurement.value } : measurement);
  }
  return [...byKey.values()];
}

/**
 * The usage of events taken in, each counted once: the caller passes only the events the store
 * applied for the first time (a redelivered batch's events are duplicates there, and count nothing).
 */
export function usageOfAccepted(events: readonly StoredEvent[]): Usage {
  // Counted by key as they come, not listed and summed after: this runs on the aggregate path, per event.
  const interactions = new Map<string, number>();
  const sessions = new Map<string, number>();
  const observations: Measurement[] = [];
  for (const event of events) {
    interactions.set(event.type, (interactions.get(event.type) ?? 0) + 1);
    if (event.type === 'session.started') {
      const type = sessionType(event);
      sessions.set(type, (sessions.get(type) ?? 0) + 1);
    }
    if (event.type === 'session.ended') observations.push({ name: USAGE_METRIC_NAMES.sessionDuration, value: event.attributes.durationSec, dimensions: { session_type: sessionType(event) } });
  }
  const counts = [
    ...[...interactions].map(([type, value]) => ({ name: USAGE_METRIC_NAMES.interactions, value, dimensions: { interaction_type: type, success: 'true' } })),
    ...[...sessions].map(([type, value]) => ({ name: USAGE_METRIC_NAMES.sessions, value, dimensions: { session_type: type } })),
  ];
  return { counts, observations };
}

const isEventType = (value: unknown): value is EventType => (EVENT_TYPES as readonly unknown[]).includes(value);

/**
 * The events ingest refused, by the type they claimed: `rejected` holds their places in `raw`,
 * the request's events as sent. A type outside the vocabulary (or none) is `invalid`, never the
 * client's text.
 */
export function usageOfRejected(raw: readonly unknown[], rejected: readonly { readonly index: number }[]): Measurement[] {
  return summed(
    rejected.map(({ index }) => {
      const type = (raw[index] as { type?: unknown } | null | undefined)?.type;
      return { name: USAGE_METRIC_NAMES.interactions, value: 1, dimensions: { interaction_type: isEventType(type) ? type : INVALID_INTERACTION_TYPE, success: 'false' } };
    }),
  );
}
