import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../functions/adapters/aws/clients';
import { recreateLostResource } from '../../functions/adapters/aws/recreate-lost-resource';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';
import { startPrivateMoto, type PrivateMoto } from '../support/moto';
import { describeWithServices } from '../support/services';

const silent = { warn: () => undefined, error: () => undefined };

/** The emulated mode's clients, when a restarted emulator has forgotten their resource. */
describeWithServices(
  ['moto'],
  'recreating a resource the emulator lost',
  () => {
    let moto: PrivateMoto;

    beforeAll(async () => {
      moto = await startPrivateMoto();
    });
    afterAll(async () => {
      await moto?.stop();
    });

    it('recreates the resource once for calls that fail together, and sends each of them again', async () => {
      // Prepare
      const endpoint = { endpoint: moto.endpoint };
      const queueUrl = await ensureQueue(sqsClient(endpoint), 'letters');
      let recreations = 0;
      const sqs = sqsClient(endpoint);
      sqs.middlewareStack.use(
        recreateLostResource({
          resource: 'sqs queue letters',
          lostWhen: ['QueueDoesNotExist'],
          recreate: async () => {
            recreations += 1;
            await ensureQueue(sqsClient(endpoint), 'letters');
          },
          logger: silent,
        }),
      );
      await moto.restart();

      // Act
      const sent = await Promise.all(Array.from({ length: 8 }, (_, index) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `letter ${index}` }))));

      // Assess
      expect(sent.every((answer) => typeof answer.MessageId === 'string')).toBe(true);
      expect(recreations).toBe(1);
      expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'letters' }))).QueueUrl).toBe(queueUrl);
    });

    it('recreates again after a second loss', async () => {
      // Prepare
      const endpoint = { endpoint: moto.endpoint };
      const queueUrl = await ensureQueue(sqsClient(endpoint), 'twice');
      let recreations = 0;
      const sqs = sqsClient(endpoint);
      sqs.middlewareStack.use(
        recreateLostResource({
          resource: 'sqs queue twice',
          lostWhen: ['QueueDoesNotExist'],
          recreate: async () => {
            recreations += 1;
            await ensureQueue(sqsClient(endpoint), 'twice');
          },
          logger: silent,
        }),
      );

      // Act
      await moto.restart();
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'one' }));
      await moto.restart();
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'two' }));

      // Assess
      expect(recreations).toBe(2);
    });

    it('fails the call when a recreation fails, and recreates on the next call', async () => {
      // Prepare: the first recreation fails, as against an emulator still starting
      const endpoint = { endpoint: moto.endpoint };
      const queueUrl = await ensureQueue(sqsClient(endpoint), 'retried');
      let recreations = 0;
      const sqs = sqsClient(endpoint);
      sqs.middlewareStack.use(
        recreateLostResource({
          resource: 'sqs queue retried',
          lostWhen: ['QueueDoesNotExist'],
          recreate: async () => {
            recreations += 1;
            if (recreations === 1) throw new Error('the emulator is still starting');
            await ensureQueue(sqsClient(endpoint), 'retried');
          },
          logger: silent,
        }),
      );
      await moto.restart();

      // Act
      const first = sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'first' }));
      await expect(first).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
      const second = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'second' }));

      // Assess
      expect(typeof second.MessageId).toBe('string');
      expect(recreations).toBe(2);
    });

    it('fails a call as it would have when the recreation does not finish in time', async () => {
      // Prepare: a recreation that never ends, as an emulator that hangs
      const endpoint = { endpoint: moto.endpoint };
      const queueUrl = await ensureQueue(sqsClient(endpoint), 'stuck');
      const sqs = sqsClient(endpoint);
      sqs.middlewareStack.use(
        recreateLostResource({ resource: 'sqs queue stuck', lostWhen: ['QueueDoesNotExist'], recreate: () => new Promise<void>(() => undefined), maxWaitMs: 200, logger: silent }),
      );
      await moto.restart();

      // Act
      const lost = sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'lost' }));

      // Assess
      await expect(lost).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    });
  },
  { commands: ['moto_server'] },
);
