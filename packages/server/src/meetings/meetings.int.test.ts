import {
  ClientMessage,
  E2EE_MAX_BYTES,
  MeetingCloseCode,
  SIGNAL_MAX_BYTES,
  type Meeting,
} from '@rempart/core';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { totpCodeAt } from '../identity/totp.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { MeetingSocket } from '../test-support/meeting-socket.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';
import { ATTEMPT_WINDOW_MS } from './meetings.service.js';

let platform: TestPlatform;
let app: FastifyInstance;
let host: HttpAgent;
let hostSecret: string;
let invitee: HttpAgent;
let inviteeSecret: string;
let stranger: HttpAgent;
let unitMember: HttpAgent;
let lowClearance: HttpAgent;
let plainAgent: HttpAgent;
const sockets: MeetingSocket[] = [];
const engine = new RecordingEngine();

beforeAll(async () => {
  platform = await openTestPlatform({ media: engine });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: host, secret: hostSecret } = await enrolWithTotp(platform, app, {
    email: 'claire.martin@defense.gouv.fr',
    displayName: 'Claire Martin',
    role: 'host',
    unit: 'Cabinet',
  }));
  ({ agent: invitee, secret: inviteeSecret } = await enrolWithTotp(platform, app, {
    email: 'jan.peeters@mil.be',
    displayName: 'Jan Peeters',
    unit: 'Defensie',
  }));
  ({ agent: stranger } = await enrolWithTotp(platform, app, {
    email: 'paul.durand@defense.gouv.fr',
    displayName: 'Paul Durand',
    unit: 'Presse',
  }));
  ({ agent: unitMember } = await enrolWithTotp(platform, app, {
    email: 'ines.roux@defense.gouv.fr',
    displayName: 'Inès Roux',
    unit: 'EMA',
  }));
  ({ agent: lowClearance } = await enrolWithTotp(platform, app, {
    email: 'low@defense.gouv.fr',
    displayName: 'Low Clearance',
    unit: 'EMA',
    clearance: 'internal',
  }));
  ({ agent: plainAgent } = await enrolWithTotp(platform, app, { email: 'agent@defense.gouv.fr' }));
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await app.close();
  await platform.close();
});

beforeEach(() => {
  // A new TOTP time step for each test, so a step-up code is never a replay.
  platform.clock.advance(31_000);
});

