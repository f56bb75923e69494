import jwt from 'jsonwebtoken';
import type { Role } from './roles';

/**
 * HS256 bearer tokens for the places with no API Gateway JWT authorizer in front of the
 * handlers: the local runtime and the LocalStack variant's function URLs. Claims come out as API
 * Gateway passes them (strings).
 */
export type BearerVerifier = (token: string) => Record<string, string> | undefined;

const ISSUER = 'therapeutic-analytics-local';

/** The token of an `Authorization: Bearer …` header, if that is what the header holds. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
}

export function hs256Verifier(secret: string): BearerVerifier {
  return (token) => {
    try {
      const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: ISSUER });
      if (typeof claims !== 'object') return undefined;
      return Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, String(value)]));
    } catch {
      return undefined;
    }
  };
}

export function signHs256(secret: string, role: Role, subject: string, ttlSeconds: number): string {
  return jwt.sign({ role }, secret, { algorithm: 'HS256', issuer: ISSUER, subject, expiresIn: ttlSeconds });
}
