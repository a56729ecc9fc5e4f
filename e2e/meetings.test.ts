/**
 * Meetings in real Chromium with a fake camera and microphone, against a real `rempart serve` on
 * each of its media engines (the embedded SFU, Janus), all on loopback: people see and hear each
 * other through the server; a stranger waits in the lobby until a host lets them in; a locked
 * meeting refuses; a removed participant stops receiving media at once, even from a client that
 * does not cooperate.
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
  received,
  personPage,
} from './support/meeting-page.js';
import { engines, startWithHost } from './support/engines.js';
import type { RunningRempart } from './support/server.js';

let rempart: RunningRempart;
let host: ApiAgent;
let invitee: ApiAgent;
let stranger: ApiAgent;
let latecomer: ApiAgent;
let outsider: ApiAgent;
const browsers: Browser[] = [];

const pageFor = (agent: ApiAgent | null, options: { keepAfterClose?: boolean } = {}) =>
  personPage(browsers, agent, options);

async function schedule(body: Record<string, unknown>): Promise<Meeting> {
  const now = Date.now();
  const { meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
    title: 'Réunion de crise cyber',
    classification: 'internal',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    invitees: { emails: [invitee.email], units: [] },
    ...body,
  });
  return meeting;
}

describe.each(engines)('on the %s engine', (engine) => {
  beforeAll(async () => {
    ({ rempart, host } = await startWithHost(engine));
    invitee = await host.invite({
      email: 'jan.peeters@defensie.be',
      displayName: 'Jan Peeters',
      unit: 'Defensie',
      clearance: 'secret',
    });
    stranger = await host.invite({
      email: 'lucas.bernard@interieur.gouv.fr',
      displayName: 'Lucas Bernard',
      unit: 'DGSI',
      clearance: 'secret',
    });
    latecomer = await host.invite({
      email: 'sofia.rossi@interieur.gouv.fr',
      displayName: 'Sofia Rossi',
      unit: 'DNUM',
      clearance: 'internal',
    });
    outsider = await host.invite({
      email: 'emma.janssens@vlaanderen.be',
      displayName: 'Emma Janssens',
      unit: 'Kanselarij',
      clearance: 'secret',
    });
  });

  afterAll(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await rempart?.stop();
  });

  describe('a meeting in three browsers', () => {
    let meeting: Meeting;
    let hostPage: Page;
    let inviteePage: Page;
    let strangerPage: Page;

    it('host and invitee see and hear each other through the SFU, each tile named by a verified identity', async () => {
      meeting = await schedule({});
      hostPage = await pageFor(host);
      inviteePage = await pageFor(invitee);
      await joinMeeting(hostPage, meeting.url);
      await expectState(hostPage, 'joined');
      await joinMeeting(inviteePage, meeting.url);
      await expectState(inviteePage, 'joined');

      const atHost = await expectMediaFlowing(hostPage);
      const atInvitee = await expectMediaFlowing(inviteePage);
      expect(atHost.framesDecoded).toBeGreaterThan(0);
      expect(atInvitee.audioPackets).toBeGreaterThan(0);

      // The frames decoded were decrypted first: the media is end-to-end encrypted both ways,
      // with the same safety code on both screens (one MLS epoch, one group).
      for (const page of [hostPage, inviteePage]) {
        const e2ee = page.getByTestId('e2ee-state');
        await expect.poll(() => e2ee.getAttribute('data-state'), { timeout: 20_000 }).toBe('on');
        await expect
          .poll(async () => Number(await e2ee.getAttribute('data-decrypted')), { timeout: 20_000 })
          .toBeGreaterThan(0);
        expect(Number(await e2ee.getAttribute('data-encrypted'))).toBeGreaterThan(0);
      }
      const codes = [];
      for (const page of [hostPage, inviteePage]) {
        await page.getByTestId('e2ee-show-code').click();
        codes.push(await page.getByTestId('e2ee-safety-code').textContent());
      }
      expect(codes[0]).toMatch(/^\d{4} \d{4} \d{4}$/);
      expect(codes[1]).toBe(codes[0]);

      const tile = hostPage.locator('[data-testid="tile"][data-self="false"]');
      await expect.poll(() => tile.count()).toBe(1);
      expect(await tile.getAttribute('data-name')).toBe('Jan Peeters');
      expect(await tile.getAttribute('data-guest')).toBe('false');
      expect(await tile.textContent()).toMatch(/Defensie/);
    });

    it('a non-invited agent waits in the lobby until the host admits them, then sees video', async () => {
      strangerPage = await pageFor(stranger);
      await joinMeeting(strangerPage, meeting.url);
      await expectState(strangerPage, 'lobby');
      // Nothing of the meeting reaches the lobby: no peer connection, no roster, no chat.
      expect((await received(strangerPage)).peers).toBe(0);
      expect(await strangerPage.getByTestId('roster-entry').count()).toBe(0);

      const entry = hostPage.locator('[data-testid="lobby-entry"][data-name="Lucas Bernard"]');
      await entry.waitFor({ timeout: 20_000 });
      expect(await entry.textContent()).toMatch(/DGSI/);
      await entry.getByTestId('admit').click();
      await expectState(strangerPage, 'joined');
      const seen = await expectMediaFlowing(strangerPage);
      expect(seen.framesDecoded).toBeGreaterThan(0);
    });

    it('chat reaches everyone in the meeting with the sender’s verified name', async () => {
      await inviteePage.getByTestId('chat-input').fill('Le point de situation commence.');
      await inviteePage.getByTestId('chat-input').press('Enter');
      for (const page of [hostPage, strangerPage]) {
        const message = page
          .getByTestId('chat-message')
          .filter({ hasText: 'Le point de situation commence.' });
        await message.waitFor({ timeout: 20_000 });
        expect(await message.textContent()).toMatch(/Jan Peeters/);
      }
    });

    it('a removed participant stops receiving media at once, even if their browser keeps listening', async () => {
      // This participant's page ignores every close(): what stops the media is the server.
      const stubborn = await pageFor(latecomer, { keepAfterClose: true });
      await joinMeeting(stubborn, meeting.url);
      await expectState(stubborn, 'lobby');
      const entry = hostPage.locator('[data-testid="lobby-entry"][data-name="Sofia Rossi"]');
      await entry.waitFor({ timeout: 20_000 });
      await entry.getByTestId('admit').click();
      await expectState(stubborn, 'joined');
      await expectMediaFlowing(stubborn);

      const epoch = async () => Number(await hostPage.getByTestId('e2ee-state').getAttribute('data-epoch'));
      const epochWithHer = await epoch();
      const row = hostPage.locator('[data-testid="roster-entry"][data-name="Sofia Rossi"]');
      await row.getByTestId('remove').click();
      await hostPage.getByTestId('confirm').click();
      await expectState(stubborn, 'removed');
      // Her removal starts a new MLS epoch: what is sent from now on is under keys she never had.
      await expect.poll(epoch, { timeout: 20_000 }).toBeGreaterThan(epochWithHer);
      const atRemoval = await received(stubborn);
      await stubborn.waitForTimeout(2_000);
      const later = await received(stubborn);
      // A packet or two may have been on the wire; a live 30 fps stream would add ~100.
      expect(later.videoPackets - atRemoval.videoPackets).toBeLessThan(5);
      expect(later.audioPackets - atRemoval.audioPackets).toBeLessThan(5);
      // The others keep going, once each has taken the new epoch's keys (a loaded machine may take
      // seconds to: frames under a key not yet known are not decoded meanwhile).
      const before = await received(hostPage);
      await expect
        .poll(async () => (await received(hostPage)).framesDecoded, { timeout: 20_000 })
        .toBeGreaterThan(before.framesDecoded);
      // And a rejoin goes back to the lobby: removal needs a host's re-admission.
      await stubborn.goto(meeting.url);
      await expectState(stubborn, 'prejoin');
      await stubborn.getByTestId('join').click();
      await expectState(stubborn, 'lobby');
    });

    it('a locked meeting refuses whoever is not invited, with no lobby', async () => {
      await hostPage.getByTestId('lock').click();
      // A round trip through the server: give a loaded machine (four browsers, two cores) time.
      await expect
        .poll(() => hostPage.getByTestId('lock').getAttribute('aria-pressed'), { timeout: 10_000 })
        .toBe('true');
      const late = await pageFor(outsider);
      await late.goto(meeting.url);
      await expectState(late, 'refused');
      expect(await late.getByTestId('meeting-state').getAttribute('data-reason')).toBe('locked');
      expect((await received(late)).peers).toBe(0);
    });
  });

  // The console's part does not depend on the engine: once is enough.
  if (engine === 'embedded')
    describe('scheduling from the console', () => {
      it('a host schedules and invites from the form; rotating the link kills the old one at once', async () => {
        const page = await pageFor(host);
        await page.goto(`${rempart.url}/meetings`);
        await page.getByLabel('Title').fill('Cellule interministérielle de crise');
        await page.getByLabel('Classification').selectOption('restricted');
        await page.getByLabel('Find an agent to invite').fill('Jan');
        await page.getByRole('button', { name: 'Add Jan Peeters' }).click();
        await page.getByTestId('schedule-submit').click();
        const urlOf = async () => ((await page.getByTestId('meeting-url').textContent()) ?? '').trim();
        await page.getByTestId('meeting-url').waitFor({ timeout: 20_000 });
        const first = /\/m\/[A-Za-z0-9_-]{22}$/.exec(await urlOf())?.[0] ?? '';
        expect(first).not.toBe('');

        // The invitee's console lists it, and the link opens its pre-join screen.
        const { meetings } = await invitee.ok<{ meetings: Meeting[] }>('GET', '/api/meetings');
        const scheduled = meetings.find((m) => m.title === 'Cellule interministérielle de crise');
        expect(scheduled).toMatchObject({ classification: 'restricted', url: `${rempart.url}${first}` });
        const inviteePage = await pageFor(invitee);
        await inviteePage.goto(`${rempart.url}${first}`);
        await expectState(inviteePage, 'prejoin');

        await page.getByTestId('rotate-link').click();
        await page.getByTestId('confirm').click();
        await expect.poll(urlOf, { timeout: 20_000 }).not.toContain(first);
        const second = /\/m\/[A-Za-z0-9_-]{22}$/.exec(await urlOf())?.[0] ?? '';
        // The old link is dead even for the invitee; the new one works.
        await inviteePage.goto(`${rempart.url}${first}`);
        await expectState(inviteePage, 'refused');
        await inviteePage.goto(`${rempart.url}${second}`);
        await expectState(inviteePage, 'prejoin');
      });
    });
});