/** Restricted and secret meetings need an MFA check from the last 10 minutes. */
async function stepUp(who: HttpAgent, secret: string): Promise<void> {
  const res = await who.post('/api/auth/totp', { code: await totpCodeAt(secret, platform.clock.now()) });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

async function schedule(body: Record<string, unknown> = {}, by = host): Promise<Meeting> {
  const now = platform.clock.now().getTime();
  const res = await by.post('/api/meetings', {
    title: 'Conseil des ministres de la défense',
    classification: 'internal',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 2 * 3600_000).toISOString(),
    invitees: { emails: ['jan.peeters@mil.be'], units: ['EMA'] },
    ...body,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.meeting as Meeting;
}

async function connect(meeting: { linkId: string }, who: HttpAgent | undefined): Promise<MeetingSocket> {
  const socket = await MeetingSocket.open(app, meeting.linkId, who?.cookie);
  sockets.push(socket);
  return socket;
}

const ids = (meeting: Meeting) => ({ meetingId: meeting.id });
const meetingIds = (res: { json: Record<string, unknown> }) =>
  (res.json.meetings as Meeting[]).map((m) => m.id);

describe('scheduling', () => {
  it('creates a meeting with a 128-bit link and no PIN, visible to its hosts and invitees only', async () => {
    const meeting = await schedule({ cohosts: ['ines.roux@defense.gouv.fr'] });
    expect(meeting.linkId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(meeting.linkId, 'base64url')).toHaveLength(16);
    expect(meeting.url).toBe(`${platform.config.publicUrl}/m/${meeting.linkId}`);
    expect(JSON.stringify(meeting)).not.toMatch(/pin|passcode/i);
    expect(meeting.hosts.map((h) => h.displayName).sort()).toEqual(['Claire Martin', 'Inès Roux']);
    expect(meeting.invitees.agents.map((a) => a.email)).toEqual(['jan.peeters@mil.be']);
    expect(meeting.options).toEqual({ lobby: true, guests: false, e2ee: true });

    expect((await invitee.get(`/api/meetings/${meeting.id}`)).status).toBe(200);
    expect(meetingIds(await invitee.get('/api/meetings'))).toContain(meeting.id);
    const hidden = await stranger.get(`/api/meetings/${meeting.id}`);
    expect(hidden.status).toBe(404);
    expect(meetingIds(await stranger.get('/api/meetings'))).not.toContain(meeting.id);
  });

  it('refuses bad schedules with a stable code and creates nothing', async () => {
    const before = (await host.get('/api/meetings')).json.meetings.length;
    const now = platform.clock.now().getTime();
    const cases: [Record<string, unknown>, string][] = [
      [{ endsAt: new Date(now - 120_000).toISOString() }, 'validation_failed'],
      [{ invitees: { emails: ['nobody@nowhere.example'], units: [] } }, 'validation_failed'],
      [{ classification: 'secret', options: { lobby: true, guests: true } }, 'validation_failed'],
      // Guests get their code by email: without outgoing mail there are no guests.
      [{ options: { lobby: true, guests: true } }, 'validation_failed'],
      [{ classification: 'top-secret' }, 'validation_failed'],
      // End-to-end encryption cannot be turned off from restricted up.
      [{ classification: 'restricted', options: { e2ee: false } }, 'e2ee_required'],
      [{ classification: 'secret', options: { lobby: false, e2ee: false } }, 'e2ee_required'],
      [{ pin: '123456' }, 'validation_failed'],
      [{ title: '' }, 'validation_failed'],
    ];
    for (const [body, code] of cases) {
      const res = await host.post('/api/meetings', {
        title: 'x',
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 3600_000).toISOString(),
        ...body,
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe(code);
    }
    const agentTry = await plainAgent.post('/api/meetings', {
      title: 'x',
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
    });
    expect(agentTry.status).toBe(403);
    expect((await host.get('/api/meetings')).json.meetings.length).toBe(before);
  });

  it('refuses a host without the clearance the meeting needs', async () => {
    const now = platform.clock.now().getTime();
    const res = await host.post('/api/meetings', {
      title: 'x',
      classification: 'secret',
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      cohosts: ['low@defense.gouv.fr'],
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/low@defense\.gouv\.fr/);
  });

  it('lists directory entries for hosts only', async () => {
    const res = await host.get('/api/directory/agents?q=peet');
    expect(res.json.agents).toEqual([
      expect.objectContaining({ displayName: 'Jan Peeters', email: 'jan.peeters@mil.be', unit: 'Defensie' }),
    ]);
    expect((await host.get('/api/directory/agents?q=%25')).json.agents).toEqual([]);
    expect((await host.get('/api/directory/units')).json.units).toEqual(
      expect.arrayContaining(['Cabinet', 'Defensie', 'EMA']),
    );
    expect((await plainAgent.get('/api/directory/agents?q=a')).status).toBe(403);
  });
});

describe('admission check over HTTP', () => {
  it('tells each person what would happen, and nothing of the meeting to the refused', async () => {
    const meeting = await schedule();
    const check = async (who: HttpAgent) => (await who.get(`/api/m/${meeting.linkId}`)).json;
    expect(await check(new HttpAgent(app))).toEqual({
      outcome: 'refuse',
      reason: 'unauthenticated',
      meeting: null,
      guestsWelcome: false,
    });
    expect(await check(invitee)).toMatchObject({ outcome: 'admit', meeting: { title: meeting.title } });
    expect(await check(unitMember)).toMatchObject({ outcome: 'admit' });
    expect(await check(stranger)).toMatchObject({ outcome: 'lobby', meeting: { linkId: meeting.linkId } });
    const malformed = await invitee.get('/api/m/123456');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('validation_failed');
    // An unknown link is refused like a stranger: whether a link exists is not revealed.
    expect(await check(invitee).then(() => invitee.get(`/api/m/${'A'.repeat(22)}`))).toMatchObject({
      json: { outcome: 'refuse', meeting: null },
    });
  });
});

describe('the meeting socket', () => {
  it('admits an invitee with verified identities on the roster', async () => {
    const meeting = await schedule({ options: { e2ee: false } });
    const h = await connect(meeting, host);
    const hw = await h.next('welcome');
    expect(hw.self).toMatchObject({
      displayName: 'Claire Martin',
      unit: 'Cabinet',
      host: true,
      guest: false,
    });
    expect(hw.self.mfaAt).not.toBeNull();
    expect(hw.meeting.id).toBe(meeting.id);

    const i = await connect(meeting, invitee);
    const iw = await i.next('welcome');
    expect(iw.self).toMatchObject({
      displayName: 'Jan Peeters',
      unit: 'Defensie',
      host: false,
      invited: true,
    });
    expect(iw.roster.map((p) => p.displayName).sort()).toEqual(['Claire Martin', 'Jan Peeters']);
    await h.latest('roster', (r) => r.participants.length === 2);

    i.send({ type: 'chat.send', text: '<b>Bonjour</b>', ...ids(meeting) });
    const chat = await h.next('chat');
    expect(chat.message).toMatchObject({ text: '<b>Bonjour</b>', from: { displayName: 'Jan Peeters' } });
    i.send({ type: 'hand', raised: true, ...ids(meeting) });
    await h.latest('roster', (r) => r.participants.some((p) => p.displayName === 'Jan Peeters' && p.hand));
  });

  it('keeps a stranger in the lobby until a host admits them, and tells the hosts', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const s = await connect(meeting, stranger);
    const admission = await s.next('admission');
    expect(admission).toMatchObject({ outcome: 'lobby', meeting: { title: meeting.title } });
    // Waiting people see nothing of the meeting: no roster, no chat.
    s.send({ type: 'chat.send', text: 'hello?', ...ids(meeting) });
    expect((await s.next('error')).code).toBe('out_of_order');
    expect(s.messages.some((m) => m.type === 'roster' || m.type === 'welcome' || m.type === 'chat')).toBe(
      false,
    );

    const lobby = await h.latest('lobby', (l) => l.waiting.length === 1);
    expect(lobby.waiting[0]).toMatchObject({ displayName: 'Paul Durand', unit: 'Presse', invited: false });
    const attempt = await h.next('attempt');
    expect(attempt).toMatchObject({ outcome: 'lobby', who: expect.stringContaining('Paul Durand') });

    h.send({ type: 'lobby.admit', entryId: lobby.waiting[0]?.id ?? '', ...ids(meeting) });
    const welcome = await s.next('welcome');
    expect(welcome.roster.map((p) => p.displayName)).toContain('Claire Martin');
    await h.latest('lobby', (l) => l.waiting.length === 0);
  });

  it('refuses people who are not signed in, tells the hosts and raises an alert', async () => {
    const meeting = await schedule({ classification: 'restricted' });
    await stepUp(host, hostSecret);
    const h = await connect(meeting, host);
    await h.next('welcome');
    const before = (await platform.alerts.list('all', 100)).length;
    const anonymous = await connect(meeting, undefined);
    expect(await anonymous.next('admission')).toEqual({
      type: 'admission',
      outcome: 'refuse',
      reason: 'unauthenticated',
      meeting: null,
    });
    expect((await anonymous.closedWith()).code).toBe(MeetingCloseCode.unauthenticated);
    expect(await h.next('attempt')).toMatchObject({
      reason: 'unauthenticated',
      person: { kind: 'signed_out', ip: expect.any(String) },
    });
    const alerts = await platform.alerts.list('all', 100);
    expect(alerts.length).toBe(before + 1);
    expect(alerts[0]).toMatchObject({ source: 'meetings', severity: 'high' });
    const audit = await platform.audit.list(5);
    expect(audit.some((e) => e.action === 'meeting.join' && e.outcome === 'denied')).toBe(true);
  });

  it('refuses strangers outright when the lobby is off, and agents below the classification', async () => {
    const meeting = await schedule({ options: { lobby: false, guests: false } });
    const s = await connect(meeting, stranger);
    expect(await s.next('admission')).toMatchObject({
      outcome: 'refuse',
      reason: 'not_invited',
      meeting: null,
    });
    expect((await s.closedWith()).code).toBe(MeetingCloseCode.refused);

    const secret = await schedule({ classification: 'secret' });
    const low = await connect(secret, lowClearance);
    expect(await low.next('admission')).toMatchObject({ outcome: 'refuse', reason: 'clearance' });
  });

  it('asks for a fresh MFA check before a restricted meeting, tells the hosts, then admits', async () => {
    const meeting = await schedule({ classification: 'restricted' });
    await stepUp(host, hostSecret);
    const h = await connect(meeting, host);
    await h.next('welcome');
    platform.clock.advance(11 * 60_000);
    const first = await connect(meeting, invitee);
    expect(await first.next('admission')).toMatchObject({
      outcome: 'step_up',
      meeting: { title: meeting.title },
    });
    expect((await first.closedWith()).code).toBe(MeetingCloseCode.stepUp);
    // A stale MFA check may be a stolen session: the hosts inside hear of it at once.
    expect(await h.next('attempt')).toMatchObject({
      who: expect.stringContaining('Jan Peeters'),
      outcome: 'step_up',
    });
    const code = await totpCodeAt(inviteeSecret, platform.clock.now());
    expect((await invitee.post('/api/auth/totp', { code })).status).toBe(200);
    const second = await connect(meeting, invitee);
    expect((await second.next('welcome')).self.displayName).toBe('Jan Peeters');
  });

  it('locks: waiting people are turned away, strangers refused, invitees still admitted', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const s = await connect(meeting, stranger);
    await s.next('admission');
    h.send({ type: 'meeting.lock', locked: true, ...ids(meeting) });
    expect(await s.next('admission')).toMatchObject({ outcome: 'refuse', reason: 'locked' });
    expect((await h.latest('meeting', (m) => m.meeting.locked)).meeting.locked).toBe(true);
    const again = await connect(meeting, stranger);
    expect(await again.next('admission')).toMatchObject({ outcome: 'refuse', reason: 'locked' });
    const i = await connect(meeting, invitee);
    await i.next('welcome');
  });

  it('removes a participant at once; coming back needs a host again', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    const { self } = await i.next('welcome');
    expect(engine.calls).toContainEqual({ room: meeting.id, op: 'join', participantId: self.id });
    h.send({ type: 'participant.remove', participantId: self.id, ...ids(meeting) });
    expect(await i.next('removed')).toMatchObject({ by: 'Claire Martin' });
    // The engine was told to drop them before they were told anything.
    expect(engine.calls).toContainEqual({ room: meeting.id, op: 'leave', participantId: self.id });
    expect((await i.closedWith()).code).toBe(MeetingCloseCode.removed);
    await h.latest('roster', (r) => r.participants.length === 1);

    const back = await connect(meeting, invitee);
    expect((await back.next('admission')).outcome).toBe('lobby');
    const lobby = await h.latest('lobby', (l) => l.waiting.length === 1);
    expect(lobby.waiting[0]?.removedBefore).toBe(true);
  });

  it('tells a participant whose media connection failed, and nobody else', async () => {
    const meeting = await schedule({ options: { e2ee: false } });
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    const { self } = await i.next('welcome');
    engine.fail(meeting.id, self.id, 'subscribe connection failed');
    expect(await i.next('error')).toEqual({
      type: 'error',
      code: 'media_failed',
      message: 'subscribe connection failed',
    });
    // Still in the meeting: the others keep seeing them, and they can still talk.
    i.send({ type: 'chat.send', text: 'my video is gone', ...ids(meeting) });
    expect((await h.next('chat')).message).toMatchObject({ text: 'my video is gone' });
    expect(h.messages.some((m) => m.type === 'error')).toBe(false);
    expect(i.closed).toBeUndefined();
  });

  it('lets only hosts use host actions; promotes a co-host', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    const hw = await h.next('welcome');
    const i = await connect(meeting, invitee);
    const iw = await i.next('welcome');
    for (const message of [
      { type: 'participant.remove', participantId: hw.self.id },
      { type: 'participant.mute', participantId: hw.self.id, source: 'microphone' },
      { type: 'meeting.lock', locked: true },
      { type: 'meeting.end' },
    ]) {
      i.send({ ...message, ...ids(meeting) });
      expect((await i.next('error')).code).toBe('forbidden');
    }
    h.send({ type: 'participant.mute', participantId: iw.self.id, source: 'microphone', ...ids(meeting) });
    expect(await i.next('muted')).toMatchObject({ source: 'microphone', by: 'Claire Martin' });
    // The mute is enforced by the engine, not left to the muted person's browser.
    expect(engine.calls).toContainEqual({
      room: meeting.id,
      op: 'forwarding',
      participantId: iw.self.id,
      source: 'microphone',
      on: false,
    });
    h.send({ type: 'participant.promote', participantId: iw.self.id, ...ids(meeting) });
    await i.next('lobby');
    await h.latest('roster', (r) => r.participants.every((p) => p.host));
    const stored = await host.get(`/api/meetings/${meeting.id}`);
    expect((stored.json.meeting as Meeting).hosts.map((a) => a.email)).toContain('jan.peeters@mil.be');
  });

  it('rotating the link kills the old one at once and keeps those inside', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const rotated = await host.post(`/api/meetings/${meeting.id}/rotate`);
    expect(rotated.status).toBe(200);
    const next = rotated.json.meeting as Meeting;
    expect(next.linkId).not.toBe(meeting.linkId);
    expect((await h.latest('meeting', (m) => m.meeting.linkId === next.linkId)).meeting.url).toBe(next.url);
    const old = await connect(meeting, invitee);
    expect(await old.next('admission')).toMatchObject({ outcome: 'refuse', meeting: null });
    expect((await invitee.get(`/api/m/${meeting.linkId}`)).json.outcome).toBe('refuse');
    const fresh = await connect(next, invitee);
    await fresh.next('welcome');
    expect((await invitee.post(`/api/meetings/${meeting.id}/rotate`)).status).toBe(403);
  });

  it('closes the socket of a session revoked elsewhere', async () => {
    const { agent: phone } = await enrolWithTotp(platform, app, {
      email: 'revoked@defense.gouv.fr',
      unit: 'EMA',
    });
    const meeting = await schedule();
    const socket = await connect(meeting, phone);
    await socket.next('welcome');
    const sessions = (await phone.get('/api/me/sessions')).json.sessions as { id: string }[];
    expect((await phone.delete(`/api/me/sessions/${sessions[0]?.id}`)).status).toBe(204);
    expect((await socket.closedWith()).code).toBe(MeetingCloseCode.sessionEnded);
  });

  it('ends the meeting for everyone; then nobody gets in', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    await i.next('welcome');
    h.send({ type: 'meeting.end', ...ids(meeting) });
    expect(await i.next('ended')).toMatchObject({ by: 'Claire Martin' });
    expect((await i.closedWith()).code).toBe(MeetingCloseCode.ended);
    const late = await connect(meeting, invitee);
    expect(await late.next('admission')).toMatchObject({ outcome: 'refuse', reason: 'ended' });
    expect((await host.get(`/api/meetings/${meeting.id}`)).json.meeting.endedAt).not.toBeNull();
  });

  it('rate-limits a source of repeated refused attempts and raises an alert', async () => {
    platform.clock.advance(ATTEMPT_WINDOW_MS);
    const meeting = await schedule({ options: { lobby: false, guests: false } });
    const reasons: (string | null)[] = [];
    for (let n = 0; n < 12; n++) {
      const s = await connect(meeting, stranger);
      reasons.push((await s.next('admission')).reason);
    }
    expect(reasons.slice(0, 10).every((r) => r === 'not_invited')).toBe(true);
    expect(reasons.slice(10)).toEqual(['rate_limited', 'rate_limited']);
    const alerts = await platform.alerts.list('all', 20);
    expect(alerts.some((a) => /Repeated refused attempts/.test(a.title) && a.severity === 'high')).toBe(true);
    // Only that person is held back: an invitee behind the same address still gets in.
    const i = await connect(meeting, invitee);
    await i.next('welcome');
    platform.clock.advance(ATTEMPT_WINDOW_MS);
  });
});

