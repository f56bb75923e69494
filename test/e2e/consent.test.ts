import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const at = new Date(Date.now() - 20 * 60_000);
const hour = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}`;
const moodOf = (userId: string) => makeEvent({ userId, occurredAt: at.toISOString() }, 'mood.reported');
const DECLINED = { analytics: false, research: false, safety_monitoring: true };

async function storedMoods(app: TestRuntime): Promise<number> {
  await app.runtime.drain();
  const answer = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);
  // A suppressed total would hide stored events from this count.
  if (answer.body.suppressed.length > 0) throw new Error('the total is suppressed: too few users to count stored events');
  return answer.body.series.flatMap((s: any) => s.points).reduce((sum: number, p: any) => sum + p.count, 0);
}

async function consentMissingCount(app: TestRuntime): Promise<number> {
  const text = await (await fetch(`${app.runtime.url}/metrics`)).text();
  return Number(/^events_rejected_total\{code="consent_missing"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('consent through the embedded runtime (opt-in)', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: '2' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses, counts and never stores the events of users who never consented or declined analytics', async () => {
    await app.consent(['declined-1'], DECLINED);

    const posted = await app.request('POST', '/v1/events', { body: { events: [moodOf('never-asked-1'), moodOf('declined-1'), moodOf('never-asked-2')] } });

    expect(posted.status).toBe(202);
    expect(posted.body.accepted).toBe(0);
    expect(posted.body.rejected.map((r: any) => r.code)).toEqual(['consent_missing', 'consent_missing', 'consent_missing']);
    expect(await consentMissingCount(app)).toBe(3);
    expect(await storedMoods(app)).toBe(0);
  });

  it('takes events once consent is given, and refuses the next request after a withdrawal', async () => {
    const users = ['patient-a', 'patient-b'];
    await app.consent(users);
    const before = await consentMissingCount(app);

    const taken = await app.request('POST', '/v1/events', { body: { events: users.map(moodOf) } });
    await app.consent(['patient-b'], DECLINED);
    const afterWithdrawal = await app.request('POST', '/v1/events', { body: { events: users.map(moodOf) } });

    expect(taken.body).toEqual({ accepted: 2, rejected: [] });
    expect(afterWithdrawal.body.accepted).toBe(1);
    expect(afterWithdrawal.body.rejected).toEqual([expect.objectContaining({ index: 1, code: 'consent_missing' })]);
    expect(await consentMissingCount(app)).toBe(before + 1);
    expect(await storedMoods(app)).toBe(3);
  });

  it('answers the consent as recorded, under a pseudonym, and keeps it across a restart', async () => {
    const put = await app.request('PUT', '/v1/consent/raw-id-canary-77', { body: { analytics: true, research: true, safety_monitoring: false } });

    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      subject: expect.stringMatching(/^[0-9a-f]{64}$/),
      scopes: { analytics: true, research: true, safety_monitoring: false },
      updatedAt: expect.any(String),
    });
    await app.restart();
    expect((await app.request('POST', '/v1/events', { body: { events: [moodOf('raw-id-canary-77')] } })).body.accepted).toBe(1);
    const registryFiles = readdirSync(join(app.dataDir, 'consent')).map((name) => readFileSync(join(app.dataDir, 'consent', name)).toString('latin1'));
    expect(registryFiles.join('')).toContain(put.body.subject);
    expect(registryFiles.join('')).not.toContain('raw-id-canary-77');
  });

  it.each([
    { body: { analytics: true, research: false }, field: 'safety_monitoring' },
    { body: { analytics: 'yes', research: false, safety_monitoring: true }, field: 'analytics' },
    { body: { analytics: true, research: false, safety_monitoring: true, reserch: false }, field: 'reserch' },
  ])('refuses a consent body whose $field is missing, not a boolean or unknown, naming it', async ({ body, field }) => {
    const answer = await app.request('PUT', '/v1/consent/patient-c', { body });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(answer.body.error.message).toContain(field);
  });

  it('refuses a body that is not JSON and a user id over 256 characters', async () => {
    expect((await app.request('PUT', '/v1/consent/patient-c', { rawBody: '{"analytics": tr' })).body.error.code).toBe('malformed_json');
    const long = await app.request('PUT', `/v1/consent/${'u'.repeat(257)}`, { body: { analytics: true, research: false, safety_monitoring: true } });
    expect([long.status, long.body.error.code, long.body.error.details]).toEqual([400, 'invalid_parameter', { parameter: 'userId' }]);
  });
});
