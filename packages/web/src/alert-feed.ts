/**
 * The live alert feed (WebSocket `/api/alerts/live`). Reconnects with exponential backoff and
 * jitter; after any gap the caller reloads the list, since alerts raised meanwhile were missed.
 */
import { AlertFeedMessage } from '@rempart/core';
import { useEffect, useRef, useState } from 'react';
import { useSession } from './session';

export type FeedStatus = 'connecting' | 'live' | 'reconnecting';

/** Close code the server uses when the upgrade is refused (no session, not an admin, bad origin). */
const REFUSED = 4401;
const MAX_DELAY_MS = 30_000;

export function feedUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/alerts/live`;
}

/** Delay before reconnection attempt `attempt` (0-based): 1 s, 2 s, 4 s … up to 30 s, ±25 %. */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt);
  return Math.round(base * (0.75 + random * 0.5));
}

export function useAlertFeed(onMessage: (message: AlertFeedMessage) => void, onGap: () => void): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const { refresh } = useSession();
  const handlers = useRef({ onMessage, onGap });

  useEffect(() => {
    handlers.current = { onMessage, onGap };
  });

  useEffect(() => {
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let hadGap = false;
    let stopped = false;

    const connect = () => {
      const ws = new WebSocket(feedUrl());
      socket = ws;
      ws.addEventListener('open', () => {
        attempt = 0;
        setStatus('live');
        if (hadGap) handlers.current.onGap();
      });
      ws.addEventListener('message', (event: MessageEvent<unknown>) => {
        if (typeof event.data !== 'string') return;
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        const parsed = AlertFeedMessage.safeParse(data);
        if (parsed.success) handlers.current.onMessage(parsed.data);
      });
      ws.addEventListener('close', (event) => {
        if (socket === ws) socket = undefined;
        if (stopped) return;
        hadGap = true;
        setStatus('reconnecting');
        // A refusal usually means the session ended: reading it again sends the console to sign-in.
        if (event.code === REFUSED) void refresh();
        timer = setTimeout(connect, backoffDelay(attempt));
        attempt += 1;
      });
    };

    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      socket?.close(1000);
    };
  }, [refresh]);

  return status;
}
