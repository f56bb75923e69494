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
import type { MirroredTrust } from '../use-cases/mirror-jwks';

/**
 * Whose tokens are accepted, as the HTTP API's JWT authorizer accepts them: the stack's user pool
 * (the audience is then its clients: an id token's `aud` or an access token's `client_id`), or an
 * external issuer (its `aud`).
 */
export type TokenIssuer = { readonly userPoolId: string } | { readonly issuer: string };

type Verify = (token: string) => Record<string, unknown>;

/** A verifier of the issuer's tokens for the trust's audience, holding the trust's keys only. */
function verifierOf(issuer: TokenIssuer, trust: MirroredTrust): Verify {
  const jwks = trust.jwks as Parameters<typeof assertIsJwks>[0];
  assertIsJwks(jwks);
  if ('userPoolId' in issuer) {
    const verifier = CognitoJwtVerifier.create({ userPoolId: issuer.userPoolId, clientId: [...trust.audience], tokenUse: null });
    verifier.cacheJwks(jwks);
    return (token) => verifier.verifySync(token);
  }
  const verifier = JwtRsaVerifier.create({ issuer: issuer.issuer, audience: [...trust.audience] });
  verifier.cacheJwks(jwks);
  return (token) => verifier.verifySync(token);
}

/**
 * Bearer tokens verified with aws-jwt-verify against the keys and audience that `trust` reads (a
 * mirror, MirroredTrust as JSON), never fetched from the issuer: the function that verifies them
 * runs in isolated subnets, which reach no issuer. An unknown key id is refused as a bad signature
 * until the mirror holds it.
 */
export function mirroredJwksVerifier(issuer: TokenIssuer, trust: () => Promise<string>): BearerVerifier {
  let cached: { readonly text: string; readonly verify: Verify } | undefined;
  return async (token): Promise<BearerVerdict> => {
    const text = await trust();
    if (text !== cached?.text) cached = { text, verify: verifierOf(issuer, JSON.parse(text) as MirroredTrust) };
    try {
      return { claims: claimsAsStrings(cached.verify(token)) };
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
