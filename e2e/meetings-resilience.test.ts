/**
 * A meeting that survives its connections, in real Chromium against a real `rempart serve` on
 * loopback, on each media engine: after a network blip, and after a restart of the server
 * process, both people are back in the meeting as the same participants, without going through
 * the lobby again, with end-to-end encryption still on and video decoded again within 5 s.
 */
import type { Meeting } from '@rempart/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import {
  expectMediaFlowing,
  expectState,
  joinMeeting,
  personPage,
  received,
} from './support/meeting-page.js';
import { engines, startWithHost } from './support/engines.js';
import type { RunningRempart } from './support/server.js';

/** What the people in the meeting must get back within, from the moment the network or server is back. */
const BACK_WITHIN_MS = 5000;

/** Keeps the page's WebSockets, so that a test can cut them as a failing network would. */
async function recordSockets(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    const made: WebSocket[] = [];
    (window as unknown as { __sockets: WebSocket[] }).__sockets = made;
    class Recorded extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        made.push(this);
      }
    }
    window.WebSocket = Recorded;
  });
}

const selfId = (page: Page) =>
  page.locator('[data-testid="tile"][data-self="true"]').first().getAttribute('data-participant-id');

const e2eeState = (page: Page) => page.getByTestId('e2ee-state').getAttribute('data-state');

/** Resolves with the time the page is in the meeting as `id`, with E2EE on and remote video being decoded. */
async function backInMeeting(page: Page, id: string, deadline: number): Promise<number> {
  let frames = (await received(page)).framesDecoded;
  for (;;) {
    await page.waitForTimeout(100);
    const now = (await received(page)).framesDecoded;
    const decoding = now > frames;
    frames = now;
    if (
      decoding &&
      (await page.getByTestId('meeting-state').textContent())?.trim() === 'joined' &&
      (await selfId(page)) === id &&
      (await e2eeState(page)) === 'on'
    )
      return Date.now();
    if (Date.now() > deadline) throw new Error(`${id} not back: ${JSON.stringify(await diagnosis(page))}`);
  }
}

/** What the page shows and receives, for a failure's message. */
async function diagnosis(page: Page) {
  return {
    state: await page.getByTestId('meeting-state').textContent(),
    self: await selfId(page),
    media: await page.getByTestId('media-status').textContent(),
    e2ee: await page.getByTestId('e2ee-state').evaluate((e) => ({ ...(e as HTMLElement).dataset })),
    received: await received(page),
    peers: await page.evaluate(() =>
      (window as unknown as { __peers: RTCPeerConnection[] }).__peers.map((pc) => pc.connectionState),
    ),
  };
}

describe.each(engines)('a meeting that loses its connections, on the %s engine', (engine) => {
  let rempart: RunningRempart;
  let host: ApiAgent;
  let stranger: ApiAgent;
  let hostPage: Page;
  let strangerPage: Page;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    ({ rempart, host } = await startWithHost(engine));
    stranger = await host.invite({
      email: 'lucas.bernard@interieur.gouv.fr',
      displayName: 'Lucas Bernard',
      unit: 'DGSI',
      clearance: 'secret',
    });
    hostPage = await personPage(browsers, host);
    strangerPage = await personPage(browsers, stranger);
    for (const page of [hostPage, strangerPage]) await recordSockets(page);
  }, 120_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await rempart?.stop();
  });

  it('brings two people together, one through the lobby, with encrypted media flowing', async () => {
    const now = Date.now();
    const { meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
      title: 'Cellule de crise',
      classification: 'internal',
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      invitees: { emails: [], units: [] },
    });
    await joinMeeting(hostPage, meeting.url);
    await expectState(hostPage, 'joined');
    // Not invited: the stranger comes in through the lobby, which a new presence would have to pass again.
    await joinMeeting(strangerPage, meeting.url);
    await expectState(strangerPage, 'lobby');
    await hostPage
      .locator('[data-testid="lobby-entry"][data-name="Lucas Bernard"]')
      .getByTestId('admit')
      .click();
    await expectState(strangerPage, 'joined');
    for (const page of [hostPage, strangerPage]) {
      await expectMediaFlowing(page);
      await expect.poll(() => e2eeState(page), { timeout: 20_000 }).toBe('on');
    }
  }, 90_000);

  it('takes a person back after a network blip: same participant, no lobby, E2EE on, video within 5 s', async () => {
    const id = await selfId(strangerPage);
    expect(id).toBeTruthy();
    const cdp = await strangerPage.context().newCDPSession(strangerPage);
    await cdp.send('Network.enable');
    const offline = (on: boolean) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline: on,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await offline(true);
    // The socket dies with the network (as the operating system reports a lost link).
    await strangerPage.evaluate(() => {
      for (const socket of (window as unknown as { __sockets: WebSocket[] }).__sockets) socket.close();
    });
    await expect.poll(() => strangerPage.getByTestId('room-reconnecting').textContent()).not.toBe('');
    // The host sees the stranger as reconnecting, not gone: on the tile and in the roster.
    const strangerTile = hostPage.locator(`[data-testid="tile"][data-participant-id="${id ?? ''}"]`);
    const strangerEntry = hostPage.locator(`[data-testid="roster-entry"][data-participant-id="${id ?? ''}"]`);
    await expect.poll(() => strangerTile.getAttribute('data-reconnecting')).toBe('true');
    expect(await strangerEntry.getByTestId('reconnecting-mark').count()).toBe(1);
    await strangerPage.waitForTimeout(2000);
    await offline(false);
    const online = Date.now();
    const back = await backInMeeting(strangerPage, id ?? '', online + 15_000);
    const hostSees = await backInMeeting(hostPage, (await selfId(hostPage)) ?? '', online + 15_000);
    const took = Math.max(back, hostSees) - online;
    console.log(
      `${engine}: network blip: back in the meeting with video ${took} ms after the network returned`,
    );
    expect(took).toBeLessThan(BACK_WITHIN_MS);
    await expect.poll(() => strangerTile.getAttribute('data-reconnecting')).toBe('false');
    expect(await strangerEntry.getByTestId('reconnecting-mark').count()).toBe(0);
    await cdp.detach();
  }, 60_000);

  it('takes both people back after a restart of the server: same participants, no lobby, video within 5 s', async () => {
    const ids = [await selfId(hostPage), await selfId(strangerPage)];
    const answering = await rempart.restart();
    const back = await Promise.all(
      [hostPage, strangerPage].map((page, i) => backInMeeting(page, ids[i] ?? '', answering + 20_000)),
    );
    const took = Math.max(...back) - answering;
    console.log(
      `${engine}: server restart: both back in the meeting with video ${took} ms after the server answered`,
    );
    expect(took).toBeLessThan(BACK_WITHIN_MS);
  }, 90_000);
});
