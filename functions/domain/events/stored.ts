import { regexes, z } from 'zod';
import {
  ATTRIBUTE_SCHEMAS,
  CHANNEL_TOKEN,
  CHOICE_TYPES,
  EMOTIONAL_STATES,
  EVENT_TYPES,
  eventContextSchema,
  INSTRUMENTS,
  INTERVENTION_TYPES,
  INTERVENTION_URGENCIES,
  PLATFORMS,
  type EventType,
  type StoredEvent,
} from './schema';

const envelope = z.object({
  v: z.literal(1),
  eventId: z.uuid(),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.iso.datetime(),
  receivedAt: z.iso.datetime(),
  subject: z.string().regex(/^[0-9a-f]{64}$/),
  session: z.string().regex(/^[0-9a-f]{64}$/),
  attributes: z.record(z.string(), z.unknown()),
  context: eventContextSchema,
  research: z.literal(true).optional(),
  safety: z.literal(true).optional(),
});

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A stream record back into a `StoredEvent`, or the reason it is not one. Records come from our
 * own ingest, so a failure here means a poison record (a bug, a foreign producer): the caller
 * reports it as failed and the event source mapping sends it to the DLQ after its retries.
 *
 * The aggregator decodes every event, and zod's parse was most of that cost, so a record is
 * first checked by hand (`fastDecode`), strictly: it accepts only what the schemas accept and
 * answers what they would answer (known keys only). Anything it does not accept goes through the
 * schemas, so a rejection and its reason are zod's own.
 */
export function decodeStoredEvent(data: Uint8Array, options: DecodeOptions = {}): { ok: true; event: StoredEvent } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const fast = fastDecode(json);
  const decoded = fast ? { ok: true as const, event: fast } : decodeWithSchemas(json);
  if (!decoded.ok) return decoded;
  const channelToken = (json as Json)['channelToken'];
  if (channelToken === undefined) return decoded;
  if (!isChannelToken(channelToken)) return { ok: false, reason: 'bad envelope at channelToken' };
  return options.keepChannelToken === true ? { ok: true, event: { ...decoded.event, channelToken } } : decoded;
}

export interface DecodeOptions {
  /**
   * Keep the app's channel token (detect, which sends interventions to it); every other consumer
   * decodes without it, so no rollup, feature or log can take it.
   */
  readonly keepChannelToken?: boolean;
}

/** The schemas' answer for a parsed record: the reference the fast path must agree with. */
export function decodeWithSchemas(json: unknown): { ok: true; event: StoredEvent } | { ok: false; reason: string } {
  const parsed = envelope.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `bad envelope at ${parsed.error.issues[0]?.path.join('.') ?? '?'}` };
  const attributes = ATTRIBUTE_SCHEMAS[parsed.data.type].safeParse(parsed.data.attributes);
  if (!attributes.success) return { ok: false, reason: `bad attributes at ${attributes.error.issues[0]?.path.join('.') ?? '?'}` };
  return { ok: true, event: { ...parsed.data, attributes: attributes.data } as StoredEvent };
}

// The same patterns the schemas use (zod's own for uuid and datetime).
const UUID = regexes.uuid();
const DATETIME = regexes.datetime({});
const HEX64 = /^[0-9a-f]{64}$/;
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/;
const APP_VERSION = /^\d+(\.\d+){0,3}([-+][A-Za-z0-9.]+)?$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const TIMEZONE = /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$|^UTC$/;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isIdentifier = (value: unknown): value is string => isString(value) && value.length >= 1 && value.length <= 128 && IDENTIFIER.test(value);
const inRange = (value: unknown, min: number, max: number): value is number => isNumber(value) && value >= min && value <= max;
const isInt = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
const oneOf = <T extends string>(values: readonly T[]) => {
  const set = new Set<unknown>(values);
  return (value: unknown): value is T => set.has(value);
};
const isEventType = oneOf(EVENT_TYPES);
const isPlatform = oneOf(PLATFORMS);
const isChoiceType = oneOf(CHOICE_TYPES);
const isEmotionalState = oneOf(EMOTIONAL_STATES);
const isInterventionType = oneOf(INTERVENTION_TYPES);
const isChannelToken = (value: unknown): value is string =>
  isString(value) && value.length >= CHANNEL_TOKEN.minLength && value.length <= CHANNEL_TOKEN.maxLength && CHANNEL_TOKEN.pattern.test(value);
const isUrgency = oneOf(INTERVENTION_URGENCIES);
const isCompletion = oneOf(['completed', 'skipped', 'abandoned']);
const isInstrument = oneOf(Object.keys(INSTRUMENTS) as (keyof typeof INSTRUMENTS)[]);
const isMilestone = oneOf(['breakthrough', 'skill_acquired', 'goal_completed']);
const isSeverity = oneOf(['low', 'moderate', 'high', 'imminent']);
const isSource = oneOf(['self_report', 'classifier', 'clinician']);

/**
 * An optional field passes when absent (JSON has no undefined values) or valid. Callers then copy
 * it by name: a helper that copied it under a computed key made that store megamorphic, a quarter
 * of the fast path's profile.
 */
const absentOr = (value: unknown, valid: (value: unknown) => boolean): boolean => value === undefined || valid(value);

