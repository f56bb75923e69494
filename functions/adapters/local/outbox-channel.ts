import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { alertTopicOf, emailTemplateData, snsPublication, type AlertTopic } from '../../domain/alerting/message';
import type { AlertMessage, Channel } from '../../domain/alerting/model';
import type { NotificationChannel } from '../../ports/notifications';

/** One line of the outbox: what the channel would have sent, as the AWS channel renders it. */
export type OutboxEntry =
  | { readonly channel: 'sns'; readonly kind: AlertMessage['kind']; readonly severity: AlertMessage['severity']; readonly topic: AlertTopic; readonly clinician?: string; readonly subject: string; readonly message: string }
  | { readonly channel: 'email'; readonly severity: AlertMessage['severity']; readonly templateData: ReturnType<typeof emailTemplateData> };

/**
 * The embedded mode has no SNS or SES: each message is appended as a JSON line to a file in the
 * data folder (`DATA_DIR/alerts/outbox.jsonl`), where a person or a test reads what was sent.
 */
export class OutboxChannel implements NotificationChannel {
  constructor(
    readonly channel: Extract<Channel, 'sns' | 'email'>,
    private readonly path: string,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    // Critical only, as the SES channel does, so the outbox shows what AWS would send.
    if (this.channel === 'email' && message.severity !== 'critical') return;
    await mkdir(dirname(this.path), { recursive: true });
    // One appendFile per line: lines from the two channels never interleave within a line.
    await appendFile(this.path, `${JSON.stringify(this.entry(message))}\n`, 'utf8');
  }

  private entry(message: AlertMessage): OutboxEntry {
    if (this.channel === 'email') return { channel: 'email', severity: message.severity, templateData: emailTemplateData(message) };
    const publication = snsPublication(message);
    return { channel: 'sns', kind: message.kind, severity: message.severity, topic: alertTopicOf(message), ...(message.clinician === undefined ? {} : { clinician: message.clinician }), subject: publication.Subject, message: publication.Message };
  }
}

/** The sns and email channels of the embedded mode, writing to one outbox file. */
export const outboxChannels = (path: string): OutboxChannel[] => [new OutboxChannel('sns', path), new OutboxChannel('email', path)];

/**
 * Erasure: the outbox without the lines that name `text` (a subject key), written to a new file
 * that replaces the old one, so the removed lines are in no file of the data folder. A line
 * appended by another thread between the read and the rename would be lost with them; the
 * outbox is a stand-in for delivered messages, read by people and tests, not a record the
 * product replays. Answers how many lines went.
 */
export async function eraseOutboxLines(path: string, text: string): Promise<number> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const lines = content.split('\n').filter((line) => line.length > 0);
  const kept = lines.filter((line) => !line.includes(text));
  if (kept.length === lines.length) return 0;
  const fresh = `${path}.rewrite`;
  await writeFile(fresh, kept.map((line) => `${line}\n`).join(''), 'utf8');
  await rename(fresh, path);
  return lines.length - kept.length;
}
