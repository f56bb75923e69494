import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outboxChannels, type OutboxEntry } from '../../../functions/adapters/local/outbox-channel';
import { emailTemplateData, snsPublication } from '../../../functions/domain/alerting/message';
import type { AlertMessage, Severity } from '../../../functions/domain/alerting/model';

function message(severity: Severity, kind: AlertMessage['kind'] = 'firing'): AlertMessage {
  return {
    kind,
    severity,
    groupKey: 'rule=crisis-signal',
    alerts: [{ id: 'a1', rule: 'crisis-signal', subject: `user:${'d'.repeat(64)}`, startsAt: '2026-11-20T10:00:00.000Z', summary: 'crisis signal' }],
    dashboardUrl: 'http://127.0.0.1:3000/alerts/a1',
  };
}

describe('OutboxChannel', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends what SNS and SES would send as JSON lines, creating the folder, with the topic paged; e-mail for critical only', async () => {
    const path = join(dir, 'alerts', 'outbox.jsonl');
    const [sns, email] = outboxChannels(path);

    for (const severity of ['critical', 'warning'] as const) {
      await sns!.send(message(severity));
      await email!.send(message(severity));
    }
    await sns!.send(message('critical', 'escalation'));

    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as OutboxEntry);
    const critical = snsPublication(message('critical'));
    expect(lines).toEqual([
      { channel: 'sns', kind: 'firing', severity: 'critical', topic: 'critical', subject: critical.Subject, message: critical.Message },
      { channel: 'email', severity: 'critical', templateData: emailTemplateData(message('critical')) },
      { channel: 'sns', kind: 'firing', severity: 'warning', topic: 'warning', subject: snsPublication(message('warning')).Subject, message: snsPublication(message('warning')).Message },
      // An escalation pages the secondary on-call, not the critical topic that went unanswered.
      {
        channel: 'sns',
        kind: 'escalation',
        severity: 'critical',
        topic: 'escalation',
        subject: snsPublication(message('critical', 'escalation')).Subject,
        message: snsPublication(message('critical', 'escalation')).Message,
      },
    ]);
    expect([sns!.channel, email!.channel]).toEqual(['sns', 'email']);
  });
});