/** The attributes of each type as its schema outputs them, or undefined when the schema might not accept them. */
const ATTRIBUTES: { readonly [T in EventType]: (a: Json) => Json | undefined } = {
  'session.started': (a) => {
    const { scenarioId, channel } = a;
    if (!isIdentifier(scenarioId) || !absentOr(channel, isIdentifier)) return undefined;
    const out: Json = { scenarioId };
    if (channel !== undefined) out['channel'] = channel;
    return out;
  },
  'session.ended': (a) => {
    const { scenarioId, durationSec, activeSec, completed } = a;
    if (!isIdentifier(scenarioId) || !inRange(durationSec, 0, 86_400) || typeof completed !== 'boolean') return undefined;
    const out: Json = { scenarioId, durationSec };
    if (activeSec !== undefined) {
      if (!inRange(activeSec, 0, 86_400) || activeSec > durationSec) return undefined;
      out['activeSec'] = activeSec;
    }
    out['completed'] = completed;
    return out;
  },
  'choice.made': (a) => {
    const { scenarioId, sceneId, choiceId, choiceType, therapeuticValue, responseTimeMs, emotionalStateBefore, emotionalStateAfter } = a;
    if (!isIdentifier(scenarioId) || !isIdentifier(sceneId) || !isIdentifier(choiceId) || !isChoiceType(choiceType)) return undefined;
    if (!inRange(therapeuticValue, 0, 1) || !isInt(responseTimeMs, 0, 3_600_000)) return undefined;
    if (!absentOr(emotionalStateBefore, isEmotionalState) || !absentOr(emotionalStateAfter, isEmotionalState)) return undefined;
    const out: Json = { scenarioId, sceneId, choiceId, choiceType, therapeuticValue, responseTimeMs };
    if (emotionalStateBefore !== undefined) out['emotionalStateBefore'] = emotionalStateBefore;
    if (emotionalStateAfter !== undefined) out['emotionalStateAfter'] = emotionalStateAfter;
    return out;
  },
  'intervention.delivered': (a) => {
    const { interventionType, urgency, completion, effectivenessRating } = a;
    if (!isInterventionType(interventionType) || !isUrgency(urgency) || !isCompletion(completion)) return undefined;
    if (!absentOr(effectivenessRating, (v) => isInt(v, 1, 5))) return undefined;
    const out: Json = { interventionType, urgency, completion };
    if (effectivenessRating !== undefined) out['effectivenessRating'] = effectivenessRating;
    return out;
  },
  'mood.reported': (a) => {
    const { valence, arousal, dominance } = a;
    if (!inRange(valence, -1, 1) || !inRange(arousal, 0, 1) || !absentOr(dominance, (v) => inRange(v, 0, 1))) return undefined;
    const out: Json = { valence, arousal };
    if (dominance !== undefined) out['dominance'] = dominance;
    return out;
  },
  'assessment.completed': (a) => {
    const { instrument, score, items } = a;
    if (!isInstrument(instrument) || !isInt(score, 0)) return undefined;
    const spec = INSTRUMENTS[instrument];
    if (score > spec.maxScore) return undefined;
    const out: Json = { instrument, score };
    if (items !== undefined) {
      if (!Array.isArray(items) || items.length !== spec.items) return undefined;
      let sum = 0;
      for (const item of items as unknown[]) {
        if (!isInt(item, 0, spec.maxItem)) return undefined;
        sum += item;
      }
      if (sum !== score) return undefined;
      out['items'] = [...(items as number[])];
    }
    return out;
  },
  'progress.milestone': (a) => {
    const { goalId, milestone, progress } = a;
    if (!isIdentifier(goalId) || !isMilestone(milestone) || !absentOr(progress, (v) => inRange(v, 0, 1))) return undefined;
    const out: Json = { goalId, milestone };
    if (progress !== undefined) out['progress'] = progress;
    return out;
  },
  'crisis.signal': (a) => (isSeverity(a['severity']) && isSource(a['source']) ? { severity: a['severity'], source: a['source'] } : undefined),
  'engagement.heartbeat': (a) => (isIdentifier(a['screen']) && inRange(a['activeSec'], 0, 3_600) ? { screen: a['screen'], activeSec: a['activeSec'] } : undefined),
};

function fastContext(context: unknown): Json | undefined {
  if (!isObject(context)) return undefined;
  const { appVersion, platform, locale, timezone } = context;
  if (!absentOr(appVersion, (v) => isString(v) && APP_VERSION.test(v)) || !absentOr(platform, isPlatform)) return undefined;
  if (!absentOr(locale, (v) => isString(v) && LOCALE.test(v)) || !absentOr(timezone, (v) => isString(v) && TIMEZONE.test(v))) return undefined;
  const out: Json = {};
  if (appVersion !== undefined) out['appVersion'] = appVersion;
  if (platform !== undefined) out['platform'] = platform;
  if (locale !== undefined) out['locale'] = locale;
  if (timezone !== undefined) out['timezone'] = timezone;
  return out;
}

/** The event when the record is certainly valid, else undefined (the schemas then decide). */
function fastDecode(json: unknown): StoredEvent | undefined {
  if (!isObject(json)) return undefined;
  const { v, eventId, type, occurredAt, receivedAt, subject, session, attributes, research, safety } = json;
  if (v !== 1 || !isString(eventId) || !UUID.test(eventId) || !isEventType(type)) return undefined;
  if (!isString(occurredAt) || !DATETIME.test(occurredAt) || !isString(receivedAt) || !DATETIME.test(receivedAt)) return undefined;
  if (!isString(subject) || !HEX64.test(subject) || !isString(session) || !HEX64.test(session)) return undefined;
  if (!isObject(attributes) || (research !== undefined && research !== true) || (safety !== undefined && safety !== true)) return undefined;
  const parsedAttributes = ATTRIBUTES[type](attributes);
  if (!parsedAttributes) return undefined;
  const context = fastContext(json['context']);
  if (!context) return undefined;
  // Flags set after the literal, not spread into it: the spread was 7 % of the decoder's profile.
  const event: Json = { v, eventId, type, occurredAt, receivedAt, subject, session, attributes: parsedAttributes, context };
  if (research === true) event['research'] = true;
  if (safety === true) event['safety'] = true;
  return event as unknown as StoredEvent;
}
