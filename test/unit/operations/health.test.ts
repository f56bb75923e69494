import { AGGREGATE_LAG_LIMIT_MS, DETECT_LAG_LIMIT_MS, httpStatusOf, judgeLag, overallHealth, type PartReport } from '../../../functions/domain/operations/health';

const ok: PartReport = { status: 'ok' };
const down: PartReport = { status: 'down', reason: 'refused' };
const degraded: PartReport = { status: 'degraded', reason: 'slow' };
const bestEffort = new Set(['redis']);

describe('overallHealth', () => {
  it('is ok, answered 200, when every part is', () => {
    const report = overallHealth({ database: ok, aggregator: ok, redis: ok }, bestEffort);

    expect(report).toEqual({ status: 'ok', parts: { database: ok, aggregator: ok, redis: ok } });
    expect(httpStatusOf(report)).toBe(200);
  });

  it.each(['database', 'aggregator', 'detector', 'emulator', 'detectLag'])('is down, answered 503, when %s is down: it can lose or delay accepted data', (part) => {
    const report = overallHealth({ redis: ok, [part]: down }, bestEffort);

    expect(report.status).toBe('down');
    expect(httpStatusOf(report)).toBe(503);
  });

  it('is only degraded, answered 200, when a best-effort part is down', () => {
    const report = overallHealth({ database: ok, redis: down }, bestEffort);

    expect(report.status).toBe('degraded');
    expect(httpStatusOf(report)).toBe(200);
  });

  it('is degraded when any part is degraded, and down wins over degraded', () => {
    expect(overallHealth({ database: degraded, aggregator: ok }, bestEffort).status).toBe('degraded');
    expect(overallHealth({ database: degraded, aggregator: down }, bestEffort).status).toBe('down');
  });
});

describe('judgeLag', () => {
  it('holds the detect consumer to 30 s, the stack alarm, and the aggregate consumer to 5 min', () => {
    expect(DETECT_LAG_LIMIT_MS).toBe(30_000);
    expect(AGGREGATE_LAG_LIMIT_MS).toBe(300_000);
  });

  it('is ok up to the limit, reporting the records and age behind', () => {
    expect(judgeLag({ recordsBehind: 12, atLeast: false, oldestAgeMs: 30_000 }, 30_000)).toEqual({ status: 'ok', recordsBehind: 12, oldestAgeMs: 30_000, limitMs: 30_000 });
    expect(judgeLag({ recordsBehind: 0, atLeast: false, oldestAgeMs: 0 }, 30_000).status).toBe('ok');
  });

  it('is down past the limit, however few records wait', () => {
    expect(judgeLag({ recordsBehind: 1, atLeast: false, oldestAgeMs: 30_001 }, 30_000)).toMatchObject({ status: 'down', reason: 'the oldest unprocessed record is 30 s old', recordsBehind: 1 });
  });

  it('says when the records behind were counted only up to the sample', () => {
    expect(judgeLag({ recordsBehind: 500, atLeast: true, oldestAgeMs: 10 }, 30_000)).toMatchObject({ recordsBehind: 500, recordsBehindAtLeast: true });
  });
});
