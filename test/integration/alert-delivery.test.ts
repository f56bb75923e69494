import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sesClient, snsClient, sqsClient } from '../../functions/adapters/aws/clients';
import { ensureAlertTemplate, SesChannel } from '../../functions/adapters/aws/ses-channel';
import { ensureAlertTopics, SnsChannel, type AlertTopics } from '../../functions/adapters/aws/sns-channel';
import { ALERT_FEED_CHANNEL, DashboardChannel } from '../../functions/adapters/dashboard-channel';
import { alertFeedKey } from '../../functions/domain/alerting/model';
import { RedisLiveStore } from '../../functions/adapters/redis/redis-live-store';
import { emailTemplateData, smsText, snsPublication, type AlertTopic } from '../../functions/domain/alerting/message';
import type { AlertMessage, Severity } from '../../functions/domain/alerting/model';
import { describeWithServices, freshRedisPrefix, urls } from '../support/services';
import { motoData, tapTopic, type TopicTap } from '../support/moto';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';

const PSEUDONYM = 'c'.repeat(64);

function message(severity: Severity, n = 1): AlertMessage {
  const id = `7e0c5d0a-1b2c-4d3e-8f40-${String(n).padStart(12, '0')}`;
  return {
    kind: 'firing',
    severity,
    groupKey: `rule=crisis-signal/${n}`,
    alerts: [{ id, rule: 'crisis-signal', subject: `user:${PSEUDONYM}`, startsAt: '2026-11-20T10:00:00.000Z', summary: `crisis signal of severity imminent (${n})` }],
    dashboardUrl: `https://dashboard.example.org/alerts/${id}`,
  };
}

describeWithServices(['moto'], 'SnsChannel against moto', () => {
  const sns = snsClient({ endpoint: urls.moto });
  const sqs = sqsClient({ endpoint: urls.moto });
  const prefix = `delivery-${randomBytes(4).toString('hex')}`;
  let topics: AlertTopics;
  const taps = {} as Record<AlertTopic, TopicTap>;

  beforeAll(async () => {
    topics = await ensureAlertTopics(sns, prefix);
    for (const topic of ['critical', 'warning', 'escalation'] as const) taps[topic] = await tapTopic(sns, sqs, topics[topic], `${prefix}-${topic}`);
  });

  afterAll(async () => {
    await Promise.all(Object.values(taps).map((tap) => tap.close()));
  });

  const receive = (topic: AlertTopic) => taps[topic].receive();

  it('creates the four topics once: a second call answers the same ARNs', async () => {
    expect(topics.critical).toMatch(new RegExp(`:${prefix}-alerts-critical$`));
    expect(topics.warning).toMatch(new RegExp(`:${prefix}-alerts-warning$`));
    expect(topics.escalation).toMatch(new RegExp(`:${prefix}-alerts-escalation$`));
    expect(topics.clinician).toMatch(new RegExp(`:${prefix}-alerts-clinician$`));
    expect(await ensureAlertTopics(sns, prefix)).toEqual(topics);
  });

  it("takes a clinician's message to the clinicians' topic, where each subscription's filter policy lets through its clinician's only", async () => {
    // Two subscriptions as an operator adds them: clinician-a's e-mail, clinician-b's SMS (critical only).
    const subscribe = async (name: string, filter: Record<string, string[]>) => {
      const url = await ensureQueue(sqs, `${prefix}-${name}`);
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      await sns.send(new SubscribeCommand({ TopicArn: topics.clinician, Protocol: 'sqs', Endpoint: Attributes!.QueueArn!, Attributes: { FilterPolicy: JSON.stringify(filter) } }));
      return url;
    };
    const aEmail = await subscribe('clinician-a-email', { clinician: ['clinician-a'] });
    const bSms = await subscribe('clinician-b-sms', { clinician: ['clinician-b'], severity: ['critical'] });
    const received = async (url: string) => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      return Messages.map((m) => (JSON.parse(m.Body!) as { Message: string }).Message);
    };
    try {
      const channel = new SnsChannel(sns, topics);
      await channel.send({ ...message('critical', 11), clinician: 'clinician-a' });
      await channel.send({ ...message('warning', 12), clinician: 'clinician-b' });
      await channel.send({ ...message('critical', 13), clinician: 'clinician-b' });
      // A digest of a critical worklist alert: to the clinician's e-mail, never their phone.
      await channel.send({ ...message('critical', 14), kind: 'digest', clinician: 'clinician-a' });
      await channel.send({ ...message('critical', 15), kind: 'digest', clinician: 'clinician-b' });

      expect((await received(aEmail)).map((text) => /\((\d+)\)/.exec(text)?.[1]).sort()).toEqual(['11', '14']);
      expect((await received(bSms)).map((text) => /\((\d+)\)/.exec(text)?.[1])).toEqual(['13']);
      // None of them took the on-call route.
      expect(await receive('critical')).toEqual([]);
      expect(await receive('warning')).toEqual([]);
      // The on-call's digest goes to the warning topic, which has no SMS subscribers.
      await channel.send({ ...message('critical', 16), kind: 'digest' });
      expect((await receive('warning')).map((m) => /\((\d+)\)/.exec(m.Message)?.[1])).toEqual(['16']);
      expect(await receive('critical')).toEqual([]);
    } finally {
      await Promise.all([aEmail, bSms].map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url }))));
    }
  });

  it('publishes to the topic of the severity, read back from a subscribed queue and from the topic', async () => {
    const critical = message('critical', 1);
    await new SnsChannel(sns, topics).send(critical);

    const [received, ...others] = await receive('critical');
    expect(others).toEqual([]);
    expect(received!.Subject).toBe(snsPublication(critical).Subject);
    // A queue is neither sms nor email: it gets the default variant.
    expect(received!.Message).toBe(JSON.parse(snsPublication(critical).Message).default);
    expect(received!.Message).toContain(critical.dashboardUrl);
    expect(await receive('warning')).toEqual([]);

    const topic = (await motoData(urls.moto, 'sns', 'Topic')).find((t) => t['arn'] === topics.critical);
    const published = (topic!['sent_notifications'] as unknown[][]).map((n) => JSON.parse(n[1] as string) as Record<string, string>);
    expect(published).toEqual([expect.objectContaining({ sms: smsText(critical) })]);
  });

  it('sends a warning to the warning topic only', async () => {
    await new SnsChannel(sns, topics).send(message('warning', 2));

    expect((await receive('warning')).map((m) => m.Subject)).toEqual(['[WARNING] crisis-signal firing (1 alert)']);
    expect(await receive('critical')).toEqual([]);
  });

  it('pages an escalation to the secondary on-call\'s topic, not again to the critical one', async () => {
    const escalation = { ...message('critical', 4), kind: 'escalation' as const };
    await new SnsChannel(sns, topics).send(escalation);

    expect((await receive('escalation')).map((m) => m.Subject)).toEqual([snsPublication(escalation).Subject]);
    expect(await receive('critical')).toEqual([]);
  });
});

