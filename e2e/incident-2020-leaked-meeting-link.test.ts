/**
 * The incident replayed. In November 2020 a journalist joined a confidential videoconference
 * of the EU defence ministers after seeing its ID and most of its PIN on a photo a minister
 * posted; nobody asked who he was. Here the outsider holds far more: the full meeting link and
 * every identifier the meeting has. Signed out; signed in as an agent who is not invited (the
 * lobby is off); with a session cookie stolen from an invitee whose MFA check is older than
 * the step-up window: each time, no media, no roster, no chat, and the hosts are told. The story
 * runs on each media engine (the embedded SFU, Janus).
 */
import type { Alert, Meeting } from '@rempart/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { incidentCast } from './support/cast.js';
import {
  chatCount,
  expectMediaFlowing,
  expectState,
  joinMeeting,
  received,
  personPage,
} from './support/meeting-page.js';
import { engines, startRempartOn, type EngineName } from './support/engines.js';
import type { RunningRempart } from './support/server.js';

/** The shortest step-up window the configuration allows, so the stolen session ages quickly. */
const STEP_UP_SECONDS = 60;

/** One engine's server, people and meeting. */
interface Stage {
  rempart: RunningRempart;
  host: ApiAgent;
  minister: ApiAgent;
  colleague: ApiAgent;
  /** A second session of the invited minister, taken at the start: its MFA check ages. */
  stolen: ApiAgent;
  stolenAt: number;
  meeting: Meeting;
}
const browsers: Browser[] = [];

const pageFor = (agent: ApiAgent | null, options: { keepAfterClose?: boolean } = {}) =>
  personPage(browsers, agent, options);

/**
 * What a hand-made client gets on the meeting socket when it skips the page and speaks the
 * protocol directly, naming the meeting by its every identifier.
 */
