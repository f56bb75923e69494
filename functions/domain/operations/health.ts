/**
 * The runtime's health as `/health` answers it: each part judged on its own, then one verdict.
 * Pure: the probes that measure the parts are in the local runtime.
 */

/** `degraded`: working, but something is off that loses no accepted data (live counters, say). */
export type PartStatus = 'ok' | 'degraded' | 'down';

export interface PartReport {
  readonly status: PartStatus;
  /** Why, when not ok; never data, only what failed. */
  readonly reason?: string;
  readonly [detail: string]: unknown;
}

export interface HealthReport {
  readonly status: PartStatus;
  readonly parts: Readonly<Record<string, PartReport>>;
}

/**
 * The detect consumer is a safety path: 30 s behind is when a page for a person in crisis is late,
 * the same limit as the stack's iterator-age alarm on the detect mapping (lib/observability.ts).
 */
export const DETECT_LAG_LIMIT_MS = 30_000;

/**
 * A critical page a minute after its event reached ingest: twice what detect may lag before it
 * pages, so this one catches the lateness the lag cannot see (a slow database under the rules,
 * SNS throttling that the delivery retries ride out slowly). The stack's alarm on alert latency.
 */
export const CRITICAL_ALERT_LATENCY_LIMIT_MS = 2 * DETECT_LAG_LIMIT_MS;

/** The aggregate consumer feeds the dashboards, promised within minutes (the stack's aggregate iterator-age alarm). */
export const AGGREGATE_LAG_LIMIT_MS = 5 * 60_000;

/** How far a consumer is behind its stream: the records after its checkpoint, and the oldest one's age. */
export interface ConsumerLag {
  /** Counted up to a sample size; `atLeast` says the count stopped there. */
  readonly recordsBehind: number;
  readonly atLeast: boolean;
  /** Age of the oldest record not yet processed; 0 when caught up (Kinesis's iterator age). */
  readonly oldestAgeMs: number;
}

/** A consumer is down once its oldest unprocessed record is older than its limit: data is late past its promise. */
export function judgeLag(lag: ConsumerLag, limitMs: number): PartReport {
  const report = { recordsBehind: lag.recordsBehind, ...(lag.atLeast && { recordsBehindAtLeast: true }), oldestAgeMs: lag.oldestAgeMs, limitMs };
  return lag.oldestAgeMs > limitMs ? { status: 'down', reason: `the oldest unprocessed record is ${Math.round(lag.oldestAgeMs / 1000)} s old`, ...report } : { status: 'ok', ...report };
}

/**
 * The verdict: `down` (HTTP 503) when a part whose failure loses or delays accepted events or
 * safety alerts is down; `degraded` (200) when only a best-effort part is down or any part is
 * degraded; else `ok`. `bestEffort` names the parts that can fail without losing data.
 */
export function overallHealth(parts: Readonly<Record<string, PartReport>>, bestEffort: ReadonlySet<string>): HealthReport {
  const entries = Object.entries(parts);
  const down = entries.some(([name, part]) => part.status === 'down' && !bestEffort.has(name));
  const degraded = entries.some(([, part]) => part.status !== 'ok');
  return { status: down ? 'down' : degraded ? 'degraded' : 'ok', parts };
}

export const httpStatusOf = (report: HealthReport): number => (report.status === 'down' ? 503 : 200);