describeWithServices(['moto'], 'SesChannel against moto', () => {
  const ses = sesClient({ endpoint: urls.moto });
  const run = randomBytes(4).toString('hex');
  const templateName = `delivery-alert-${run}`;
  const from = `alerts-${run}@example.org`;
  const to = [`oncall-${run}@example.org`];

  async function sentFrom(): Promise<Record<string, unknown>[]> {
    return (await motoData(urls.moto, 'ses', 'TemplateMessage')).filter((m) => m['source'] === from);
  }

  it('creates the template twice without error and sends a critical alert from it', async () => {
    await ensureAlertTemplate(ses, templateName, from);
    await ensureAlertTemplate(ses, templateName, from);
    const critical = message('critical', 3);

    await new SesChannel(ses, { templateName, from, to }).send(critical);

    const sent = await sentFrom();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ template: templateName, destinations: { ToAddresses: to } });
    const data = JSON.parse(sent[0]!['template_data'] as string);
    expect(data).toEqual(emailTemplateData(critical));
    expect(data.dashboardUrl).toBe(critical.dashboardUrl);
  });

  it('sends no e-mail for a warning', async () => {
    await ensureAlertTemplate(ses, templateName, from);
    const before = (await sentFrom()).length;

    await new SesChannel(ses, { templateName, from, to }).send(message('warning', 4));

    expect(await sentFrom()).toHaveLength(before);
  });

  it('fails the send when the template is missing, so delivery retries and reports it', async () => {
    await expect(new SesChannel(ses, { templateName: `missing-${run}`, from, to }).send(message('critical', 5))).rejects.toThrow(/does not exist/);
  });
});

describeWithServices(['redis'], 'DashboardChannel against Redis', () => {
  const prefix = freshRedisPrefix();
  let live: RedisLiveStore;
  let raw: Redis;

  beforeAll(() => {
    live = new RedisLiveStore(new Redis(urls.redis), { keyPrefix: prefix });
    raw = new Redis(urls.redis);
  });

  afterAll(async () => {
    await raw.del(`${prefix}${alertFeedKey('critical')}`, `${prefix}${alertFeedKey('warning')}`);
    await raw.quit();
    await live.close();
  });

  it('pushes to the capped list of the severity, newest first', async () => {
    const channel = new DashboardChannel(live, 3);
    for (let n = 1; n <= 5; n += 1) await channel.send(message('critical', n));
    await channel.send(message('warning', 6));

    const critical = (await raw.lrange(`${prefix}${alertFeedKey('critical')}`, 0, -1)).map((entry) => JSON.parse(entry) as AlertMessage);
    expect(critical.map((entry) => entry.groupKey)).toEqual(['rule=crisis-signal/5', 'rule=crisis-signal/4', 'rule=crisis-signal/3']);
    expect(critical[0]).toEqual(message('critical', 5));
    expect(await raw.llen(`${prefix}${alertFeedKey('warning')}`)).toBe(1);
  });

  it('publishes each message to the live dashboard channel', async () => {
    const received: string[] = [];
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const unsubscribe = await live.subscribe(ALERT_FEED_CHANNEL, (text) => {
      received.push(text);
      arrived();
    });

    await new DashboardChannel(live).send(message('warning', 7));
    await first;
    await unsubscribe();

    expect(received.map((text) => JSON.parse(text))).toEqual([message('warning', 7)]);
  });
});
