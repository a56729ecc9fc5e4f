import type { Meeting } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { MeetingSocket } from '../test-support/meeting-socket.js';
import { startInbox, type Inbox, type ReceivedMail } from '../test-support/smtp-inbox.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';

/** Every message the SMTP server received: a real SMTP peer on loopback. */
let inbox: ReceivedMail[];
let smtp: Inbox;
let platform: TestPlatform;
let app: FastifyInstance;
let host: HttpAgent;
const sockets: MeetingSocket[] = [];

beforeAll(async () => {
  smtp = await startInbox();
  inbox = smtp.messages;
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: { REMPART_SMTP_URL: smtp.url, REMPART_MAIL_FROM: 'Rempart <rempart@example.org>' },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: host } = await enrolWithTotp(platform, app, {
    email: 'claire.martin@defense.gouv.fr',
    displayName: 'Claire Martin',
    role: 'host',
  }));
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await app.close();
  await platform.close();
  await smtp.close();
});

beforeEach(() => platform.clock.advance(31_000));

async function schedule(body: Record<string, unknown> = {}): Promise<Meeting> {
  const now = platform.clock.now().getTime();
  const res = await host.post('/api/meetings', {
    title: 'Réunion avec le prestataire',
    classification: 'internal',
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3600_000).toISOString(),
    options: { lobby: true, guests: true },
    ...body,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.meeting as Meeting;
}

/** Asks for a code as a guest and reads it from the mail the SMTP server received. */
async function requestCode(guest: HttpAgent, meeting: Meeting, email: string) {
  const before = inbox.length;
  const start = await guest.post(`/api/m/${meeting.linkId}/guest`, { email, displayName: 'Sam Contractor' });
  expect(start.status, JSON.stringify(start.json)).toBe(202);
  await expect.poll(() => inbox.length).toBe(before + 1);
  const mail = inbox.at(-1);
  expect(mail?.to).toBe(email);
  const code = /\b([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})\b/.exec(mail?.body ?? '')?.[1];
  expect(code).toBeDefined();
  return { challengeId: start.json.challengeId as string, code: code ?? '' };
}

describe('external guests', () => {
  it('prove their email with a code, wait in the lobby, and are shown as guests once a host admits them', async () => {
    const meeting = await schedule();
    const guest = new HttpAgent(app, '203.0.113.50');
    expect((await guest.get(`/api/m/${meeting.linkId}`)).json).toEqual({
      outcome: 'refuse',
      reason: 'unauthenticated',
      meeting: null,
      guestsWelcome: true,
    });
    const { challengeId, code } = await requestCode(guest, meeting, 'sam@contractor.example');
    const wrong = await guest.post(`/api/m/${meeting.linkId}/guest/verify`, {
      challengeId,
      code: 'AAAA-AAAA',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid_credentials');
    const ok = await guest.post(`/api/m/${meeting.linkId}/guest/verify`, {
      challengeId,
      code: code.toLowerCase().replace('-', ''),
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    const cookie = ok.raw.cookies.find((c) => c.name === 'rempart_guest');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

    const h = await MeetingSocket.open(app, meeting.linkId, host.cookie);
    sockets.push(h);
    await h.next('welcome');
    const g = await MeetingSocket.open(app, meeting.linkId, `rempart_guest=${cookie?.value ?? ''}`);
    sockets.push(g);
    expect((await g.next('admission')).outcome).toBe('lobby');
    const lobby = await h.latest('lobby', (l) => l.waiting.length === 1);
    expect(lobby.waiting[0]).toMatchObject({
      guest: true,
      displayName: 'Sam Contractor',
      email: 'sam@contractor.example',
    });
    expect((await h.next('attempt')).who).toMatch(/^GUEST Sam Contractor/);
    h.send({ type: 'lobby.admit', entryId: lobby.waiting[0]?.id ?? '', meetingId: meeting.id });
    const welcome = await g.next('welcome');
    expect(welcome.self).toMatchObject({ guest: true, agentId: null, mfaAt: null, host: false });
    await h.latest('roster', (r) =>
      r.participants.some((p) => p.guest && p.displayName === 'Sam Contractor'),
    );
  });

  it('cannot use a pass for another meeting, nor a code after five wrong tries', async () => {
    const first = await schedule();
    const second = await schedule({ title: 'Autre réunion' });
    const guest = new HttpAgent(app, '203.0.113.51');
    const { challengeId, code } = await requestCode(guest, first, 'eve@elsewhere.example');
    for (let i = 0; i < 5; i++) {
      const res = await guest.post(`/api/m/${first.linkId}/guest/verify`, { challengeId, code: 'BBBB-BBBB' });
      expect(res.status).toBe(401);
    }
    const late = await guest.post(`/api/m/${first.linkId}/guest/verify`, { challengeId, code });
    expect(late.status).toBe(401);

    const again = await requestCode(guest, first, 'eve@elsewhere.example');
    const ok = await guest.post(`/api/m/${first.linkId}/guest/verify`, again);
    expect(ok.status).toBe(200);
    const cookie = `rempart_guest=${ok.raw.cookies.find((c) => c.name === 'rempart_guest')?.value ?? ''}`;
    const other = await MeetingSocket.open(app, second.linkId, cookie);
    sockets.push(other);
    expect(await other.next('admission')).toMatchObject({ outcome: 'refuse', reason: 'unauthenticated' });
  });

  it('are refused where guests are not allowed, and codes are not sent for such meetings', async () => {
    const closed = await schedule({ options: { lobby: true, guests: false } });
    const guest = new HttpAgent(app, '203.0.113.52');
    expect((await guest.get(`/api/m/${closed.linkId}`)).json.guestsWelcome).toBe(false);
    const before = inbox.length;
    const res = await guest.post(`/api/m/${closed.linkId}/guest`, {
      email: 'x@example.org',
      displayName: 'X',
    });
    expect(res.status).toBe(404);
    expect(inbox.length).toBe(before);
    const restricted = await host.post('/api/meetings', {
      title: 'x',
      classification: 'restricted',
      startsAt: platform.clock.now().toISOString(),
      endsAt: new Date(platform.clock.now().getTime() + 3600_000).toISOString(),
      options: { lobby: true, guests: true },
    });
    expect(restricted.status).toBe(400);
  });

  it('limit the codes sent to one address', async () => {
    const meeting = await schedule();
    const guest = new HttpAgent(app, '203.0.113.53');
    const body = { email: 'flood@victim.example', displayName: 'Flood' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await guest.post(`/api/m/${meeting.linkId}/guest`, body)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect(inbox.filter((m) => m.to === 'flood@victim.example')).toHaveLength(3);
  });
});
