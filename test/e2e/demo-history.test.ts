import { syntheticTraffic } from '../../functions/domain/demo/synthetic-traffic';
import { LIVE_HORIZON_MS } from '../../functions/domain/alerting/signals';
import type { IncomingEvent } from '../../functions/domain/events/schema';
import { demoConsentOf } from '../../functions/local/consent-client';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const USERS = 40;
const DAYS = 10;
const BATCH = 500;
const STARTED = new Date();
// A seed whose history holds pages of each kind the demo makes (item 9 above 0, crises): the first test checks it does.
const HISTORY = [...syntheticTraffic({ seed: 5, clock: { now: () => STARTED }, users: USERS, days: DAYS })];
const range = { from: new Date(STARTED.getTime() - (DAYS + 1) * 86_400_000).toISOString(), to: new Date(STARTED.getTime() + 3_600_000).toISOString() };

/** Whether a default safety rule would page on the event (crisis-signal, emotional-state-crisis, phq9-item9). */
function pages(event: IncomingEvent): boolean {
  switch (event.type) {
    case 'crisis.signal':
      return event.attributes.severity === 'high' || event.attributes.severity === 'imminent';
    case 'choice.made':
      return event.attributes.emotionalStateAfter === 'crisis';
    case 'assessment.completed':
      return event.attributes.instrument === 'PHQ-9' && (event.attributes.items?.[8] ?? 0) > 0;
    default:
      return false;
  }
}

/** The events of the history a default rule would page on, an hour clear of the horizon. */
const HISTORY_PAGES = HISTORY.filter((event) => STARTED.getTime() - Date.parse(event.occurredAt) > LIVE_HORIZON_MS + 3_600_000 && pages(event));

interface AlertView {
  readonly rule: string;
  readonly subject: string;
  readonly startsAt: string;
  readonly resolvedAt?: string;
}

describe('a demo-shaped history through the public API (40 users, 10 days, as `npm run demo` sends it)', () => {
  let app: TestRuntime;
  let alerts: AlertView[];
  let liveCrisisSubject: string;

  beforeAll(async () => {
    app = await startTestRuntime();
    const users = [...new Set(HISTORY.map((event) => event.userId))];
    for (const userId of users) await app.consent([userId], demoConsentOf(userId));
    for (let start = 0; start < HISTORY.length; start += BATCH) {
      const posted = await app.request('POST', '/v1/events', { body: { events: HISTORY.slice(start, start + BATCH) } });
      if (posted.body.accepted !== Math.min(BATCH, HISTORY.length - start)) throw new Error(`the runtime took ${posted.body.accepted} of a batch: ${JSON.stringify(posted.body.rejected?.[0])}`);
    }
    // The reader's crisis after the history, as the README's walk-through posts it.
    const consent = await app.request('PUT', '/v1/consent/user-7', { body: demoConsentOf('user-7') });
    liveCrisisSubject = `user:${consent.body.subject}`;
    // Then a moderate one, which the rule does not page on: the alert resolves, after it started.
    const crisis = (severity: string, secondsAgo: number) =>
      makeEvent({ userId: 'user-7', occurredAt: new Date(Date.now() - secondsAgo * 1_000).toISOString(), attributes: { severity, source: 'self_report' } }, 'crisis.signal');
    await app.request('POST', '/v1/events', { body: { events: [crisis('imminent', 60)] } });
    await app.runtime.detect();
    await app.request('POST', '/v1/events', { body: { events: [crisis('moderate', 30)] } });
    await app.runtime.drain();
    await app.runtime.detect();
    await app.runtime.monitor();
    alerts = (await app.request('GET', '/v1/alerts')).body.alerts;
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('sends history that would page: safety signals older than the live horizon', () => {

    expect(HISTORY_PAGES.length).toBeGreaterThan(3);
  });

  it('raises alerts only from the live window, and pages the crisis posted after the history', () => {
    const liveFrom = STARTED.getTime() - LIVE_HORIZON_MS;

    expect(alerts.filter((alert) => Date.parse(alert.startsAt) < liveFrom)).toEqual([]);
    expect(alerts.filter((alert) => alert.subject === liveCrisisSubject).map((alert) => alert.rule)).toEqual(['crisis-signal']);
    expect(alerts.length).toBeLessThanOrEqual(HISTORY.filter((event) => Date.parse(event.occurredAt) >= liveFrom && pages(event)).length + 1);
  });

  it('never shows an alert resolved before it started', () => {
    const resolved = alerts.filter((alert) => alert.resolvedAt !== undefined);

    expect(resolved.map((alert) => alert.subject)).toContain(liveCrisisSubject);
    expect(resolved.filter((alert) => Date.parse(alert.resolvedAt ?? '') < Date.parse(alert.startsAt))).toEqual([]);
  });

  it('counts the skipped history at GET /metrics, without a subject', async () => {
    const metrics = await fetch(`${app.runtime.url}/metrics`).then((response) => response.text());
    const counted = Number(/^safety_signals_history_total (\d+)$/m.exec(metrics)?.[1]);

    // Each paging event of the history gives at least one signal; its other events give theirs too.
    expect(counted).toBeGreaterThan(HISTORY_PAGES.length);
  });

  it('releases research figures over the demo users who consented to research', async () => {
    const report = await app.request('POST', '/v1/reports', { body: { kind: 'research', ...range, epsilon: 1 } });
    const { page } = await app.madeReport(report.body.id as string);

    expect(report.status).toBe(202);
    expect(page.summary.released.length).toBeGreaterThanOrEqual(1);
    expect(page.summary.released).toContain('events');
  });
});
