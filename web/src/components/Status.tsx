import type { ReactNode } from 'react';
import { ApiError } from '../api';
import type { Loaded } from '../hooks';

/**
 * What a view shows while its data loads or when it failed. A route the API does not have yet
 * (404 not_found) is a capability that has not landed: the view says so instead of breaking.
 */
export function Status<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ReactNode }) {
  if (loaded.state === 'loading') return <p className="notice" aria-live="polite">Loading…</p>;
  if (loaded.state === 'failed') return <Failure error={loaded.error} />;
  return <>{children(loaded.value)}</>;
}

export function Failure({ error }: { error: Error }) {
  if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') {
    return <p className="notice">This part of the product has not been built yet.</p>;
  }
  return (
    <p role="alert" className="error">
      {error instanceof ApiError ? `${error.message} (${error.status})` : error.message}
    </p>
  );
}

/** Withheld points are gaps, never zeros: this says why a series has them. */
export function Suppressed({ withheld }: { withheld: boolean }) {
  if (!withheld) return null;
  return (
    <p className="suppressed">
      <span className="badge">suppressed</span> Some points were withheld (fewer than k people): they are gaps, not zeros.
    </p>
  );
}
