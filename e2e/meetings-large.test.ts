/**
 * A meeting of 100 end-to-end encrypted participants against a real `rempart serve`: 97
 * participants without a browser (`MeetingBot`: an agent's MFA session on the real meeting socket,
 * running the client's own MLS group) and 3 real Chromium pages. Everyone reaches the same epoch
 * and safety code; then the host removes some and others leave, the epoch moves on, and every
 * remaining member, the browsers included, agrees on the new code with encryption still on.
 */
import type { Meeting } from '@rempart/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstAdmin, type ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { expectState, personPage } from './support/meeting-page.js';
import { MeetingBot } from './support/meeting-bot.js';
import { startRempart, type RunningRempart } from './support/server.js';

const BOTS = 97;
const PAGES = 3;
const UNIT = 'Cellule interministérielle de crise';
const REMOVED = 4;
const LEAVING = 4;

let rempart: RunningRempart;
let admin: ApiAgent;
const agents: ApiAgent[] = [];
const browsers: Browser[] = [];
const bots: MeetingBot[] = [];
const pages: Page[] = [];
let meeting: Meeting;

/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T, i: number) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

interface Seen {
  epoch: number | undefined;
  code: string | undefined;
  state: string | null;
}

async function pageSees(page: Page): Promise<Seen> {
  const e2ee = page.getByTestId('e2ee-state');
  const state = await e2ee.getAttribute('data-state', { timeout: 5000 });
  const epoch = await e2ee.getAttribute('data-epoch', { timeout: 5000 });
  const code = state === 'on' ? await page.getByTestId('e2ee-safety-code').textContent() : null;
  return { state, epoch: epoch === null ? undefined : Number(epoch), code: code ?? undefined };
}

/** Everyone in `inMeeting` (bots) and every page at one epoch with one code: that epoch and code. */
async function agreement(inMeeting: readonly MeetingBot[]): Promise<Seen | undefined> {
  const seen: Seen[] = inMeeting.map((b) => ({ epoch: b.epoch, code: b.safetyCode, state: 'on' }));
  for (const page of pages) seen.push(await pageSees(page));
  const first = seen[0];
  if (!first || first.epoch === undefined) return undefined;
  const same = seen.every((s) => s.state === 'on' && s.epoch === first.epoch && s.code === first.code);
  return same ? first : undefined;
}

async function waitForAgreement(inMeeting: readonly MeetingBot[], members: number, timeout: number) {
  let agreed: Seen | undefined;
  await expect
    .poll(
      async () => {
        // A page busy applying a commit may not answer at once: asked again at the next poll.
        agreed = await agreement(inMeeting).catch(() => undefined);
        return agreed !== undefined && inMeeting[0]?.keys?.members.size === members;
      },
      { timeout, interval: 1000 },
    )
    .toBe(true);
  return agreed as Seen;
}

/**
 * A Chromium page that joins with its microphone only: its audio frames are end-to-end encrypted
 * like any, and three pages encoding and decoding each other's video would take the two cores
 * that a hundred participants' key agreement needs.
 */
async function joinWithoutCamera(agent: ApiAgent): Promise<Page> {
  const page = await personPage(browsers, agent);
  await page.goto(meeting.url);
  await expectState(page, 'prejoin');
  const camera = page.getByTestId('toggle-camera');
  await expect.poll(() => camera.getAttribute('aria-pressed'), { timeout: 20_000 }).toBe('true');
  await camera.click();
  await expect.poll(() => camera.getAttribute('aria-pressed')).toBe('false');
  await page.getByTestId('join').click();
  await expectState(page, 'joined');
  return page;
}

beforeAll(async () => {
  const started = Date.now();
  rempart = await startRempart();
  admin = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'claire.martin@interieur.gouv.fr',
    name: 'Claire Martin',
    unit: UNIT,
  });
  // Every participant is an agent with a full session (password and TOTP), as in production.
  const specs = Array.from({ length: BOTS - 1 + PAGES }, (_, i) => ({
    email: `agent${String(i).padStart(3, '0')}@crise.gouv.fr`,
    displayName: `Agent ${i}`,
    unit: UNIT,
    clearance: 'internal' as const,
  }));
  agents.push(...(await inBatches(specs, 4, (spec) => admin.invite(spec))));
  const now = Date.now();
  const { meeting: created } = await admin.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
    title: 'Cellule de crise — 100 participants',
    classification: 'internal',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    invitees: { emails: [], units: [UNIT] },
  });
  meeting = created;
  console.log(`100 participants: ${agents.length + 1} agents enrolled in ${(Date.now() - started) / 1000} s`);
}, 300_000);

afterAll(async () => {
  for (const bot of bots) bot.leave();
  for (const b of browsers.splice(0)) await b.close();
  await rempart?.stop();
});

describe('a meeting of 100 participants', () => {
  it('keeps end-to-end encryption on, one epoch and one safety code for all, through joins, removals and departures', async () => {
    const started = Date.now();
    // The host joins first: the longest present, they make the commits.
    const host = await MeetingBot.join(rempart.url, meeting.linkId, admin);
    bots.push(host);
    pages.push(...(await Promise.all(agents.slice(0, PAGES).map(joinWithoutCamera))));
    const botAgents = agents.slice(PAGES);
    bots.push(
      ...(await inBatches(botAgents, 16, (agent) => MeetingBot.join(rempart.url, meeting.linkId, agent))),
    );
    expect(bots).toHaveLength(BOTS);

    const full = await waitForAgreement(bots, BOTS + PAGES, 150_000);
    const joinedIn = (Date.now() - started) / 1000;
    expect(full.code).toMatch(/^\d{4} \d{4} \d{4}$/);
    for (const bot of bots) {
      expect(bot.failures).toEqual([]);
      expect(bot.errors).toEqual([]);
    }

    // The host removes some; others leave. Each is out of the group at the next epoch.
    const removed = bots.slice(1, 1 + REMOVED);
    const leaving = bots.slice(1 + REMOVED, 1 + REMOVED + LEAVING);
    for (const bot of removed) host.remove(bot.self?.id ?? '');
    for (const bot of leaving) bot.leave();
    const remaining = bots.filter((b) => !removed.includes(b) && !leaving.includes(b));
    const after = await waitForAgreement(remaining, BOTS + PAGES - REMOVED - LEAVING, 90_000);
    const totalIn = (Date.now() - started) / 1000;

    expect(after.epoch).toBeGreaterThan(full.epoch ?? 0);
    expect(after.code).not.toBe(full.code);
    const outIds = new Set([...removed, ...leaving].map((b) => b.self?.id));
    expect([...(host.keys?.members.values() ?? [])].some((id) => outIds.has(id))).toBe(false);
    for (const bot of removed) {
      await expect.poll(() => bot.closedWith, { timeout: 10_000 }).toBe(4410);
      expect(bot.epoch).toBeLessThan(after.epoch ?? 0);
    }
    for (const page of pages) expect((await pageSees(page)).state).toBe('on');
    console.log(
      `100 participants: epoch ${full.epoch} (code ${full.code}) for all ${BOTS + PAGES} after ${joinedIn} s; ` +
        `epoch ${after.epoch} for the ${remaining.length + PAGES} remaining after ${totalIn} s`,
    );
  }, 300_000);
});
