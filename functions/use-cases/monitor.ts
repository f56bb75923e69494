import type { Signal, Transition } from '../domain/alerting/model';
import type { SignalRules, TransitionSink } from './detect';

/** The monitor runs once a minute: the metric series get one point a minute. */
export const MONITOR_EVERY_MS = 60_000;

export interface MonitorDeps {
  /** Closed minutes of the metric series since the last run, judged by the anomaly detectors. */
  readonly series: { tick(): Promise<Signal[]> };
  /** Rules on series signals, and rules on time passing (absence, for-durations). */
  readonly rules: SignalRules & { tick(): Promise<Transition[]>; stillFiring(): Promise<Transition[]> };
  /** The lifecycle: new transitions, then repeats, escalations and retries that have come due. */
  readonly alerts: TransitionSink & { tick(): Promise<void> };
}

export interface MonitorResult {
  readonly points: number;
  readonly anomalies: number;
  readonly transitions: number;
}

export function makeMonitor(deps: MonitorDeps): () => Promise<MonitorResult> {
  return async function monitor() {
    // The safety steps after it (absences, pages still firing, escalations, retries) do not wait
    // on the series: a failure of the analytics database or of CloudWatch fails the run after them.
    const watching = deps.series.tick();
    const points = await watching.catch((): Signal[] => []);
    const transitions = [...(points.length > 0 ? await deps.rules.observe(points) : []), ...(await deps.rules.tick())];
    // After the new transitions, so an alert opened by them is found, not opened twice.
    await deps.alerts.apply([...transitions, ...(await deps.rules.stillFiring())]);
    await deps.alerts.tick();
    await watching;
    return { points: points.length, anomalies: points.filter((point) => point.anomaly?.anomalous === true).length, transitions: transitions.length };
  };
}
