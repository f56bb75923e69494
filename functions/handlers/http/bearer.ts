import jwt from 'jsonwebtoken';
import type { Role } from './roles';

/**
 * HS256 bearer tokens for the places with no API Gateway JWT authorizer in front of the
 * handlers: the local runtime and the LocalStack variant's function URLs. Claims come out as API
 * Gateway passes them (strings).
 */
export type BearerVerifier = (token: string) => BearerVerdict | Promise<BearerVerdict>;

/** Why a request was not authenticated: enough for a caller to fix it, nothing about the key or its claims. */
export type BearerRejection = 'missing' | 'malformed' | 'expired' | 'bad_signature' | 'not_accepted';

export type BearerVerdict = { readonly claims: Record<string, string> } | { readonly rejected: Exclude<BearerRejection, 'missing'> };

const REJECTION_MESSAGES: Readonly<Record<BearerRejection, string>> = {
  missing: 'a bearer token is required: send Authorization: Bearer <token>',
  malformed: 'the bearer token is not a well-formed JWT',
  expired: 'the bearer token has expired: get a new one',
  bad_signature: 'the bearer token is not signed by this API',
  not_accepted: 'the bearer token is not one this API accepts (issuer, audience or validity window)',
};

/** The 401 answer's body fields for a rejection; the reason goes in `details`. */
export function unauthorized(reason: BearerRejection): { code: 'unauthorized'; message: string; details: { reason: BearerRejection } } {
  return { code: 'unauthorized', message: REJECTION_MESSAGES[reason], details: { reason } };
}

/** jsonwebtoken's failure as a rejection: by error class and its fixed messages, never its text to the caller. */
function rejectionOf(error: unknown): Exclude<BearerRejection, 'missing'> {
  if (error instanceof jwt.TokenExpiredError) return 'expired';
  if (error instanceof jwt.NotBeforeError) return 'not_accepted';
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return 'bad_signature';
  if (/^jwt (malformed|must be a string|must be provided)$|^invalid token$|^jwt signature is required$/.test(message)) return 'malformed';
  return 'not_accepted';
}

const ISSUER = 'therapeutic-analytics-local';

/** The token of an `Authorization: Bearer …` header, if that is what the header holds. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
}

export function hs256Verifier(secret: string): (token: string) => BearerVerdict {
  return (token) => {
    try {
      const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: ISSUER });
      if (typeof claims !== 'object') return { rejected: 'malformed' };
      return { claims: Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, String(value)])) };
    } catch (error) {
      return { rejected: rejectionOf(error) };
    }
  };
}

export function signHs256(secret: string, role: Role, subject: string, ttlSeconds: number): string {
  return jwt.sign({ role }, secret, { algorithm: 'HS256', issuer: ISSUER, subject, expiresIn: ttlSeconds });
}
