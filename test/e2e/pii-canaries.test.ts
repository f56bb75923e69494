import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '../../functions/adapters/log';
import { parseEnv } from '../../functions/config/env';
import { localEnv } from '../../functions/config/local';
import { startRuntime } from '../../functions/local/runtime';
import { putConsent } from '../../functions/local/consent-client';
import { makeEvent, SAMPLE_ATTRIBUTES } from '../support/events';

/** A 16-digit card number that passes the Luhn check, distinct per i. */
function cardNumber(i: number): string {
  const body = `411111${String(i).padStart(9, '0')}`;
  let sum = 0;
  for (let k = 0; k < body.length; k++) {
    let digit = Number(body[body.length - 1 - k]);
    if (k % 2 === 0 && (digit *= 2) > 9) digit -= 9;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** Distinct planted PII of each kind the detectors know, as identifiers may carry it. */
const canary = (i: number, slot: number): string =>
  [
    () => `canary${i}x${slot}@example.org`,
    () => `07${String(i * 10 + slot).padStart(9, '0')}`,
    () => `10.${slot}.${i >> 8}.${i & 255}`,
    () => cardNumber(i * 10 + slot),
    () => `${String(100 + slot).padStart(3, '0')}-${String(10 + (i % 90)).padStart(2, '0')}-${String(i).padStart(4, '0')}`,
  ][(i + slot) % 5]!();

/** Every string field the event types keep, filled with canaries. */
function plantedEvent(i: number): { event: Record<string, unknown>; canaries: string[] } {
  const canaries: string[] = [];
  const plant = () => {
    const value = canary(i, canaries.length);
    canaries.push(value);
    return value;
  };
  const occurredAt = new Date(Date.now() - 60_000).toISOString();
  const ids = { occurredAt, userId: plant(), sessionId: `session-${i}` };
  switch (i % 5) {
    case 0:
      return { event: makeEvent({ ...ids, attributes: { scenarioId: plant(), channel: plant() } }, 'session.started'), canaries };
    case 1:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['session.ended'], scenarioId: plant() } }, 'session.ended'), canaries };
    case 2:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['choice.made'], scenarioId: plant(), sceneId: plant(), choiceId: plant() } }, 'choice.made'), canaries };
    case 3:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['progress.milestone'], goalId: plant() } }, 'progress.milestone'), canaries };
    default:
      return { event: makeEvent({ ...ids, attributes: { screen: plant(), activeSec: 30 } }, 'engagement.heartbeat'), canaries };
  }
}

/** Every file under the folder, as bytes: databases, the stream, the pepper and the rest. */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [readFileSync(path)];
  });
}

describe('PII canaries through the embedded runtime', () => {
  it('refuses 1,000 events carrying distinct planted PII in every string field, and no store, log or answer holds any of it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pii-canaries-'));
    const logs: string[] = [];
    const runtime = await startRuntime(parseEnv(localEnv, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'debug' }), jsonLogger('local', 'debug', (line) => logs.push(line)));
    const planted = Array.from({ length: 1_000 }, (_, i) => plantedEvent(i));
    const answers: string[] = [];
    try {
      for (let from = 0; from < planted.length; from += 500) {
        const response = await fetch(`${runtime.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.devToken}` },
          body: JSON.stringify({ events: planted.slice(from, from + 500).map((p) => p.event) }),
        });
        const text = await response.text();
        answers.push(text);
        const body = JSON.parse(text) as { accepted: number; rejected: { index: number; code: string; message: string }[] };
        expect(body.accepted).toBe(0);
        expect(body.rejected).toHaveLength(500);
        expect(body.rejected.filter((r) => !(r.code === 'pii_detected' && /^attributes\.\w+: /.test(r.message))).slice(0, 3)).toEqual([]);
      }
      // Only the pseudonymised user id may hold PII and still be taken: its event is counted under a pseudonym.
      const pseudonymOnly = makeEvent({ userId: 'canary-user@example.org' });
      await putConsent(runtime.url, runtime.tokens.devToken, ['canary-user@example.org']);
      expect(await (await fetch(`${runtime.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.devToken}` },
        body: JSON.stringify({ events: [pseudonymOnly] }),
      })).json()).toEqual({ accepted: 1, rejected: [] });
      await runtime.drain();
    } finally {
      await runtime.stop();
    }
    try {
      const everything = [...planted.flatMap((p) => p.canaries), 'canary-user@example.org'];
      expect(everything).toHaveLength(new Set(everything).size);
      // One pass over each text for all canaries at once.
      const anyCanary = new RegExp(everything.map((value) => value.replace(/[.+]/g, '\\$&')).join('|'), 'g');
      const texts = [...filesUnder(dataDir).map((bytes) => bytes.toString('latin1')), ...logs, ...answers];
      expect(texts.flatMap((text) => text.match(anyCanary) ?? [])).toEqual([]);
      // The search finds what is there: the runtime logged, and a canary in the texts is seen.
      expect(logs.length).toBeGreaterThan(0);
      expect(`stored ${everything[0]} here`.match(anyCanary)).toEqual([everything[0]]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
