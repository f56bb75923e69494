import { z } from 'zod';
import { ATTRIBUTE_SCHEMAS, EVENT_TYPES, eventContextSchema, type StoredEvent } from './schema';

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
});

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A stream record back into a `StoredEvent`, or the reason it is not one. Records come from our
 * own ingest, so a failure here means a poison record (a bug, a foreign producer): the caller
 * reports it as failed and the event source mapping sends it to the DLQ after its retries.
 */
export function decodeStoredEvent(data: Uint8Array): { ok: true; event: StoredEvent } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `bad envelope at ${parsed.error.issues[0]?.path.join('.') ?? '?'}` };
  const attributes = ATTRIBUTE_SCHEMAS[parsed.data.type].safeParse(parsed.data.attributes);
  if (!attributes.success) return { ok: false, reason: `bad attributes at ${attributes.error.issues[0]?.path.join('.') ?? '?'}` };
  return { ok: true, event: { ...parsed.data, attributes: attributes.data } as StoredEvent };
}
