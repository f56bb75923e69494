/**
 * The fault script's client: a bounded generator of events that behaves as the app does (consent
 * first, unique eventIds, a retry of the same eventIds after a connection error or a 5xx, and of
 * the events answered `stream_unavailable`), and a ledger of what the runtime answered.
 */
import { randomUUID } from 'node:crypto';
import { sleep } from './fault-services';
import type { EventKind, Ledger } from './fault-reconcile';

/** The only refusal the runtime asks a client to retry (the stream did not take the event). */
const RETRIED_CODE = 'stream_unavailable';
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 2_000;

export interface LoadUsers {
  /** Analytics and safety-monitoring consent: their crisis signals must page. */
  readonly watched: readonly string[];
  /** Analytics consent only: their crisis signals must never page. */
  readonly unwatched: readonly string[];
  /** One crisis signal each (a second one of a user would rightly be deduplicated): watched. */
  readonly crisisWatched: readonly string[];
  /** One crisis signal each, users without safety-monitoring consent. */
  readonly crisisUnwatched: readonly string[];
  /** Send the probes' `intervention.delivered` events, which the load never sends. */
  readonly probes: readonly string[];
}

export function makeUsers(runId: string, sizes: { users: number; crises: number; probes: number }): LoadUsers {
  const ids = (role: string, count: number) => Array.from({ length: count }, (_, index) => `faults-${runId}-${role}-${index}`);
  const half = Math.ceil(sizes.users / 2);
  // One crisis in five from a user who did not consent to safety monitoring.
  const unwatchedCrises = Math.floor(sizes.crises / 5);
  return {
    watched: ids('w', half),
    unwatched: ids('u', sizes.users - half),
    crisisWatched: ids('cw', sizes.crises - unwatchedCrises),
    crisisUnwatched: ids('cu', unwatchedCrises),
    probes: ids('p', sizes.probes),
  };
}

export const ANALYTICS_ONLY = { analytics: true, research: false, safety_monitoring: false } as const;

interface WireEvent {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly attributes: Record<string, unknown>;
  readonly context: { readonly platform: string };
}

const wireEvent = (userId: string, type: string, attributes: Record<string, unknown>): WireEvent => ({
  eventId: randomUUID(),
  type,
  occurredAt: new Date().toISOString(),
  userId,
  sessionId: `s-${userId}`,
  attributes,
  context: { platform: userId.length % 2 === 0 ? 'ios' : 'android' },
});

/** Posts events with retries and writes every answer into the ledger. */
export class EventClient {
  constructor(
    private readonly url: () => string,
    private readonly token: string,
    readonly ledger: Ledger,
  ) {}

  /**
   * Posts until every event is accepted, refused for good, or `giveUpAt` passes (then it is
   * abandoned). An event whose request went unanswered, or answered 5xx, may have reached the
   * stream: it is marked so, and the retry carries the same eventId.
   */
  async post(events: readonly WireEvent[], kinds: ReadonlyMap<string, EventKind>, giveUpAt: number): Promise<void> {
    for (const event of events) this.ledger.sent.set(event.eventId, { kind: kinds.get(event.eventId) ?? 'load', userId: event.userId });
    let pending = [...events];
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        if (Date.now() > giveUpAt) break;
        this.ledger.requests.retries += 1;
        await sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
      pending = await this.attempt(pending);
    }
    for (const event of pending) this.ledger.abandoned.add(event.eventId);
  }

  /** One request: answers the events to send again. */
  private async attempt(events: readonly WireEvent[]): Promise<WireEvent[]> {
    const sentAt = Date.now();
    this.ledger.requests.sent += 1;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.url()}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch {
      this.ledger.requests.connectionErrors += 1;
      for (const event of events) this.ledger.unanswered.add(event.eventId);
      return [...events];
    }
    const answeredAt = Date.now();
    const status = this.ledger.requests.byStatus;
    status.set(response.status, (status.get(response.status) ?? 0) + 1);
    if (response.status >= 500) {
      for (const event of events) this.ledger.unanswered.add(event.eventId);
      return [...events];
    }
    if (response.status !== 202) {
      for (const event of events) this.ledger.refused.set(event.eventId, `http_${response.status}`);
      return [];
    }
    const body = JSON.parse(text) as { rejected: { index: number; code: string }[] };
    const rejected = new Map(body.rejected.map((rejection) => [rejection.index, rejection.code]));
    const again: WireEvent[] = [];
    events.forEach((event, index) => {
      const code = rejected.get(index);
      if (code === undefined) {
        if (!this.ledger.accepted.has(event.eventId)) this.ledger.accepted.set(event.eventId, { sentAt, answeredAt });
      } else if (code === RETRIED_CODE) {
        this.ledger.requests.streamUnavailable += 1;
        again.push(event);
      } else this.ledger.refused.set(event.eventId, code);
    });
    return again;
  }
}

