import { randomUUID } from 'node:crypto';
import type { EventType } from '../../functions/domain/events/schema';

/** Valid attributes of every event type, for tests that need one event of each. */
export const SAMPLE_ATTRIBUTES: Record<EventType, Record<string, unknown>> = {
  'session.started': { scenarioId: 'forest-path', channel: 'app' },
  'session.ended': { scenarioId: 'forest-path', durationSec: 600, activeSec: 420, completed: true },
  'choice.made': {
    scenarioId: 'forest-path',
    sceneId: 'scene-3',
    choiceId: 'ask-for-help',
    choiceType: 'therapeutic',
    therapeuticValue: 0.8,
    responseTimeMs: 2300,
    emotionalStateBefore: 'anxious',
    emotionalStateAfter: 'calm',
  },
  'intervention.delivered': { interventionType: 'breathing', urgency: 'standard', completion: 'completed', effectivenessRating: 4 },
  'mood.reported': { valence: 0.25, arousal: 0.4, dominance: 0.6 },
  'assessment.completed': { instrument: 'PHQ-9', score: 7, items: [1, 1, 1, 1, 1, 1, 1, 0, 0] },
  'progress.milestone': { goalId: 'sleep-routine', milestone: 'skill_acquired', progress: 0.5 },
  'crisis.signal': { severity: 'high', source: 'self_report' },
  'engagement.heartbeat': { screen: 'journal', activeSec: 30 },
};

export function makeEvent(overrides: Record<string, unknown> = {}, type: EventType = 'mood.reported'): Record<string, unknown> {
  return {
    eventId: randomUUID(),
    type,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    userId: 'user-1',
    sessionId: 'session-1',
    attributes: SAMPLE_ATTRIBUTES[type],
    context: { appVersion: '4.2.1', platform: 'ios', locale: 'en-GB', timezone: 'Europe/London' },
    ...overrides,
  };
}
