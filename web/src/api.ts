/** The API as the web app calls it: same origin, a bearer token, errors in the API's envelope. */

export const ROLES = ['admin', 'analyst', 'clinician', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export interface Session {
  readonly token: string;
  readonly role: Role;
  readonly subject: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'tta.token';

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const storeToken = (token: string | null): void => (token === null ? sessionStorage.removeItem(TOKEN_KEY) : sessionStorage.setItem(TOKEN_KEY, token));

const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * The role a JWT names, read as the API reads it (role, custom:role, then cognito:groups); the
 * API checks the signature, the app only decides what to show. Undefined for an opaque token.
 */
export function claimsOf(token: string): { role: Role; subject: string } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]) : [];
    const role = [claims['role'], claims['custom:role'], ...groups].find(isRole);
    return role ? { role, subject: typeof claims['sub'] === 'string' ? claims['sub'] : '' } : undefined;
  } catch {
    return undefined;
  }
}

export async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? `${response.status} ${response.statusText}`, error?.details);
  }
  return json as T;
}

/** A query string of the defined values only. */
export function queryString(params: Readonly<Record<string, string | number | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface MetricPoint {
  t: string;
  count: number;
  users: number;
  sum?: number;
  mean?: number;
  p50?: number;
  p95?: number;
}

export interface MetricAnswer {
  metric: string;
  interval: string;
  timeZone: string;
  from: string;
  to: string;
  groupBy: string[];
  filter?: Record<string, string[]>;
  series: { group: Record<string, string>; points: MetricPoint[] }[];
  suppressed: { reason: string }[];
}

export interface CatalogueEntry {
  name: string;
  kind: 'counter' | 'distribution' | 'distinct';
  unit: string;
  description: string;
  dimensions: string[];
}

export interface AlertView {
  id: string;
  rule: string;
  severity: string;
  status: string;
  subject: string;
  summary: string;
  startsAt: string;
  acknowledgedAt?: string;
  unassigned?: true;
  notifications?: { kind: string; channel: string; status: string }[];
}
