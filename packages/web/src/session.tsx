/**
 * What the console knows about the current session. The server is the only authority: the
 * state is re-read on every navigation and whenever a request is refused for lack of one, so a
 * session revoked elsewhere lands on the sign-in page.
 */
import type { SessionState } from '@rempart/core';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { api, onAuthSignal, rememberSession } from './api';
import { usePath } from './router';

/** A one-off message shown on the sign-in page. */
export type SessionNotice = 'sessionEnded' | 'signedOut';

export interface SessionContextValue {
  /** Undefined until the first answer from the server. */
  state: SessionState | undefined;
  /** Set when the first reading of the session failed (the server is unreachable, say). */
  loadError: unknown;
  notice: SessionNotice | undefined;
  clearNotice: () => void;
  /** Asks the server again. */
  refresh: () => Promise<SessionState | undefined>;
  /** Takes a session the server just described (a sign-in step's answer). */
  accept: (state: SessionState) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside of SessionProvider');
  return value;
}

/** The session of a page that requires a complete sign-in (the router guarantees it). */
export function useFullSession(): Extract<SessionState, { authenticated: true }> {
  const { state } = useSession();
  if (!state?.authenticated) throw new Error('useFullSession without a session');
  return state;
}

const same = (a: SessionState | undefined, b: SessionState): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState | undefined>();
  const [loadError, setLoadError] = useState<unknown>();
  const [notice, setNotice] = useState<SessionNotice | undefined>();
  const current = useRef<SessionState | undefined>(undefined);
  // Each change of session bumps the generation, so an older answer cannot overwrite a newer one.
  const generation = useRef(0);
  const path = usePath();

  const apply = useCallback((next: SessionState) => {
    rememberSession(next);
    if (same(current.current, next)) return;
    current.current = next;
    setState(next);
  }, []);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const next = await api.session();
      if (mine !== generation.current) return current.current;
      setLoadError(undefined);
      // Ended under our eyes, or found ended when the page loaded (the server says so once).
      if (!next.authenticated && (current.current?.authenticated || next.ended)) setNotice('sessionEnded');
      apply(next);
      return next;
    } catch (error) {
      if (mine === generation.current && current.current === undefined) setLoadError(error);
      return current.current;
    }
  }, [apply]);

  const accept = useCallback(
    (next: SessionState) => {
      generation.current += 1;
      setNotice(undefined);
      apply(next);
    },
    [apply],
  );

  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } finally {
      generation.current += 1;
      apply({ authenticated: false });
      setNotice('signedOut');
    }
  }, [apply]);

  // Re-read on every navigation: cheap, and the only way to notice a session revoked elsewhere
  // on a page that does not call the API itself.
  useEffect(() => {
    void refresh();
  }, [path, refresh]);

  useEffect(
    () =>
      onAuthSignal(() => {
        void refresh();
      }),
    [refresh],
  );

  const clearNotice = useCallback(() => setNotice(undefined), []);

  const value = useMemo(
    () => ({ state, loadError, notice, clearNotice, refresh, accept, signOut }),
    [state, loadError, notice, clearNotice, refresh, accept, signOut],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}
