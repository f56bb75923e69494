/**
 * Sign-in on the user pool's hosted pages (AWS): the authorization-code flow with PKCE of a public
 * client, as `config.json` describes it (lib/web-hosting.ts, WebAppConfig). The verifier and state
 * live in the tab's sessionStorage between leaving for the hosted pages and coming back.
 */
export interface HostedSignIn {
  readonly kind: 'cognito';
  readonly clientId: string;
  /** The hosted pages' base URL: `/oauth2/authorize` and `/oauth2/token` are under it. */
  readonly domain: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
}

export interface AppConfig {
  readonly apiBase: string;
  readonly auth: HostedSignIn | { readonly kind: 'token' };
}

const PENDING_KEY = 'tta.sign-in';

const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomText = (bytes: number): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/** RFC 7636's S256: the challenge the hosted pages keep until the verifier comes back with the code. */
export async function challengeOf(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** Where to send the browser to sign in; the verifier and state are kept for the way back. */
export async function authorizeUrl(config: HostedSignIn): Promise<string> {
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  const url = new URL('/oauth2/authorize', config.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scopes.join(' '),
    state,
    code_challenge_method: 'S256',
    code_challenge: await challengeOf(verifier),
  }).toString();
  return url.toString();
}

/**
 * Back from the hosted pages with `?code&state`: the access token for that code, or undefined
 * when the address holds no sign-in answer. A state that is not the one sent is refused.
 */
export async function completeSignIn(config: HostedSignIn, location: URL): Promise<string | undefined> {
  const code = location.searchParams.get('code');
  if (!code) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || pending.state !== location.searchParams.get('state')) throw new Error('This sign-in answer was not asked for here: sign in again.');
  const response = await fetch(new URL('/oauth2/token', config.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: config.redirectUri, code_verifier: pending.verifier }),
  });
  if (!response.ok) throw new Error(`The sign-in was not completed (${response.status}): sign in again.`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function readConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json');
  return response.ok ? ((await response.json()) as AppConfig) : { apiBase: '', auth: { kind: 'token' } };
}
