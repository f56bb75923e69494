import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import type { Role } from '../handlers/http/roles';

/**
 * The local runtime's stand-in for API Gateway's JWT authorizer: HS256 tokens signed with a
 * secret kept in DATA_DIR, plus the admin development token. Claims come out in the shape API
 * Gateway hands to the handlers, so the handlers cannot tell the difference.
 */
export interface TokenAuthority {
  readonly devToken: string;
  verify(bearer: string): Record<string, string> | undefined;
  issue(role: Role, subject: string, ttlSeconds?: number): string;
}

const ISSUER = 'therapeutic-analytics-local';

function readOrCreate(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

export function localTokenAuthority(dataDir: string, devToken: string | undefined): TokenAuthority {
  mkdirSync(dataDir, { recursive: true });
  const secret = readOrCreate(join(dataDir, 'jwt-secret'), () => randomBytes(32).toString('hex'));
  const token = devToken ?? readOrCreate(join(dataDir, 'dev-token'), () => randomBytes(24).toString('base64url'));
  return {
    devToken: token,
    verify(bearer) {
      if (bearer === token) return { sub: 'dev', role: 'admin' };
      try {
        const claims = jwt.verify(bearer, secret, { algorithms: ['HS256'], issuer: ISSUER });
        if (typeof claims !== 'object') return undefined;
        return Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, String(value)]));
      } catch {
        return undefined;
      }
    },
    issue(role, subject, ttlSeconds = 12 * 3600) {
      return jwt.sign({ role }, secret, { algorithm: 'HS256', issuer: ISSUER, subject, expiresIn: ttlSeconds });
    },
  };
}
