import type { Scan } from '@rempart/core';
import { useEffect, useRef } from 'react';
import { api } from '../../api';
import { isUnderWay } from '../../spyware/scans';

/** How often a scan under way is asked for again: often enough for a bar that moves. */
export const SCAN_POLL_MS = 1000;

/**
 * Asks for `scan` again while it is being read, giving each new version to `onChange`; a failed
 * request is retried at the next tick (a progress bar can wait a second). Stops when the page
 * leaves or the scan is over.
 */
export function useScanPolling(scan: Scan, onChange: (scan: Scan) => void): void {
  const latest = useRef(onChange);
  latest.current = onChange;
  const underWay = isUnderWay(scan);
  useEffect(() => {
    if (!underWay) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await api.spyware.scan(scan.id);
        if (!stopped) latest.current(next);
        if (!isUnderWay(next)) return;
      } catch {
        // Asked again at the next tick.
      }
      if (!stopped) timer = setTimeout(() => void tick(), SCAN_POLL_MS);
    };
    timer = setTimeout(() => void tick(), SCAN_POLL_MS);
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [scan.id, underWay]);
}

/** How often a page waiting on someone else (an owner's answer, a scan elsewhere) asks again. */
export const WAITING_POLL_MS = 5000;

/**
 * Calls `reload` every `ms` while `waiting` holds: a page that waits on someone else's action
 * shows it without a manual refresh, and stops asking once nothing is pending.
 */
export function useReloadWhile(waiting: boolean, reload: () => void, ms = WAITING_POLL_MS): void {
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = setInterval(reload, ms);
    return () => clearInterval(timer);
  }, [waiting, reload, ms]);
}
