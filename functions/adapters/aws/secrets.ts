import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A secret's string value; read once per cold start by the callers. */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (output.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return output.SecretString;
}
