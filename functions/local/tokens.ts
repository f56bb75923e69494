import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../handlers/http/roles';
import { hs256Verifier, signHs256, type BearerVerdict } from '../handlers/http/bearer';

/**
 * The local runtime's stand-in for API Gateway's JWT authorizer: HS256 tokens signed with a
 * secret kept in DATA_DIR, plus the admin development token. Claims come out in the shape API
 * Gateway hands to the handlers, so the handlers cannot tell the difference.
 */
export interface TokenAuthority {
  readonly devToken: string;
  verify(bearer: string): BearerVerdict;
  issue(role: Role, subject: string, ttlSeconds?: number): string;
}

function readOrCreate(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

export function localTokenAuthority(dataDir: string, devToken: string | undefined): TokenAuthority {
  mkdirSync(dataDir, { recursive: true });
  const secret = readOrCreate(join(dataDir, 'jwt-secret'), () => randomBytes(32).toString('hex'));
  // Hex, not base64url: one token in 64 of those began with '-', which a CLI's `--token <value>` takes for an option.
  const token = devToken ?? readOrCreate(join(dataDir, 'dev-token'), () => randomBytes(24).toString('hex'));
  const verifyJwt = hs256Verifier(secret);
  return {
    devToken: token,
    verify: (bearer) => (bearer === token ? { claims: { sub: 'dev', role: 'admin' } } : verifyJwt(bearer)),
    issue: (role, subject, ttlSeconds = 12 * 3600) => signHs256(secret, role, subject, ttlSeconds),
  };
}
