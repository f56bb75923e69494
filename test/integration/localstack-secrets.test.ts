import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManagerClient } from '../../functions/adapters/aws/clients';
import { cachedSecrets } from '../../functions/adapters/aws/secrets';
import { connectDatabase, functionUrlVerifier } from '../../functions/config/lambda';
import { signHs256 } from '../../functions/handlers/http/bearer';
import { describeWithServices, urls } from '../support/services';

/**
 * The LocalStack variant's functions read the database URL and the function URLs' token key from
 * Secrets Manager (lib/external-stores.ts), through the same cache as the AWS variant's secrets:
 * here against moto's Secrets Manager and the real PostgreSQL.
 */
describeWithServices(['moto', 'postgres'], 'LocalStack-variant secrets read from Secrets Manager', () => {
  const client = secretsManagerClient({ endpoint: urls.moto });
  const name = (what: string) => `ops15-${what}-${randomBytes(4).toString('hex')}`;
  const secretHolding = async (what: string, value: string) => (await client.send(new CreateSecretCommand({ Name: name(what), SecretString: value }))).ARN!;

  it('connects to PostgreSQL with the URL held by the secret', async () => {
    const url = new URL(urls.postgres);
    url.password = 'p@ss:word/with%symbols';
    const reads: boolean[] = [];
    const secrets = cachedSecrets(client);
    const db = await connectDatabase({
      env: { DATABASE_URL_SECRET_ARN: await secretHolding('database-url', url.toString()) },
      read: async (secretId, options) => (reads.push(options?.fresh === true), secrets(secretId, options)),
    });
    try {
      expect((await db.query<{ answer: number }>('SELECT 41 + 1 AS answer')).rows).toEqual([{ answer: 42 }]);
    } finally {
      await db.close();
    }
    // Once, for the URL: PostgreSQL here trusts local logins, so the pool never asks for the password.
    expect(reads).toEqual([false]);
  });

  it('passes the pool its own warnings to the logger it is given, so in Lambda they carry the request id', async () => {
    const warnings: string[] = [];
    const db = await connectDatabase({
      env: { DATABASE_URL_SECRET_ARN: await secretHolding('unreachable-url', 'postgres://postgres@127.0.0.1:1/test') },
      read: cachedSecrets(client),
      logger: { debug: () => undefined, info: () => undefined, warn: (message) => warnings.push(message), error: () => undefined },
    });
    try {
      await expect(db.query('SELECT 1')).rejects.toThrow();
    } finally {
      await db.close();
    }
    expect(warnings).toContain('PostgreSQL connection failed, retrying');
  }, 20_000);

  it('verifies bearer tokens with the key held by the secret, and a changed key once the cache lets go of the old one', async () => {
    const key = 'a-development-token-key-of-32-chars';
    const secretId = await secretHolding('token-key', key);
    let maxAgeOver = false;
    const secrets = cachedSecrets(client);
    const verify = functionUrlVerifier({ FUNCTION_URL_JWT_SECRET_ARN: secretId }, (id) => secrets(id, { fresh: maxAgeOver }))!;

    expect(await verify(signHs256(key, 'analyst', 'someone', 60))).toMatchObject({ claims: { role: 'analyst', sub: 'someone' } });
    expect(await verify(signHs256('another-key-nobody-was-given-here', 'admin', 'someone', 60))).toEqual({ rejected: 'bad_signature' });

    const newKey = 'a-new-development-token-key-32-chars';
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: newKey }));
    maxAgeOver = true;
    expect(await verify(signHs256(newKey, 'analyst', 'someone', 60))).toMatchObject({ claims: { role: 'analyst' } });
    expect(await verify(signHs256(key, 'analyst', 'someone', 60))).toEqual({ rejected: 'bad_signature' });
  });

  it('checks no token where the function sits behind API Gateway (no secret named)', () => {
    expect(functionUrlVerifier({})).toBeUndefined();
  });
});
