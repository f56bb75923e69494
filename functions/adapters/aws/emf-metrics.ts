import type { Metrics } from '../../ports';

/** A measurement's CloudWatch unit, by its name's suffix (Prometheus's naming: the unit last). */
const UNITS: readonly (readonly [suffix: string, unit: string])[] = [
  ['_ms', 'Milliseconds'],
  ['_seconds', 'Seconds'],
];

/**
 * Counters and measurements in CloudWatch's embedded metric format: one JSON log line each,
 * which CloudWatch turns into a metric without an API call on the request path. A measurement's
 * unit follows its name's suffix (`_ms`, `_seconds`), so CloudWatch can answer its percentiles in
 * that unit.
 */
export function emfMetrics(namespace: string, service: string, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Metrics {
  const emit = (name: string, value: number, unit: string, dimensions: Readonly<Record<string, string>>) => {
    const names = ['service', ...Object.keys(dimensions)];
    write(
      JSON.stringify({
        _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [names], Metrics: [{ Name: name, Unit: unit }] }] },
        service,
        ...dimensions,
        [name]: value,
      }),
    );
  };
  return {
    count(name, value, dimensions = {}) {
      emit(name, value, 'Count', dimensions);
    },
    observe(name, value, dimensions = {}) {
      emit(name, value, UNITS.find(([suffix]) => name.endsWith(suffix))?.[1] ?? 'None', dimensions);
    },
  };
}
