import type { ConsentScopes } from '../domain/privacy/consent';
import { joinsResearch } from '../domain/demo/synthetic-traffic';

/** What a user of the tests and benchmarks agrees to: analytics and safety monitoring, not research. */
export const DEMO_CONSENT: ConsentScopes = { analytics: true, research: false, safety_monitoring: true };

/** What a user of `npm run demo` agrees to: `DEMO_CONSENT`, and research for a share of them. */
export const demoConsentOf = (userId: string): ConsentScopes => ({ ...DEMO_CONSENT, research: joinsResearch(userId) });

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