describe('end-to-end encryption messages', () => {
  const e2eeTypes = ['e2ee.keypackage', 'e2ee.commit', 'e2ee.welcome'];
  const sawE2ee = (socket: MeetingSocket) => socket.messages.some((m) => e2eeTypes.includes(m.type));
  /** Loopback delivers in well under this: what has not arrived by then was not sent. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 200));

  it('are relayed as they are between admitted participants of the meeting, never to the lobby nor another meeting', async () => {
    const meeting = await schedule();
    const other = await schedule({ title: 'Autre réunion' });
    const h = await connect(meeting, host);
    const hw = await h.next('welcome');
    const i = await connect(meeting, invitee);
    const iw = await i.next('welcome');
    const u = await connect(meeting, unitMember);
    const uw = await u.next('welcome');
    const s = await connect(meeting, stranger);
    await s.next('admission');
    const elsewhere = await connect(other, lowClearance);
    await elsewhere.next('welcome');

    // A KeyPackage goes to everyone else in the meeting, named by who the server knows sent it.
    i.send({ type: 'e2ee.keypackage', data: 'S2V5UGFja2FnZQ==', ...ids(meeting) });
    expect(await h.next('e2ee.keypackage')).toEqual({
      type: 'e2ee.keypackage',
      from: iw.self.id,
      data: 'S2V5UGFja2FnZQ==',
    });
    expect((await u.next('e2ee.keypackage')).from).toBe(iw.self.id);

    // A commit goes to the others; its Welcome only to whom it adds.
    h.send({
      type: 'e2ee.commit',
      data: 'Q29tbWl0',
      welcome: { data: 'V2VsY29tZQ==', to: [iw.self.id] },
      ...ids(meeting),
    });
    expect(await i.next('e2ee.welcome')).toEqual({
      type: 'e2ee.welcome',
      from: hw.self.id,
      data: 'V2VsY29tZQ==',
    });
    expect(await u.next('e2ee.commit')).toEqual({ type: 'e2ee.commit', from: hw.self.id, data: 'Q29tbWl0' });

    // Someone in the lobby can neither send nor receive any of it.
    s.send({ type: 'e2ee.keypackage', data: 'TG9iYnk=', ...ids(meeting) });
    expect((await s.next('error')).code).toBe('out_of_order');
    await settled();
    expect(i.messages.filter((m) => m.type === 'e2ee.commit')).toEqual([]);
    expect(h.messages.some((m) => m.type === 'e2ee.keypackage')).toBe(false);
    expect(sawE2ee(s)).toBe(false);
    expect(sawE2ee(elsewhere)).toBe(false);
    expect(uw.self.id).not.toBe(hw.self.id);
  });

  it('are refused when malformed, too large or addressed outside the meeting, and change nothing', async () => {
    const meeting = await schedule();
    const other = await schedule({ title: 'Autre réunion' });
    const h = await connect(meeting, host);
    const hw = await h.next('welcome');
    const i = await connect(meeting, invitee);
    const iw = await i.next('welcome');
    const elsewhere = await connect(other, lowClearance);
    const ew = await elsewhere.next('welcome');
    const base64Max = Math.ceil(E2EE_MAX_BYTES / 3) * 4;
    const commit = (welcome: unknown, data = 'Q29tbWl0') =>
      JSON.stringify({ type: 'e2ee.commit', data, welcome, ...ids(meeting) });
    const cases: [string, string][] = [
      [JSON.stringify({ type: 'e2ee.keypackage', data: 'not base64!', ...ids(meeting) }), 'malformed'],
      [
        JSON.stringify({ type: 'e2ee.keypackage', data: 'A'.repeat(base64Max + 4), ...ids(meeting) }),
        'malformed',
      ],
      [
        JSON.stringify({ type: 'e2ee.keypackage', data: 'S2V5', from: hw.self.id, ...ids(meeting) }),
        'malformed',
      ],
      [JSON.stringify({ type: 'e2ee.welcome', data: 'S2V5', ...ids(meeting) }), 'malformed'],
      [JSON.stringify({ type: 'e2ee.keypackage', data: 'S2V5', meetingId: other.id }), 'wrong_meeting'],
      [commit({ data: 'V2VsY29tZQ==', to: [ew.self.id] }), 'unknown_participant'],
      [commit({ data: 'V2VsY29tZQ==', to: [iw.self.id] }), 'unknown_participant'],
      [commit({ data: 'V2VsY29tZQ==', to: [] }), 'malformed'],
      [commit(null, 'A'.repeat(SIGNAL_MAX_BYTES)), 'too_large'],
    ];
    for (const [raw, code] of cases) {
      i.sendRaw(raw);
      expect((await i.next('error')).code, raw.slice(0, 80)).toBe(code);
    }
    await settled();
    expect(sawE2ee(h)).toBe(false);
    expect(sawE2ee(elsewhere)).toBe(false);
    // A refused commit relayed nothing, and a good one still goes through.
    i.send({ type: 'e2ee.commit', data: 'Q29tbWl0', welcome: null, ...ids(meeting) });
    expect((await h.next('e2ee.commit')).from).toBe(iw.self.id);
    expect(i.closed).toBeUndefined();
  });

  const sealed = { epoch: 3, leaf: 1, data: Buffer.alloc(48, 7).toString('base64') };

  it('carry sealed chat only, which the server keeps sealed and hands to latecomers as it came', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    const iw = await i.next('welcome');
    i.send({ type: 'chat.send', text: 'en clair', ...ids(meeting) });
    expect((await i.next('error')).code).toBe('e2ee_required');
    i.send({ type: 'chat.send', sealed, ...ids(meeting) });
    const relayed = (await h.next('chat')).message;
    expect(relayed).toMatchObject({ sealed, from: { participantId: iw.self.id } });
    expect(relayed).not.toHaveProperty('text');
    // The history a newcomer receives holds the ciphertext, and no clear chat at all.
    const u = await connect(meeting, unitMember);
    const uw = await u.next('welcome');
    expect(uw.chat).toEqual([relayed]);
    expect(JSON.stringify(uw.chat)).not.toContain('en clair');
  });

  it('are refused in a meeting without end-to-end encryption, where chat goes in clear', async () => {
    const meeting = await schedule({ options: { e2ee: false } });
    const h = await connect(meeting, host);
    expect((await h.next('welcome')).meeting.options.e2ee).toBe(false);
    const i = await connect(meeting, invitee);
    await i.next('welcome');
    i.send({ type: 'chat.send', sealed, ...ids(meeting) });
    expect((await i.next('error')).code).toBe('e2ee_off');
    i.send({ type: 'e2ee.keypackage', data: 'S2V5UGFja2FnZQ==', ...ids(meeting) });
    expect((await i.next('error')).code).toBe('e2ee_off');
    i.send({ type: 'chat.send', text: 'en clair', ...ids(meeting) });
    expect((await h.next('chat')).message).toMatchObject({ text: 'en clair' });
    await settled();
    expect(sawE2ee(h)).toBe(false);
  });
});

describe('bad signalling messages', () => {
  it('are refused with an error and leave the meeting working', async () => {
    const meeting = await schedule({ options: { e2ee: false } });
    const other = await schedule({ title: 'Autre réunion' });
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    await i.next('welcome');
    const cases: [string | Buffer, string][] = [
      ['not json', 'malformed'],
      [JSON.stringify({ type: 'chat.send' }), 'malformed'],
      [JSON.stringify({ type: 'nope', ...ids(meeting) }), 'malformed'],
      [JSON.stringify({ type: 'chat.send', text: 'x', meetingId: other.id }), 'wrong_meeting'],
      [JSON.stringify({ type: 'chat.send', text: 'x'.repeat(5000), ...ids(meeting) }), 'malformed'],
      [JSON.stringify({ type: 'subscribe.answer', sdp: 'v=0', ...ids(meeting) }), 'out_of_order'],
      [
        JSON.stringify({ type: 'keyframe', participantId: crypto.randomUUID(), ...ids(meeting) }),
        'unknown_participant',
      ],
      [
        JSON.stringify({ type: 'chat.send', text: 'x'.repeat(SIGNAL_MAX_BYTES), ...ids(meeting) }),
        'too_large',
      ],
      [Buffer.from([1, 2, 3]), 'malformed'],
    ];
    for (const [raw, code] of cases) {
      i.sendRaw(raw);
      expect((await i.next('error')).code, String(raw).slice(0, 60)).toBe(code);
    }
    i.send({ type: 'chat.send', text: 'still here', ...ids(meeting) });
    expect((await h.next('chat')).message).toMatchObject({ text: 'still here' });
    expect(i.closed).toBeUndefined();
  });

  it('never crash the socket nor change the meeting, whatever they hold (fuzzed)', async () => {
    const meeting = await schedule();
    const h = await connect(meeting, host);
    await h.next('welcome');
    const i = await connect(meeting, invitee);
    await i.next('welcome');
    const message = fc.oneof(
      fc.json(),
      fc.record(
        {
          type: fc.constantFrom(...ClientMessage.options.map((o) => o.shape.type.value)),
          meetingId: fc.oneof(fc.constant(meeting.id), fc.uuid(), fc.string()),
          participantId: fc.oneof(fc.uuid(), fc.string()),
          entryId: fc.uuid(),
          sdp: fc.string({ maxLength: 200 }),
          text: fc.string({ maxLength: 50 }),
          locked: fc.anything(),
          source: fc.string(),
          sources: fc.dictionary(fc.string(), fc.string()),
        },
        { requiredKeys: ['type'] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        platform.clock.advance(1000);
        i.sendRaw(typeof m === 'string' ? m : JSON.stringify(m));
        i.send({ type: 'ping', ...ids(meeting) });
        await i.next('pong');
      }),
      { numRuns: 150 },
    );
    expect(i.closed).toBeUndefined();
    const roster = (await h.latest('roster', () => true)).participants;
    expect(roster.map((p) => p.displayName).sort()).toEqual(['Claire Martin', 'Jan Peeters']);
    const state = await host.get(`/api/meetings/${meeting.id}`);
    expect(state.json.meeting).toMatchObject({ locked: false, endedAt: null });
  });
});
