import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { eventBridgeClient, sqsClient } from '../../functions/adapters/aws/clients';
import { EventBridgeInterventions, INTERVENTION_EVENT_SOURCE, ensureInterventionBus } from '../../functions/adapters/aws/eventbridge-interventions';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';
import { WebhookInterventions } from '../../functions/adapters/webhook-interventions';
import { jsonLogger } from '../../functions/adapters/log';
import { INTERVENTION_SIGNATURE_HEADER, interventionMessage, verifyInterventionSignature, type InterventionMessage } from '../../functions/domain/alerting/intervention';
import type { InterventionRecord, InterventionStore } from '../../functions/ports/interventions';
import { makeRecommend } from '../../functions/use-cases/interventions';
import { describeWithServices, urls } from '../support/services';

const AT = new Date('2026-12-01T09:30:00.000Z');
const TOKEN = 'app-session-token-0123456789abcdef';
const SECRET = 'webhook-secret-'.padEnd(40, 'x');
const message = (eventId: string): InterventionMessage =>
  interventionMessage({ id: 'crisis-signal', intervene: { interventionType: 'crisis_support', urgency: 'crisis' } }, { eventId, at: AT }, TOKEN);

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The app's receiver: checks the signature, answers the statuses given in turn (then 204), keeps what it took. */
async function receiver(statuses: number[]): Promise<{ url: string; taken: InterventionMessage[]; refused: number; server: Server }> {
  const state = { taken: [] as InterventionMessage[], refused: 0 };
  const server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const signed = verifyInterventionSignature(body, String(request.headers[INTERVENTION_SIGNATURE_HEADER] ?? ''), SECRET, new Date());
      const status = statuses.shift() ?? 204;
      if (!signed) state.refused += 1;
      else if (status < 300) state.taken.push(JSON.parse(body) as InterventionMessage);
      response.writeHead(signed ? status : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/interventions`,
    server,
    get taken() {
      return state.taken;
    },
    get refused() {
      return state.refused;
    },
  };
}

class KeptRecords implements Pick<InterventionStore, 'record' | 'ofSubject'> {
  readonly kept: InterventionRecord[] = [];
  async record(intervention: InterventionRecord) {
    this.kept.push(intervention);
    return true;
  }
  async ofSubject() {
    return this.kept;
  }
}

describe('WebhookInterventions against a local receiver', () => {
  const clock = { now: () => new Date() };

  it('posts the message signed with the secret, which the receiver verifies', async () => {
    const app = await receiver([]);
    try {
      await new WebhookInterventions(app.url, SECRET, clock).send(message('0b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b'));
      expect(app.taken).toEqual([message('0b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b')]);
      expect(app.refused).toBe(0);
      // Signed with another secret, the receiver refuses it, and the sender says it was not taken.
      await expect(new WebhookInterventions(app.url, 'another-secret-'.padEnd(40, 'y'), clock).send(message('1b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b'))).rejects.toThrow('the webhook answered 401');
      expect(app.refused).toBe(1);
    } finally {
      app.server.close();
    }
  });

  it('is retried through a 503 and a 500 by the recommendation, and the app takes it once', async () => {
    const app = await receiver([503, 500]);
    const store = new KeptRecords();
    const eventId = '2b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b';
    try {
      const recommend = makeRecommend({ store, sender: new WebhookInterventions(app.url, SECRET, clock), clock, sleep: async () => undefined, logger: jsonLogger('test', 'silent') });
      const sent = await recommend(
        [{ state: 'firing', rule: { id: 'crisis-signal', severity: 'critical', labels: {}, routing: { channels: ['dashboard'], groupBy: [], repeatIntervalSec: 3600 }, intervene: { interventionType: 'crisis_support', urgency: 'crisis' } }, subject: { kind: 'user', id: 'a'.repeat(64) }, at: AT, summary: 'fired', eventId }],
        new Map([[eventId, TOKEN]]),
      );
      expect(sent).toBe(1);
      expect(app.taken).toEqual([message(eventId)]);
      expect(store.kept.map((record) => [record.status, record.attempts, record.sender])).toEqual([['sent', 3, 'webhook']]);
    } finally {
      app.server.close();
    }
  });

  it('gives up on an app that does not answer, within its timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await expect(new WebhookInterventions(`http://127.0.0.1:${port}/`, SECRET, clock).send(message('3b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b'))).rejects.toThrow(/timeout|aborted/i);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describeWithServices(['moto'], 'EventBridgeInterventions against moto', () => {
  const events = eventBridgeClient({ endpoint: urls.moto });
  const sqs = sqsClient({ endpoint: urls.moto });

  it("puts the message on the product's bus, where the app's rule (as the stack's example) takes it to its queue", async () => {
    const suffix = Date.now().toString(36);
    const bus = await ensureInterventionBus(events, `interventions-${suffix}`);
    // Made twice, as a runtime restarted against the same emulator does.
    expect(await ensureInterventionBus(events, bus)).toBe(bus);
    const queueUrl = await ensureQueue(sqs, `app-interventions-${suffix}`);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await events.send(new PutRuleCommand({ Name: `to-app-${suffix}`, EventBusName: bus, EventPattern: JSON.stringify({ source: [INTERVENTION_EVENT_SOURCE], 'detail-type': ['intervention.recommended'] }) }));
    await events.send(new PutTargetsCommand({ Rule: `to-app-${suffix}`, EventBusName: bus, Targets: [{ Id: 'app', Arn: Attributes!.QueueArn! }] }));
    try {
      await new EventBridgeInterventions(events, bus).send(message('4b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b'));

      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));
      expect(Messages).toHaveLength(1);
      const envelope = JSON.parse(Messages[0]!.Body!) as { source: string; 'detail-type': string; detail: InterventionMessage };
      expect(envelope).toMatchObject({ source: INTERVENTION_EVENT_SOURCE, 'detail-type': 'intervention.recommended', detail: message('4b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b') });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    }
  });

  it('fails the send when the bus is not there', async () => {
    await expect(new EventBridgeInterventions(events, `no-such-bus-${Date.now()}`).send(message('5b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b'))).rejects.toThrow();
  });
});
