import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Pool } from 'pg';
import { SECRET_MAX_AGE_SECONDS, cachedSecrets } from '../../../functions/adapters/aws/secrets';
import { postgresDatabase } from '../../../functions/adapters/pg/database';
import { StoreUnavailableError } from '../../../functions/ports/unavailable';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:1:secret:database';

describe('secrets read through the cache', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  let now = Date.UTC(2026, 0, 1);
  const setClock = () => jest.setSystemTime(now);

  beforeEach(() => {
    secretsManager.reset();
    // The clock only: the SDK's own timers run as usual.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask'] });
    setClock();
  });
  afterEach(() => jest.useRealTimers());

  it('reads a secret once within its max age and again after it', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'before rotation' }).resolves({ SecretString: 'after rotation' });
    const read = cachedSecrets(new SecretsManagerClient({ region: 'eu-west-1' }));
    expect(await read(SECRET)).toBe('before rotation');
    now += (SECRET_MAX_AGE_SECONDS - 1) * 1000;
    setClock();
    expect(await read(SECRET)).toBe('before rotation');
    now += 2000;
    setClock();
    expect(await read(SECRET)).toBe('after rotation');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads it again when asked for a fresh value, whatever its age', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'before rotation' }).resolves({ SecretString: 'after rotation' });
    const read = cachedSecrets(new SecretsManagerClient({ region: 'eu-west-1' }));
    await read(SECRET);
    expect(await read(SECRET, { fresh: true })).toBe('after rotation');
    expect(await read(SECRET)).toBe('after rotation');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

/**
 * PostgreSQL here trusts every local login, so a server that checks passwords is played by
 * Pool.connect: it asks for the password as pg does for each new connection.
 */
describe('a PostgreSQL login refused after a rotation', () => {
  const client = { on: () => undefined, off: () => undefined, release: () => undefined, query: async () => ({ rows: [{ ok: 1 }] }) };

  function serverAccepting(accepted: string) {
    jest.spyOn(Pool.prototype, 'connect').mockImplementation(async function (this: Pool & { options: { password: () => Promise<string> } }) {
      if ((await this.options.password()) !== accepted) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
      return client;
    } as never);
  }
  afterEach(() => jest.restoreAllMocks());

  it('reads the password again, fresh, and connects with the new one', async () => {
    serverAccepting('new');
    const reads: boolean[] = [];
    const db = postgresDatabase('postgres://analytics_admin@proxy:5432/analytics', { password: async (fresh) => (reads.push(fresh), fresh ? 'new' : 'old'), backoffBaseMs: 1 });
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect(reads).toEqual([false, true]);
    await db.close();
  });

  it('re-reads it only once while opening a connection, then fails as for any refused connection', async () => {
    serverAccepting('newer still');
    const reads: boolean[] = [];
    const db = postgresDatabase('postgres://analytics_admin@proxy:5432/analytics', { password: async (fresh) => (reads.push(fresh), 'new'), connectAttempts: 3, backoffBaseMs: 1, logger: { warn: () => undefined } });
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(reads).toEqual([false, true, false]);
    await db.close();
  });
});
