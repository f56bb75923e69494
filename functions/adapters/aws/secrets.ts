import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * How long a warm function trusts a secret it read: after a rotation, new connections use the
 * new password within this time even without an authentication failure to prompt a re-read.
 */
export const SECRET_MAX_AGE_SECONDS = 300;

/** A secret's string value; `fresh` reads it again whatever the cache holds (after the server refused it). */
export type SecretReader = (secretId: string, options?: { readonly fresh?: boolean }) => Promise<string>;

/** Secrets Manager reads through Powertools Parameters, cached for `maxAgeSeconds` per secret. */
export function cachedSecrets(client: SecretsManagerClient, maxAgeSeconds: number = SECRET_MAX_AGE_SECONDS): SecretReader {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  return async (secretId, options = {}) => {
    const value = await provider.get(secretId, { maxAge: maxAgeSeconds, forceFetch: options.fresh === true });
    if (typeof value !== 'string') throw new Error(`secret ${secretId} has no string value`);
    return value;
  };
}
