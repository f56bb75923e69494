import { z } from 'zod';
import { boundedInstant, plainText } from '../api/input-bounds';

/**
 * The v1 event contract. Objects strip keys they do not name, so unknown attributes (and a
 * free-text `text` field) never get past validation.
 */

export const EMOTIONAL_STATES = ['calm', 'engaged', 'anxious', 'overwhelmed', 'distressed', 'crisis'] as const;
export const CHOICE_TYPES = ['narrative', 'therapeutic', 'skill_building', 'emotional_regulation', 'social_interaction'] as const;
export const INTERVENTION_TYPES = [
  'mindfulness',
  'cognitive_reframing',
  'grounding',
  'breathing',
  'emotional_regulation',
  'crisis_support',
  'skill_practice',
] as const;
/** How urgent an intervention is, in the app's words: as it reports one delivered, and as detect recommends one. */
export const INTERVENTION_URGENCIES = ['standard', 'elevated', 'crisis'] as const;
export const PLATFORMS = ['ios', 'android', 'web', 'desktop'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Score range and per-item count and range of each instrument. */
export const INSTRUMENTS = {
  'PHQ-9': { maxScore: 27, items: 9, maxItem: 3 },
  'GAD-7': { maxScore: 21, items: 7, maxItem: 3 },
  'WHO-5': { maxScore: 25, items: 5, maxItem: 5 },
} as const;
export type Instrument = keyof typeof INSTRUMENTS;

// Identifiers from the app: short tokens, never prose.
/** What a scenario, choice or other id of an event may be; dimension values are these or enums. */
export const IDENTIFIER = { pattern: /^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/, maxLength: 128, message: 'must be an identifier (letters, digits and . _ : @ / -)' } as const;

const identifier = z.string().min(1).max(IDENTIFIER.maxLength).regex(IDENTIFIER.pattern, IDENTIFIER.message);
const unit = z.number().min(0).max(1);

const sessionStarted = z.object({ scenarioId: identifier, channel: identifier.optional() });
const sessionEnded = z
  .object({
    scenarioId: identifier,
    durationSec: z.number().min(0).max(86_400),
    activeSec: z.number().min(0).max(86_400).optional(),
    completed: z.boolean(),
  })
  .refine((a) => a.activeSec === undefined || a.activeSec <= a.durationSec, {
    message: 'must not exceed durationSec',
    path: ['activeSec'],
  });
const choiceMade = z.object({
  scenarioId: identifier,
  sceneId: identifier,
  choiceId: identifier,
  choiceType: z.enum(CHOICE_TYPES),
  therapeuticValue: unit,
  responseTimeMs: z.number().int().min(0).max(3_600_000),
  emotionalStateBefore: z.enum(EMOTIONAL_STATES).optional(),
  emotionalStateAfter: z.enum(EMOTIONAL_STATES).optional(),
});
const interventionDelivered = z.object({
  interventionType: z.enum(INTERVENTION_TYPES),
  urgency: z.enum(INTERVENTION_URGENCIES),
  completion: z.enum(['completed', 'skipped', 'abandoned']),
  effectivenessRating: z.number().int().min(1).max(5).optional(),
});
const moodReported = z.object({
  valence: z.number().min(-1).max(1),
  arousal: unit,
  dominance: unit.optional(),
});
const assessmentCompleted = z
  .object({
    instrument: z.enum(Object.keys(INSTRUMENTS) as [Instrument, ...Instrument[]]),
    score: z.number().int().min(0),
    items: z.array(z.number().int().min(0)).optional(),
  })
  .superRefine((a, ctx) => {
    const spec = INSTRUMENTS[a.instrument];
    if (a.score > spec.maxScore) {
      ctx.addIssue({ code: 'custom', path: ['score'], message: `must be at most ${spec.maxScore} for ${a.instrument}` });
    }
    if (a.items === undefined) return;
    if (a.items.length !== spec.items) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: `${a.instrument} has ${spec.items} items` });
      return;
    }
    a.items.forEach((item, index) => {
      if (item > spec.maxItem) {
        ctx.addIssue({ code: 'custom', path: ['items', index], message: `must be at most ${spec.maxItem}` });
      }
    });
    const sum = a.items.reduce((total, item) => total + item, 0);
    if (sum !== a.score) ctx.addIssue({ code: 'custom', path: ['score'], message: `must equal the sum of items (${sum})` });
  });
