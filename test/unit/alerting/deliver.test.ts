import type { AlertMessage, Channel } from '../../../functions/domain/alerting/model';
import type { NotificationChannel } from '../../../functions/ports/notifications';
import type { Logger } from '../../../functions/adapters/log';
import { makeDeliver, type DeliverDeps } from '../../../functions/use-cases/deliver';

const NOW = new Date('2026-11-20T10:00:00Z');
const MESSAGE: AlertMessage = {
  kind: 'firing',
  severity: 'critical',
  groupKey: 'rule=crisis-signal',
  alerts: [{ id: 'a1', rule: 'crisis-signal', subject: `user:${'b'.repeat(64)}`, startsAt: NOW.toISOString(), summary: 'crisis signal' }],
  dashboardUrl: 'https://dashboard.example.org/alerts/a1',
};

/** A channel that fails its first `failures` sends, then accepts; it records what it was sent. */
class ScriptedChannel implements NotificationChannel {
  readonly sent: AlertMessage[] = [];
  calls = 0;
  constructor(
    readonly channel: Channel,
    private failures: number,
    private readonly onSend: () => Promise<void> = async () => {},
  ) {}
  async send(message: AlertMessage): Promise<void> {
    this.calls += 1;
    await this.onSend();
    if (this.failures > 0) {
      this.failures -= 1;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      throw error;
    }
    this.sent.push(message);
  }
}

function harness(channels: NotificationChannel[], overrides: Partial<DeliverDeps> = {}) {
  const sleeps: number[] = [];
  const lines: { level: string; message: string; fields?: object }[] = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
  const deliver = makeDeliver({
    channels,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    clock: { now: () => NOW },
    random: () => 1,
    logger,
    ...overrides,
  });
  return { deliver, sleeps, lines };
}

describe('deliver', () => {
  it('sends once on each requested channel and reports each delivered', async () => {
    const sns = new ScriptedChannel('sns', 0);
    const dashboard = new ScriptedChannel('dashboard', 0);
    const { deliver, sleeps } = harness([sns, dashboard]);

    const outcomes = await deliver(MESSAGE, ['sns', 'dashboard']);

    expect(outcomes).toEqual([
      { channel: 'sns', status: 'delivered', attempts: 1, at: NOW },
      { channel: 'dashboard', status: 'delivered', attempts: 1, at: NOW },
    ]);
    expect(sns.sent).toEqual([MESSAGE]);
    expect(dashboard.sent).toEqual([MESSAGE]);
    expect(sleeps).toEqual([]);
  });

  it('retries a failed send with exponential backoff until it is accepted', async () => {
    const sns = new ScriptedChannel('sns', 2);
    const { deliver, sleeps } = harness([sns]);

    const [outcome] = await deliver(MESSAGE, ['sns']);

    expect(outcome).toEqual({ channel: 'sns', status: 'delivered', attempts: 3, at: NOW });
    expect(sleeps).toEqual([200, 400]);
  });

  it('draws each wait with full jitter and caps it', async () => {
    const draws = [0.5, 0.25, 1, 1, 1];
    const { deliver, sleeps } = harness([new ScriptedChannel('sns', 10)], {
      attempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 500,
      random: () => draws.shift() ?? 1,
    });

    await deliver(MESSAGE, ['sns']);

    expect(sleeps).toEqual([50, 50, 400, 500, 500]);
  });

  it('reports undelivered after the last attempt with the error class, never the payload', async () => {
    const email = new ScriptedChannel('email', 99);
    const { deliver, lines } = harness([email], { attempts: 3 });

    const [outcome] = await deliver(MESSAGE, ['email']);

    expect(email.calls).toBe(3);
    expect(outcome).toMatchObject({ channel: 'email', status: 'undelivered', attempts: 3, at: NOW });
    expect(outcome!.error).toBe('ThrottlingException: Rate exceeded');
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(MESSAGE.alerts[0]!.subject);
  });

  it('sends on every channel at once: a slow or failing channel holds up no other', async () => {
    let releaseEmail: () => void = () => {};
    const emailGate = new Promise<void>((resolve) => {
      releaseEmail = resolve;
    });
    const email = new ScriptedChannel('email', 0, () => emailGate);
    const sns = new ScriptedChannel('sns', 0);
    const { deliver } = harness([email, sns]);

    const pending = deliver(MESSAGE, ['email', 'sns']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sns.sent).toHaveLength(1);
    expect(email.sent).toHaveLength(0);
    releaseEmail();

    expect((await pending).map((outcome) => outcome.status)).toEqual(['delivered', 'delivered']);
  });

  it('keeps the other channels delivered when one is undelivered', async () => {
    const { deliver } = harness([new ScriptedChannel('sns', 99), new ScriptedChannel('dashboard', 0)], { attempts: 2 });

    const outcomes = await deliver(MESSAGE, ['sns', 'dashboard']);

    expect(outcomes.map(({ channel, status }) => [channel, status])).toEqual([
      ['sns', 'undelivered'],
      ['dashboard', 'delivered'],
    ]);
  });

  it('reports a requested channel that is not configured as undelivered, without trying', async () => {
    const { deliver } = harness([new ScriptedChannel('dashboard', 0)]);

    const outcomes = await deliver(MESSAGE, ['email', 'dashboard']);

    expect(outcomes[0]).toEqual({ channel: 'email', status: 'undelivered', attempts: 0, at: NOW, error: 'no email channel is configured in this deployment' });
    expect(outcomes[1]).toMatchObject({ channel: 'dashboard', status: 'delivered' });
  });

  it('sends once on a channel requested twice', async () => {
    const sns = new ScriptedChannel('sns', 0);
    const { deliver } = harness([sns]);

    expect(await deliver(MESSAGE, ['sns', 'sns'])).toHaveLength(1);
    expect(sns.calls).toBe(1);
  });

  it('refuses two adapters for one channel and a non-positive attempt count', () => {
    expect(() => harness([new ScriptedChannel('sns', 0), new ScriptedChannel('sns', 0)])).toThrow(/two notification channels for sns/);
    expect(() => harness([], { attempts: 0 })).toThrow(/attempts/);
  });
});
