import type { Metrics } from '../../ports';

/**
 * Counters in CloudWatch's embedded metric format: one JSON log line per count, which
 * CloudWatch turns into a metric without an API call on the request path.
 */
export function emfMetrics(namespace: string, service: string, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Metrics {
  return {
    count(name, value, dimensions = {}) {
      const names = ['service', ...Object.keys(dimensions)];
      write(
        JSON.stringify({
          _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [names], Metrics: [{ Name: name, Unit: 'Count' }] }] },
          service,
          ...dimensions,
          [name]: value,
        }),
      );
    },
  };
}
