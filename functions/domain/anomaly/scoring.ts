import type { Detector, SeriesPoint, Verdict } from './detector';
import type { AnomalyLabel } from './synthetic-series';

/**
 * Scores a detector's flags against planted anomalies.
 *
 * How it counts:
 * - An event is a maximal run of consecutive flagged points (a three-point spike flagged three
 *   times, or a level shift flagged until the detector adapts, is one event).
 * - An event is put down to an anomaly when its first point lies in the anomaly's tolerated
 *   window: [start, end - 1 + maxDelay] for a spike or a dip, [start, start + levelShiftSettling]
 *   for a level shift, whose first intervals a detector may keep flagging (in broken runs) while
 *   it adapts. Any other event is a false alarm, however many points it spans.
 * - The true alarms are the anomalies at least one event was put down to, each counted once, so
 *   a level shift flagged in five broken runs cannot outvote a false alarm.
 * - precision = true alarms / (true alarms + false alarms); 1 when nothing was flagged.
 * - An anomaly is detected when a point in [start, start + maxDelay] is flagged; its delay is the
 *   first such point's index minus start. recall = detected anomalies / planted anomalies
 *   (1 when none were planted).
 */

export interface ScoringOptions {
  /** Intervals after an anomaly's start within which it must be flagged. */
  readonly maxDelay: number;
  /** Intervals after a level shift's start whose flags are put down to it. */
  readonly levelShiftSettling: number;
}

export const DEFAULT_SCORING: ScoringOptions = { maxDelay: 2, levelShiftSettling: 60 };

export interface DetectionScore {
  readonly planted: number;
  readonly detected: number;
  /** Runs of consecutive flags. */
  readonly events: number;
  /** Anomalies at least one event was put down to. */
  readonly trueAlarms: number;
  readonly precision: number;
  readonly recall: number;
  /** Delays of the detected anomalies, in intervals, in label order. */
  readonly delays: readonly number[];
  readonly missed: readonly AnomalyLabel[];
  /** Index of the first point of each event put down to no anomaly. */
  readonly falseAlarms: readonly number[];
}

export function scoreDetections(flags: readonly boolean[], labels: readonly AnomalyLabel[], options: ScoringOptions = DEFAULT_SCORING): DetectionScore {
  const eventStarts = flags.flatMap((flagged, i) => (flagged && !flags[i - 1] ? [i] : []));
  const tolerated = labels.map((label) =>
    label.kind === 'level-shift' ? { from: label.start, to: label.start + options.levelShiftSettling } : { from: label.start, to: label.end - 1 + options.maxDelay },
  );
  const alarmed = new Set<number>();
  const falseAlarms: number[] = [];
  for (const i of eventStarts) {
    const anomaly = tolerated.findIndex((window) => i >= window.from && i <= window.to);
    if (anomaly === -1) falseAlarms.push(i);
    else alarmed.add(anomaly);
  }

  const delays: number[] = [];
  const missed: AnomalyLabel[] = [];
  for (const label of labels) {
    let delay: number | undefined;
    for (let d = 0; d <= options.maxDelay && delay === undefined; d++) if (flags[label.start + d]) delay = d;
    if (delay === undefined) missed.push(label);
    else delays.push(delay);
  }

  const trueAlarms = alarmed.size;
  return {
    planted: labels.length,
    detected: delays.length,
    events: eventStarts.length,
    trueAlarms,
    precision: eventStarts.length === 0 ? 1 : trueAlarms / (trueAlarms + falseAlarms.length),
    recall: labels.length === 0 ? 1 : delays.length / labels.length,
    delays,
    missed,
    falseAlarms,
  };
}

/** Feeds a whole series through a detector, as invocations would one batch after another. */
export function observeAll<Config, State>(detector: Detector<Config, State>, state: State, points: readonly SeriesPoint[]): { state: State; verdicts: (Verdict | undefined)[] } {
  const verdicts: (Verdict | undefined)[] = [];
  let current = state;
  for (const point of points) {
    const observation = detector.observe(current, point);
    current = observation.state;
    verdicts.push(observation.verdict);
  }
  return { state: current, verdicts };
}