export interface LoadPlan {
  /** Events per second over all workers. */
  readonly ratePerSecond: number;
  readonly batchSize: number;
  readonly workers: number;
  /** One event in `crisisEvery` is a crisis signal (while crisis users last). */
  readonly crisisEvery: number;
  /** Hard cap on events generated, whatever the duration. */
  readonly maxEvents: number;
  /** A request still failing this long after the load stopped is abandoned. */
  readonly retryGraceMs: number;
}

/** Sends until `stop` resolves or `maxEvents` are generated; resolves once every worker is done (retries included). */
export async function runLoad(client: EventClient, users: LoadUsers, plan: LoadPlan, stop: Promise<void>): Promise<void> {
  let stopped = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  void stop.then(() => {
    stopped = true;
    giveUpAt = Date.now() + plan.retryGraceMs;
  });
  let generated = 0;
  let nextWatchedCrisis = 0;
  let nextUnwatchedCrisis = 0;
  const everyday = [...users.watched, ...users.unwatched];
  const nextEvent = (): { event: WireEvent; kind: EventKind } => {
    generated += 1;
    if (generated % plan.crisisEvery === 0) {
      // Every fifth crisis from a user without safety-monitoring consent, while they last.
      const unwatched = generated % (plan.crisisEvery * 5) === 0 ? users.crisisUnwatched[nextUnwatchedCrisis] : undefined;
      if (unwatched !== undefined) {
        nextUnwatchedCrisis += 1;
        return { event: wireEvent(unwatched, 'crisis.signal', { severity: 'imminent', source: 'self_report' }), kind: 'crisis-unwatched' };
      }
      const watched = users.crisisWatched[nextWatchedCrisis];
      if (watched !== undefined) {
        nextWatchedCrisis += 1;
        return { event: wireEvent(watched, 'crisis.signal', { severity: 'imminent', source: 'self_report' }), kind: 'crisis-watched' };
      }
    }
    const userId = everyday[generated % everyday.length]!;
    return generated % 3 === 0
      ? { event: wireEvent(userId, 'session.started', { scenarioId: 'faults' }), kind: 'load' }
      : { event: wireEvent(userId, 'mood.reported', { valence: Math.round((Math.random() * 2 - 1) * 100) / 100, arousal: 0.5 }), kind: 'load' };
  };
  const pauseMs = (plan.batchSize * plan.workers * 1000) / plan.ratePerSecond;
  const worker = async (offset: number): Promise<void> => {
    await sleep((offset * pauseMs) / plan.workers);
    while (!stopped && generated < plan.maxEvents) {
      const started = Date.now();
      const batch = Array.from({ length: Math.min(plan.batchSize, plan.maxEvents - generated) }, nextEvent);
      await client.post(
        batch.map((item) => item.event),
        new Map(batch.map((item) => [item.event.eventId, item.kind])),
        giveUpAt,
      );
      await sleep(Math.max(0, pauseMs - (Date.now() - started)));
    }
  };
  await Promise.all(Array.from({ length: plan.workers }, (_, index) => worker(index)));
}

/** One `intervention.delivered` per probe user: the load never sends that type, so the `interventions` total counts probes alone. */
export async function sendProbe(client: EventClient, probeUsers: readonly string[], giveUpAt: number): Promise<number> {
  const events = probeUsers.map((userId) => wireEvent(userId, 'intervention.delivered', { interventionType: 'grounding', urgency: 'standard', completion: 'completed' }));
  await client.post(events, new Map(events.map((event) => [event.eventId, 'probe' as const])), giveUpAt);
  return events.filter((event) => client.ledger.accepted.has(event.eventId)).length;
}

/** The total of a counter over the run's days, as an analyst reads it; undefined when the release gate suppressed it. */
export async function metricTotal(url: string, token: string, metric: string, since: number): Promise<number | undefined> {
  const from = new Date(since - 86_400_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const response = await fetch(`${url}/v1/metrics/${metric}?from=${from}&to=${to}&interval=day`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`GET /v1/metrics/${metric} answered ${response.status}`);
  const answer = (await response.json()) as { series: { points: { count: number | null }[] }[]; suppressed: unknown[] };
  const points = answer.series.flatMap((series) => series.points);
  // Nothing released because the gate held it back is not "nothing counted".
  if (points.length === 0 && answer.suppressed.length > 0) return undefined;
  return points.reduce((sum, point) => sum + (point.count ?? 0), 0);
}
