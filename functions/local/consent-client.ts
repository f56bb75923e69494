import type { ConsentScopes } from '../domain/privacy/consent';

/** What a user of the demo (and of the tests) agrees to: analytics and safety monitoring, not research. */
export const DEMO_CONSENT: ConsentScopes = { analytics: true, research: false, safety_monitoring: true };

/**
 * PUT /v1/consent/{userId} for each user, a few at a time: the opt-in a client app sends when a
 * user agrees, before their first event. For the demo, the benchmarks and the tests.
 */
export async function putConsent(baseUrl: string, token: string, userIds: Iterable<string>, scopes: ConsentScopes = DEMO_CONSENT, concurrency = 8): Promise<void> {
  const pending = [...new Set(userIds)];
  const body = JSON.stringify(scopes);
  const worker = async (): Promise<void> => {
    for (let userId = pending.pop(); userId !== undefined; userId = pending.pop()) {
      const response = await fetch(`${baseUrl}/v1/consent/${encodeURIComponent(userId)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      if (response.status !== 200) throw new Error(`PUT /v1/consent answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