const progressMilestone = z.object({
  goalId: identifier,
  milestone: z.enum(['breakthrough', 'skill_acquired', 'goal_completed']),
  progress: unit.optional(),
});
const crisisSignal = z.object({
  severity: z.enum(['low', 'moderate', 'high', 'imminent']),
  source: z.enum(['self_report', 'classifier', 'clinician']),
});
const engagementHeartbeat = z.object({ screen: identifier, activeSec: z.number().min(0).max(3_600) });

export const ATTRIBUTE_SCHEMAS = {
  'session.started': sessionStarted,
  'session.ended': sessionEnded,
  'choice.made': choiceMade,
  'intervention.delivered': interventionDelivered,
  'mood.reported': moodReported,
  'assessment.completed': assessmentCompleted,
  'progress.milestone': progressMilestone,
  'crisis.signal': crisisSignal,
  'engagement.heartbeat': engagementHeartbeat,
} as const;

export type EventType = keyof typeof ATTRIBUTE_SCHEMAS;
export const EVENT_TYPES = Object.keys(ATTRIBUTE_SCHEMAS) as [EventType, ...EventType[]];
export type AttributesOf<T extends EventType> = z.infer<(typeof ATTRIBUTE_SCHEMAS)[T]>;

/**
 * An opaque per-session token the app gives so that an intervention can reach the person in the
 * app (`intervention.recommended` carries it back): the app's own reference, never a user id.
 * URL-safe characters, as push and session tokens are.
 */
export const CHANNEL_TOKEN = { pattern: /^[A-Za-z0-9._~+/=-]+$/, minLength: 16, maxLength: 512 } as const;
export const channelTokenSchema = z
  .string()
  .min(CHANNEL_TOKEN.minLength)
  .max(CHANNEL_TOKEN.maxLength)
  .regex(CHANNEL_TOKEN.pattern, 'must be an opaque token (letters, digits and . _ ~ + / = -)');

export const eventContextSchema = z.object({
  appVersion: z.string().regex(/^\d+(\.\d+){0,3}([-+][A-Za-z0-9.]+)?$/, 'must be a version like 4.2.1').optional(),
  platform: z.enum(PLATFORMS).optional(),
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag like en-GB').optional(),
  timezone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$|^UTC$/, 'must be an IANA time zone').optional(),
});
export type EventContext = z.infer<typeof eventContextSchema>;

/** The context an event arrives with: the stored context and the channel token, which is kept apart from it. */
export const incomingContextSchema = eventContextSchema.extend({ channelToken: channelTokenSchema.optional() });
export type IncomingContext = z.infer<typeof incomingContextSchema>;

/** The app's user id, as events carry it and as the consent and erasure routes take it in their path. */
export const userIdSchema = plainText(z.string().min(1).max(256));

const envelopeFields = {
  eventId: z.uuid(),
  occurredAt: boundedInstant,
  userId: userIdSchema,
  sessionId: identifier,
  context: incomingContextSchema.optional(),
};

/** One variant per type, discriminated on `type`, so each type's attributes are checked. */
export const eventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) => z.object({ ...envelopeFields, type: z.literal(type), attributes: ATTRIBUTE_SCHEMAS[type] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

export type IncomingEvent = {
  [T in EventType]: {
    eventId: string;
    type: T;
    occurredAt: string;
    userId: string;
    sessionId: string;
    attributes: AttributesOf<T>;
    context?: IncomingContext;
  };
}[EventType];

/**
 * What travels on the stream and is stored: the raw user and session ids are gone, replaced by
 * keyed pseudonyms. Nothing else about the person is kept.
 */
export type StoredEvent = {
  [T in EventType]: {
    v: 1;
    eventId: string;
    type: T;
    /** UTC ISO-8601 with milliseconds. */
    occurredAt: string;
    receivedAt: string;
    /** HMAC-SHA256 pseudonym of the user id (hex). */
    subject: string;
    /** HMAC-SHA256 pseudonym of the session id (hex). */
    session: string;
    attributes: AttributesOf<T>;
    context: EventContext;
    /** Present when the user had given research consent at ingest: the event may feed research exports. */
    research?: true;
    /** Present when the user had given safety-monitoring consent at ingest: the detect function watches it. */
    safety?: true;
    /**
     * The app's channel token, on events of users with safety-monitoring consent that carried one:
     * where detect sends an intervention. Only the stream holds it; every decoder but detect's drops it.
     */
    channelToken?: string;
  };
}[EventType];

export const MAX_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 1024 * 1024;
