import type { IncomingEvent } from '../../../functions/domain/events/schema';
import { USAGE_METRIC_NAMES, usageOfAccepted, usageOfRejected } from '../../../functions/domain/operations/usage-metrics';
import { makeEvent } from '../../support/events';
import { storedEvent } from '../../support/stored-event';

const stored = (type: IncomingEvent['type'], overrides: Record<string, unknown> = {}) => storedEvent(makeEvent(overrides, type) as unknown as IncomingEvent);

describe("the platform's usage metrics", () => {
  it('counts sessions by platform, every event as a successful interaction of its type, and observes each ended session', () => {
    const events = [
      stored('session.started'),
      stored('session.started', { context: { platform: 'web' } }),
      stored('session.started', { context: {} }),
      stored('session.ended', { context: { platform: 'android' } }),
      stored('mood.reported'),
      stored('mood.reported'),
    ];

    const usage = usageOfAccepted(events);

    // In any order: each is a separate series.
    expect(usage.counts).toHaveLength(6);
    expect(usage.counts).toEqual(
      expect.arrayContaining([
        { name: USAGE_METRIC_NAMES.interactions, value: 3, dimensions: { interaction_type: 'session.started', success: 'true' } },
        { name: USAGE_METRIC_NAMES.sessions, value: 1, dimensions: { session_type: 'ios' } },
        { name: USAGE_METRIC_NAMES.sessions, value: 1, dimensions: { session_type: 'web' } },
        { name: USAGE_METRIC_NAMES.sessions, value: 1, dimensions: { session_type: 'unknown' } },
        { name: USAGE_METRIC_NAMES.interactions, value: 1, dimensions: { interaction_type: 'session.ended', success: 'true' } },
        { name: USAGE_METRIC_NAMES.interactions, value: 2, dimensions: { interaction_type: 'mood.reported', success: 'true' } },
      ]),
    );
    expect(usage.observations).toEqual([{ name: USAGE_METRIC_NAMES.sessionDuration, value: 600, dimensions: { session_type: 'android' } }]);
  });

  it("labels sessions with no scenario, channel, user or session id: nothing the app chose freely", () => {
    const started = stored('session.started', { userId: 'user-canary-7', sessionId: 'session-canary-7', attributes: { scenarioId: 'scenario-canary-7', channel: 'channel-canary-7' } });
    const ended = stored('session.ended', { attributes: { scenarioId: 'scenario-canary-7', durationSec: 60, completed: true } });

    const usage = usageOfAccepted([started, ended]);

    expect(JSON.stringify(usage)).not.toMatch(/canary/);
  });

  it('counts the rejected events by the type they claimed, and an unknown or missing type as invalid', () => {
    const raw = [makeEvent({}, 'crisis.signal'), { type: 'made.up <b>free text</b>' }, makeEvent(), null, 'not an event', makeEvent({}, 'crisis.signal')];

    const counts = usageOfRejected(raw, [{ index: 0 }, { index: 1 }, { index: 3 }, { index: 4 }, { index: 5 }]);

    expect(counts).toEqual([
      { name: USAGE_METRIC_NAMES.interactions, value: 2, dimensions: { interaction_type: 'crisis.signal', success: 'false' } },
      { name: USAGE_METRIC_NAMES.interactions, value: 3, dimensions: { interaction_type: 'invalid', success: 'false' } },
    ]);
  });
});
