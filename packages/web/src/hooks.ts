/** Small hooks for the two shapes of work a page does: load something, and act on something. */
import { useCallback, useEffect, useState, type DependencyList } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replaces the loaded value locally, e.g. after an action answered with the new version. */
  setData: (update: (previous: T | undefined) => T | undefined) => void;
}

/** Runs `load` when the page mounts and whenever `deps` change; an outdated answer is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [data, setDataState] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let current = true;
    setLoading(true);
    void (async () => {
      try {
        const value = await load();
        if (!current) return;
        setDataState(value);
        setError(undefined);
      } catch (failure) {
        if (current) setError(failure);
      } finally {
        if (current) setLoading(false);
      }
    })();
    return () => {
      current = false;
    };
    // `load` is a fresh closure on every render; `deps` say when it means something new.
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const setData = useCallback(
    (update: (previous: T | undefined) => T | undefined) => setDataState(update),
    [],
  );
  return { data, error, loading, reload, setData };
}

export interface Action {
  busy: boolean;
  error: unknown;
  clearError: () => void;
  /** Runs `work` unless another run is under way; a failure is kept in `error`, not thrown. */
  run: <T>(work: () => Promise<T>) => Promise<{ ok: true; value: T } | { ok: false }>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async <T>(work: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    try {
      return { ok: true as const, value: await work() };
    } catch (failure) {
      setError(failure);
      return { ok: false as const };
    } finally {
      setBusy(false);
    }
  }, []);
  const clearError = useCallback(() => setError(undefined), []);
  return { busy, error, clearError, run };
}
