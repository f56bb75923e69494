import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import {
  FailedAssertionError,
  JwtExpiredError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { assertIsJwks } from 'aws-jwt-verify/jwk';
import type { BearerRejection, BearerVerdict, BearerVerifier } from '../handlers/http/bearer';

/**
 * Whose tokens are accepted, as the HTTP API's JWT authorizer accepts them: the stack's user pool
 * with its clients (an id token's `aud` or an access token's `client_id`), or an external issuer
 * with its audience (`aud`).
 */
export type TokenIssuer = { readonly userPoolId: string; readonly clientIds: readonly string[] } | { readonly issuer: string; readonly audience: readonly string[] };

/**
 * Bearer tokens verified with aws-jwt-verify against a JWKS that `jwks` reads (a mirror), never
 * fetched from the issuer: the function that verifies them runs in isolated subnets, which reach
 * no issuer. An unknown key id is refused as a bad signature until the mirror holds it.
 */
export function mirroredJwksVerifier(trusted: TokenIssuer, jwks: () => Promise<string>): BearerVerifier {
  const verifier =
    'userPoolId' in trusted
      ? CognitoJwtVerifier.create({ userPoolId: trusted.userPoolId, clientId: [...trusted.clientIds], tokenUse: null })
      : JwtRsaVerifier.create({ issuer: trusted.issuer, audience: [...trusted.audience] });
  let cached: string | undefined;
  return async (token): Promise<BearerVerdict> => {
    const current = await jwks();
    if (current !== cached) {
      const parsed = JSON.parse(current) as Parameters<typeof assertIsJwks>[0];
      assertIsJwks(parsed);
      verifier.cacheJwks(parsed);
      cached = current;
    }
    try {
      return { claims: claimsAsStrings(verifier.verifySync(token)) };
    } catch (error) {
      const rejected = rejectionOf(error);
      if (rejected === undefined) throw error;
      return { rejected };
    }
  };
}

/** The verifier's failure as the API's rejection reasons; anything else (no keys at all) is the server's fault, thrown. */
function rejectionOf(error: unknown): Exclude<BearerRejection, 'missing'> | undefined {
  if (error instanceof JwtExpiredError) return 'expired';
  if (error instanceof JwtParseError || error instanceof JwtWithoutValidKidError) return 'malformed';
  if (error instanceof JwtInvalidSignatureError || error instanceof JwtInvalidSignatureAlgorithmError || error instanceof KidNotFoundInJwksError) return 'bad_signature';
  // Issuer, audience, client id, token use, not-before.
  if (error instanceof FailedAssertionError) return 'not_accepted';
  return undefined;
}

/** As API Gateway passes claims: strings, an array as `[a b]` (roleFromClaims reads Cognito groups either way). */
function claimsAsStrings(payload: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, Array.isArray(value) ? `[${value.join(' ')}]` : String(value)]));
}
