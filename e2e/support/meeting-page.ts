/**
 * A meeting as a person sees it in Chromium: the page at `/m/<id>`, its state, and what its
 * peer connections receive (`getStats`), read through a wrapper installed before any script
 * of the page runs, so the console itself has no test hooks for media.
 */
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ApiAgent } from './api-agent.js';
import { openBrowser, type Browser } from './browser.js';

/** Keeps every RTCPeerConnection the page makes; `keepAfterClose` ignores `close()` calls. */
export async function recordPeerConnections(page: Page, options: { keepAfterClose?: boolean } = {}) {
  await page.addInitScript((keep: boolean) => {
    const Native = window.RTCPeerConnection;
    const made: RTCPeerConnection[] = [];
    (window as unknown as { __peers: RTCPeerConnection[] }).__peers = made;
    class Recorded extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        made.push(this);
      }
      override close(): void {
        // A client that does not cooperate: whatever happens to its media is the server's doing.
        if (!keep) super.close();
      }
    }
    window.RTCPeerConnection = Recorded;
  }, options.keepAfterClose === true);
}

export interface Received {
  peers: number;
  framesDecoded: number;
  videoPackets: number;
  audioPackets: number;
  audioEnergy: number;
}

/** Sums what the page's peer connections received so far. */
export async function received(page: Page): Promise<Received> {
  return page.evaluate(async () => {
    const peers = (window as unknown as { __peers?: RTCPeerConnection[] }).__peers ?? [];
    const total = { peers: peers.length, framesDecoded: 0, videoPackets: 0, audioPackets: 0, audioEnergy: 0 };
    for (const pc of peers) {
      if (pc.signalingState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((stat: Record<string, unknown>) => {
        if (stat.type !== 'inbound-rtp') return;
        const packets = Number(stat.packetsReceived ?? 0);
        if (stat.kind === 'video') {
          total.framesDecoded += Number(stat.framesDecoded ?? 0);
          total.videoPackets += packets;
        } else if (stat.kind === 'audio') {
          total.audioPackets += packets;
          total.audioEnergy += Number(stat.totalAudioEnergy ?? 0);
        }
      });
    }
    return total;
  });
}

/** Waits until the page decodes remote video and receives remote audio. */
export async function expectMediaFlowing(page: Page): Promise<Received> {
  let last: Received | undefined;
  await expect
    .poll(
      async () => {
        last = await received(page);
        return last.framesDecoded > 0 && last.audioPackets > 0;
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe(true);
  return last as Received;
}

export function meetingState(page: Page): Locator {
  return page.getByTestId('meeting-state');
}

/** Waits for the meeting page to say `label` (checking, prejoin, lobby, joined, refused…). */
export async function expectState(page: Page, label: string, timeout = 30_000): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          (await meetingState(page)
            .textContent({ timeout: 2_000 })
            .catch(() => '')) ?? ''
        ).trim(),
      {
        timeout,
        interval: 250,
      },
    )
    .toBe(label);
}

/** Opens a meeting link and joins from the pre-join screen. */
export async function joinMeeting(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expectState(page, 'prejoin');
  await page.getByTestId('join').click();
}

export async function chatCount(page: Page): Promise<number> {
  return page.getByTestId('chat-message').count();
}

/**
 * A fresh Chromium whose peer connections are recorded, signed in as `agent` (or signed out
 * when null); it is added to `browsers`, for the test file to close at the end.
 */
export async function personPage(
  browsers: Browser[],
  agent: ApiAgent | null,
  options: { keepAfterClose?: boolean } = {},
): Promise<Page> {
  const b = await openBrowser();
  browsers.push(b);
  await recordPeerConnections(b.page, options);
  if (agent) await agent.signInBrowser(b.context);
  return b.page;
}