async function rawSocket(page: Page, linkId: string, meetingId: string): Promise<string[]> {
  return page.evaluate(
    ({ linkId, meetingId }) =>
      new Promise<string[]>((resolve) => {
        const types: string[] = [];
        const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/meetings/live/${linkId}`);
        ws.onopen = () => {
          ws.send(JSON.stringify({ type: 'chat.send', meetingId, text: 'hello ministers' }));
          ws.send(JSON.stringify({ type: 'publish', meetingId, sdp: 'v=0\r\n', sources: { '0': 'camera' } }));
        };
        ws.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { type: string; outcome?: string };
          types.push(message.type === 'admission' ? `admission:${message.outcome ?? ''}` : message.type);
        };
        ws.onclose = (event) => resolve([...types, `close:${event.code}`]);
        setTimeout(() => resolve([...types, 'timeout']), 10_000);
      }),
    { linkId, meetingId },
  );
}

/** Nothing of the meeting reached this page: no media connection, no roster, no chat. */
async function expectNothingLeaked(page: Page): Promise<void> {
  expect((await received(page)).peers).toBe(0);
  expect(await page.getByTestId('roster-entry').count()).toBe(0);
  expect(await page.getByTestId('tile').count()).toBe(0);
  expect(await chatCount(page)).toBe(0);
  // The page's own content (the header names whoever holds the session, a thief included).
  const text = (await page.locator('main').textContent()) ?? '';
  expect(text).not.toContain('Claire Martin');
  expect(text).not.toContain('hello from the ministers');
}

async function setStage(engine: EngineName): Promise<Stage> {
  const rempart = await startRempartOn(engine, { REMPART_MEETING_STEP_UP_SECONDS: String(STEP_UP_SECONDS) });
  const { host, minister, colleague } = await incidentCast(rempart);
  const stolen = await minister.newSession();
  const stolenAt = Date.now();
  const now = Date.now();
  const { meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
    title: 'Conseil des ministres de la défense (UE)',
    classification: 'secret',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    invitees: { emails: [minister.email], units: [] },
    options: { lobby: false, guests: false },
  });
  return { rempart, host, minister, colleague, stolen, stolenAt, meeting };
}

describe.each(engines)('incident of November 2020: a leaked meeting link, on the %s engine', (engine) => {
  let host: ApiAgent;
  let minister: ApiAgent;
  let colleague: ApiAgent;
  let stolen: ApiAgent;
  let stolenAt = 0;
  let meeting: Meeting;
  let hostPage: Page;

  let stage: Stage | undefined;
  // One engine after the other: each story's MFA checks must be fresh when it starts.
  beforeAll(async () => {
    stage = await setStage(engine);
    ({ host, minister, colleague, stolen, stolenAt, meeting } = stage);
  });
  afterAll(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await stage?.rempart.stop();
  });

  it('the host and the invited minister meet, with media flowing', async () => {
    hostPage = await pageFor(host);
    await joinMeeting(hostPage, meeting.url);
    await expectState(hostPage, 'joined');
    const ministerPage = await pageFor(minister);
    await joinMeeting(ministerPage, meeting.url);
    await expectState(ministerPage, 'joined');
    await expectMediaFlowing(hostPage);
    await ministerPage.getByTestId('chat-input').fill('hello from the ministers');
    await ministerPage.getByTestId('chat-input').press('Enter');
    await hostPage.getByTestId('chat-message').first().waitFor();
  });

  it('signed out, the full link and every identifier get nothing, and the hosts are told', async () => {
    const page = await pageFor(null);
    await page.goto(meeting.url);
    await expectState(page, 'refused');
    expect(await page.getByTestId('meeting-state').getAttribute('data-reason')).toBe('unauthenticated');
    expect(await rawSocket(page, meeting.linkId, meeting.id)).toEqual(['admission:refuse', 'close:4401']);
    const byId = await page.evaluate(async (id) => (await fetch(`/api/meetings/${id}`)).status, meeting.id);
    expect(byId).toBe(401);
    await expectNothingLeaked(page);
    await hostPage
      .getByTestId('attempt')
      .filter({ hasText: /not signed in/i })
      .first()
      .waitFor({ timeout: 20_000 });
  });

  it('signed in as an agent who is not invited, with the lobby off: refused, and the hosts are told', async () => {
    const page = await pageFor(colleague);
    await page.goto(meeting.url);
    await expectState(page, 'refused');
    expect(await page.getByTestId('meeting-state').getAttribute('data-reason')).toBe('not_invited');
    expect(await rawSocket(page, meeting.linkId, meeting.id)).toEqual(['admission:refuse', 'close:4403']);
    const byId = await page.evaluate(async (id) => (await fetch(`/api/meetings/${id}`)).status, meeting.id);
    expect([403, 404]).toContain(byId);
    await expectNothingLeaked(page);
    await hostPage
      .getByTestId('attempt')
      .filter({ hasText: 'Lucas Bernard' })
      .first()
      .waitFor({ timeout: 20_000 });
  });

  it('with an invitee’s stolen session cookie whose MFA is older than the window: a step-up no thief can pass', async () => {
    const wait = stolenAt + (STEP_UP_SECONDS + 2) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const page = await pageFor(stolen);
    await page.goto(meeting.url);
    await expectState(page, 'step-up');
    // The prompt asks for the minister's second factor, which the thief does not have.
    await page.getByRole('dialog').waitFor({ timeout: 20_000 });
    expect(await rawSocket(page, meeting.linkId, meeting.id)).toEqual(['admission:step_up', 'close:4428']);
    await expectNothingLeaked(page);
    await hostPage
      .getByTestId('attempt')
      .filter({ hasText: 'Jan Peeters' })
      .first()
      .waitFor({ timeout: 20_000 });
  });

  it('the refusals are raised as alerts and every decision is in the audit log', async () => {
    const { alerts } = await host.ok<{ alerts: Alert[] }>('GET', '/api/alerts?status=all');
    const about = alerts.filter((a) => a.source === 'meetings' && a.title.includes(meeting.title));
    expect(about.some((a) => a.title.includes('signed out'))).toBe(true);
    expect(about.some((a) => a.title.includes('Lucas Bernard'))).toBe(true);
    expect(about.every((a) => a.severity === 'high')).toBe(true);
    const { entries } = await host.ok<{ entries: { action: string; outcome: string }[] }>(
      'GET',
      '/api/audit?limit=200',
    );
    const denied = entries.filter((e) => e.action === 'meeting.join' && e.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(6);
  });
});
