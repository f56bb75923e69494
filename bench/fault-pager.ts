/**
 * What the on-call person's pager received: the critical topic's notifications read back from
 * the private moto through a subscribed SQS queue (the emulated mode), or the outbox file (the
 * embedded mode); and the product's own record of each alert (GET /v1/alerts).
 */
import { readFile } from 'node:fs/promises';
import { snsClient, sqsClient } from '../functions/adapters/aws/clients';
import { ensureAlertTopics } from '../functions/adapters/aws/sns-channel';
import type { OutboxEntry } from '../functions/adapters/local/outbox-channel';
import { tapTopic, type TopicTap } from '../test/support/moto';
import { parsePage, type AlertRecord, type Page } from './fault-reconcile';
import { sleep } from './fault-services';

/** The text SNS delivers to an SQS subscriber of a `MessageStructure: json` publication: the `default` entry. */
const defaultText = (message: string): string => {
  try {
    const parsed = JSON.parse(message) as { default?: unknown };
    return typeof parsed.default === 'string' ? parsed.default : message;
  } catch {
    return message;
  }
};

/**
 * Reads the critical topic in the background. The topic and the queue die with the emulator;
 * `reopen` creates both again on the new one (the topic has the name the runtime uses, so the
 * script recreating it does not test whether the runtime would).
 */
export class SnsPager {
  readonly pages: Page[] = [];
  private tap: TopicTap | undefined;
  private generation = 0;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly endpoint: string,
    private readonly stream: string,
  ) {}

  static async open(endpoint: string, stream: string): Promise<SnsPager> {
    const pager = new SnsPager(endpoint, stream);
    await pager.reopen();
    return pager;
  }

  async reopen(): Promise<void> {
    const sns = snsClient({ endpoint: this.endpoint });
    const sqs = sqsClient({ endpoint: this.endpoint });
    const topics = await ensureAlertTopics(sns, this.stream);
    this.generation += 1;
    this.tap = await tapTopic(sns, sqs, topics.critical, `${this.stream}-critical-tap-${this.generation}`);
    const tap = this.tap;
    this.reading = this.read(tap);
  }

  /** Takes everything that has arrived, so nothing the emulator is about to lose waits unread. */
  async drain(): Promise<void> {
    const tap = this.tap;
    this.tap = undefined;
    await this.reading;
    if (!tap) return;
    for (let batch = await tap.receive(1); batch.length > 0; batch = await tap.receive(1)) this.keep(batch);
  }

  private keep(batch: readonly { Message: string; Timestamp: string }[]): void {
    for (const envelope of batch) this.pages.push(...parsePage(defaultText(envelope.Message), Date.parse(envelope.Timestamp)));
  }

  private async read(tap: TopicTap): Promise<void> {
    while (!this.closed && this.tap === tap) {
      try {
        this.keep(await tap.receive(1));
      } catch {
        // The emulator is down; the next reopen starts a new reader.
        await sleep(250);
      }
    }
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }
}

/** The embedded mode's pager: the SNS lines of `DATA_DIR/alerts/outbox.jsonl` (no time of sending is kept there). */
export async function outboxPages(path: string): Promise<Page[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OutboxEntry)
    .flatMap((entry) => (entry.channel === 'sns' ? parsePage(defaultText(entry.message), 0) : []));
}

/** Every critical alert the product recorded (newest first, one page: the run raises far fewer than 500). */
export async function criticalAlerts(url: string, token: string): Promise<AlertRecord[]> {
  const response = await fetch(`${url}/v1/alerts?severity=critical&limit=500`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET /v1/alerts answered ${response.status}`);
  return ((await response.json()) as { alerts: AlertRecord[] }).alerts;
}
