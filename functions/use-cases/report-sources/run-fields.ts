import type { z } from 'zod';
import { issueMessage } from '../../domain/api/issue-message';
import { INTERVAL_MS } from '../../domain/rollups/rollup';
import type { ReportKind } from '../../domain/reports/document';
import type { RollupReader } from '../../ports/rollups';

/**
 * The run's `field` read by `schema`, or an error naming what in it is wrong. A run's fields were
 * checked when it was asked for or scheduled; a run stored by an older version may not pass.
 */
export function readRun<T>(kind: ReportKind, schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new RangeError(`the ${kind} run's ${[field, ...issue.path].join('.')} ${issueMessage(issue)}`);
}

/**
 * The end of the newest hour of [from, to) that holds events (of its newest day, once the hours
 * are purged), or undefined when it holds none. The RollupReader port keeps the roll-up's
 * watermark to itself, so a report dates its data by the store's rows; read before the release
 * gate, as the instant says when the data ends, never who or how many were in it.
 */
export async function newestEventsEnd(rollups: RollupReader, period: { readonly from: number; readonly to: number }): Promise<number | undefined> {
  for (const interval of ['hour', 'day'] as const) {
    const step = INTERVAL_MS[interval];
    const rows = await rollups.readSeries({ metric: 'events', interval, grouping: '', from: Math.floor(period.from / step) * step, to: Math.ceil(period.to / step) * step, values: false });
    const newest = rows.reduce((latest, row) => (row.count > 0 ? Math.max(latest, row.bucket) : latest), -Infinity);
    if (newest > -Infinity) return newest + step;
  }
  return undefined;
}
