import { INTERVENTION_SIGNATURE_HEADER, signIntervention, type InterventionMessage } from '../domain/alerting/intervention';
import type { Clock } from '../ports';
import type { InterventionSender } from '../ports/interventions';

/** An app that does not answer within this long is taken as not having the message; the caller retries. */
const TIMEOUT_MS = 2_000;

/**
 * `intervention.recommended` POSTed as JSON to the app's webhook, signed with HMAC-SHA256 of the
 * timestamp and the body (`x-intervention-signature: t=...,v1=...`; `verifyInterventionSignature`
 * is the receiver's check). Any answer but 2xx is a failed send, retried by the caller; the id in
 * the body lets the app drop a repeat of a send whose answer was lost.
 */
export class WebhookInterventions implements InterventionSender {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  async send(message: InterventionMessage): Promise<void> {
    const body = JSON.stringify(message);
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERVENTION_SIGNATURE_HEADER]: signIntervention(body, this.secret, this.clock.now()) },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // Read to the end so the connection is reused; the body is not kept (it is the app's).
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
  }
}
