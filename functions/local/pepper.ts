import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded mode's pseudonymisation pepper: made once and kept in DATA_DIR (readable by its
 * owner only), so pseudonyms stay stable across restarts as they do with Secrets Manager in AWS.
 */
export function localPepper(dataDir: string, fromEnv: string | undefined): Uint8Array {
  if (fromEnv !== undefined) return Buffer.from(fromEnv, 'hex');
  return dataDirSecret(dataDir, 'pepper');
}

/** A random 32-byte secret made once in a file of the data folder (readable by its owner only) and read from it after. */
export function dataDirSecret(dataDir: string, name: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, name);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600 });
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
}
