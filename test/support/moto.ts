/** Reading back what the code sent to moto (its model dump, SNS topics tapped by SQS queues), and a moto of a suite's own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';

/** What moto keeps of its models: `GET /moto-api/data.json`, by service and model name. */
export async function motoData(endpoint: string, service: string, model: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  const data = (await response.json()) as Record<string, Record<string, Record<string, unknown>[]>>;
  return data[service]?.[model] ?? [];
}

/** The SNS envelope a subscribed queue receives: `Timestamp` is when SNS accepted the Publish. */
export interface SnsEnvelope {
  readonly Subject: string;
  readonly Message: string;
  readonly Timestamp: string;
}

export interface TopicTap {
  /** Up to 10 messages that arrived (and takes them off the queue), waiting at most `waitSeconds` for the first. */
  receive(waitSeconds?: number): Promise<SnsEnvelope[]>;
  close(): Promise<void>;
}

/** A queue subscribed to the topic: every message published there can be read back. */
export async function tapTopic(sns: SNSClient, sqs: SQSClient, topicArn: string, queueName: string): Promise<TopicTap> {
  const queueUrl = await ensureQueue(sqs, queueName);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
  return {
    async receive(waitSeconds = 1) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }));
      // Taken off the queue: a message left there comes back after the visibility timeout (30 s), as if sent again.
      if (Messages.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle! })) }));
      return Messages.map((m) => JSON.parse(m.Body!) as SnsEnvelope);
    },
    async close() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    },
  };
}

export interface PrivateMoto {
  readonly endpoint: string;
  /** Stops the server and starts an empty one on the same port: the emulator restart a developer sees. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A moto server of the suite's own on a free port, for tests that restart or stop the emulator:
 * the shared one on :5000 serves other suites at the same time. Needs `moto_server` on PATH
 * (describeWithServices(..., { commands: ['moto_server'] })).
 */
export async function startPrivateMoto(): Promise<PrivateMoto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let server: ChildProcess;
  const start = async () => {
    // Its own process group, so stopping it also stops whatever a launcher (a pyenv shim) started.
    server = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: true });
    for (let waited = 0; ; waited += 100) {
      if (server.exitCode !== null) throw new Error(`moto_server on port ${port} exited with ${server.exitCode}`);
      const answered = await fetch(`${endpoint}/moto-api/`).then((response) => response.ok, () => false);
      if (answered) return;
      if (waited > 30_000) throw new Error(`moto_server on port ${port} did not answer within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const stop = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    process.kill(-server.pid!, 'SIGTERM');
    await exited;
  };
  await start();
  return {
    endpoint,
    async restart() {
      await stop();
      await start();
    },
    stop,
  };
}
