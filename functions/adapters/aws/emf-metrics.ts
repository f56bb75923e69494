import type { Metrics } from '../../ports';

/**
 * Counters and measurements in CloudWatch's embedded metric format: one JSON log line each,
 * which CloudWatch turns into a metric without an API call on the request path. A measurement's
 * unit follows its name's suffix (`_ms`), so CloudWatch can answer its percentiles in that unit.
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
      emit(name, value, name.endsWith('_ms') ? 'Milliseconds' : 'None', dimensions);
    },
  };
}
