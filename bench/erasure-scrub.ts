/**
 * How long an erasure takes in the embedded mode now that it rewrites what it deleted (VACUUM
 * FULL, the write-ahead log retired, the consent file written anew), and whether anything of the
 * erased users is left in any file of the data folder afterwards. The runtime runs in this
 * process on a fresh data folder; USERS users send EVENTS events each (one a crisis signal, one a
 * milestone carrying a canary goalId), then ERASURES of them are erased one after another.
 * `npx tsx bench/erasure-scrub.ts` (USERS, EVENTS, ERASURES).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { putConsent } from '../functions/local/consent-client';
import { localPepper } from '../functions/local/pepper';
import { makePseudonymiser } from '../functions/domain/privacy/pseudonymise';
import { startRuntime } from '../functions/local/runtime';
import { format, sampleLatency } from './support';

const USERS = Number(process.env.USERS ?? 200);
const EVENTS = Number(process.env.EVENTS ?? 20);
const ERASURES = Number(process.env.ERASURES ?? 5);

function filesHolding(dir: string, needles: readonly Buffer[]): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => {
      const bytes = readFileSync(path);
      return needles.some((needle) => bytes.includes(needle));
    })
    .map((path) => relative(dir, path));
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'erasure-bench-'));
  const runtime = await startRuntime(parseEnv(localEnv, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', K_ANONYMITY: '2' }));
  try {
    const token = runtime.tokens.devToken;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${runtime.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const users = Array.from({ length: USERS }, (_, index) => `bench-user-${index}`);
    await putConsent(runtime.url, token, users);
    const canaries = new Map(users.map((user) => [user, `canary-${randomBytes(6).toString('hex')}`]));
    const at = new Date(Date.now() - 5 * 60_000).toISOString();
    const context = { appVersion: '4.2.1', platform: 'ios', locale: 'en-GB', timezone: 'Europe/London' };
    for (let start = 0; start < users.length; start += 20) {
      const events = users.slice(start, start + 20).flatMap((userId) => [
        { eventId: randomUUID(), type: 'crisis.signal', occurredAt: at, userId, sessionId: `s-${userId}`, attributes: { severity: 'high', source: 'self_report' }, context },
        { eventId: randomUUID(), type: 'progress.milestone', occurredAt: at, userId, sessionId: `s-${userId}`, attributes: { goalId: canaries.get(userId), milestone: 'breakthrough' }, context },
        ...Array.from({ length: Math.max(0, EVENTS - 2) }, () => ({ eventId: randomUUID(), type: 'mood.reported', occurredAt: at, userId, sessionId: `s-${userId}`, attributes: { valence: 0.1, arousal: 0.5 }, context })),
      ]);
      const answer = await call('POST', '/v1/events', { events });
      if (answer.status !== 202) throw new Error(`POST /v1/events answered ${answer.status}`);
    }
    await runtime.drain();
    await runtime.detect();

    const erased = users.slice(0, ERASURES);
    const subjects: string[] = [];
    const summary = await sampleLatency(erased.length, async (index) => {
      const answer = await call('DELETE', `/v1/users/${erased[index]}/data`);
      if (answer.status !== 200) throw new Error(`DELETE answered ${answer.status}`);
      subjects.push(answer.body['subject'] as string);
    });
    await runtime.stop();
    const needles = [...subjects.flatMap((subject) => [Buffer.from(subject), Buffer.from(subject, 'hex')]), ...erased.map((user) => Buffer.from(canaries.get(user)!))];
    const left = filesHolding(dataDir, needles);
    console.log(`${USERS} users x ${EVENTS} events; ${ERASURES} x DELETE /v1/users/{userId}/data (erase, then scrub): ${format(summary)}`);
    console.log(`files of the data folder still holding an erased pseudonym or canary after a clean stop: ${left.length === 0 ? 'none' : left.join(', ')}`);
    // The scan can see: a user who was not erased is still found (their canary is sealed, their pseudonym is not).
    const kept = makePseudonymiser(localPepper(dataDir, undefined), 'user')(users[USERS - 1]!);
    console.log(`files holding a kept user's pseudonym (the scan's control): ${filesHolding(dataDir, [Buffer.from(kept)]).join(', ') || 'none'}`);
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
