import { assertIsJwks } from 'aws-jwt-verify/jwk';

/** Reads JSON from an https URL (an issuer's discovery document, its key set). */
export type FetchJson = (url: string) => Promise<unknown>;

export interface MirrorJwksDeps {
  /** The token issuer, as the HTTP API's authorizer names it. */
  readonly issuer: string;
  /** The clients or audiences the API accepts tokens of. */
  readonly audience: readonly string[];
  readonly fetchJson: FetchJson;
  /** Keeps the trust (MirroredTrust, as JSON) where the live function reads it. */
  readonly keep: (trust: string) => Promise<void>;
}

/**
 * What the live function trusts: the issuer's keys, and the audience the API accepts. The
 * audience travels here rather than in the function's environment because it names the web
 * app's sign-in client, which needs the distribution, which needs the function's URL: the
 * function cannot wait for it.
 */
export interface MirroredTrust {
  readonly audience: readonly string[];
  readonly jwks: unknown;
}

/**
 * Copies an issuer's signing keys, with the accepted audience, to where the live function reads them: that function runs in
 * isolated subnets, which reach no issuer. The keys are found as the HTTP API's JWT authorizer
 * finds them, through the issuer's OpenID discovery document, so a rotated key reaches both.
 */
export function makeMirrorJwks(deps: MirrorJwksDeps): () => Promise<{ readonly keys: number }> {
  return async () => {
    const issuer = deps.issuer.replace(/\/$/, '');
    const discovery = (await deps.fetchJson(`${issuer}/.well-known/openid-configuration`)) as { issuer?: unknown; jwks_uri?: unknown } | null;
    // OpenID discovery: a document that names another issuer is not this issuer's.
    if (discovery?.issuer !== deps.issuer && discovery?.issuer !== issuer) throw new Error(`the discovery document of ${issuer} names another issuer`);
    if (typeof discovery.jwks_uri !== 'string' || !discovery.jwks_uri.startsWith('https://')) throw new Error(`the discovery document of ${issuer} names no https jwks_uri`);
    const jwks = (await deps.fetchJson(discovery.jwks_uri)) as Parameters<typeof assertIsJwks>[0];
    assertIsJwks(jwks);
    const trust: MirroredTrust = { audience: deps.audience, jwks };
    await deps.keep(JSON.stringify(trust));
    return { keys: jwks.keys.length };
  };
}
