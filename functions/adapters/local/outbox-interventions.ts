import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InterventionMessage } from '../../domain/alerting/intervention';
import type { InterventionSender } from '../../ports/interventions';

/**
 * The embedded mode's stand-in for the bus and the webhook: each message a JSON line of its own
 * file in the data folder (`DATA_DIR/interventions/outbox.jsonl`), apart from the alerts' outbox,
 * since it holds the app's channel tokens, which no alert may.
 */
export class OutboxInterventions implements InterventionSender {
  readonly name = 'outbox';

  constructor(private readonly path: string) {}

  async send(message: InterventionMessage): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify(message)}\n`, 'utf8');
  }
}
