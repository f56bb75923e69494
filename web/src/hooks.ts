import { useCallback, useEffect, useState } from 'react';
import { api } from './api';
import { useSession } from './session';

export type Loaded<T> = { state: 'loading' } | { state: 'failed'; error: Error } | { state: 'ready'; value: T };

/**
 * A GET through the API with the session's token, read again whenever `path` changes or
 * `reload` is called; null reads nothing (a form not yet filled in).
 */
export function useApiGet<T>(path: string | null): [Loaded<T>, () => void] {
  const { token } = useSession();
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (path === null) return undefined;
    let current = true;
    setLoaded({ state: 'loading' });
    api<T>(token, 'GET', path)
      .then((value) => current && setLoaded({ state: 'ready', value }))
      .catch((error: unknown) => current && setLoaded({ state: 'failed', error: error instanceof Error ? error : new Error(String(error)) }));
    return () => {
      current = false;
    };
  }, [token, path, generation]);
  return [loaded, useCallback(() => setGeneration((value) => value + 1), [])];
}

/**
 * A change through the API, as every form and button of the views makes one: `act(work, then)`
 * calls `then` with the answer and clears the failure shown, or keeps the failure to show.
 */
export function useAction(): { error: Error | undefined; setError: (error: Error | undefined) => void; act: <T>(work: Promise<T>, then: (value: T) => void) => void } {
  const [error, setError] = useState<Error>();
  const act = useCallback(<T,>(work: Promise<T>, then: (value: T) => void): void => {
    void work.then(
      (value) => {
        setError(undefined);
        then(value);
      },
      (failure: Error) => setError(failure),
    );
  }, []);
  return { error, setError, act };
}
