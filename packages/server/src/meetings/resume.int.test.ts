import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESUME_TOKEN_TTL_MS, type Meeting } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import type { DatabaseTarget } from '../db/client.js';
import { KeyRing } from '../identity/secrets.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { MeetingSocket } from '../test-support/meeting-socket.js';
import {
  openTestPlatform,
  testDatabaseUrl,
  testTarget,
  type TestPlatform,
} from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';
import { ResumeTokens, resumeHolder } from './resume.js';

const GRACE_SECONDS = 2;
const masterKey = randomBytes(32);
const pgliteDir = mkdtempSync(join(tmpdir(), 'rempart-resume-'));
let target: DatabaseTarget;
let platform: TestPlatform;
let app: FastifyInstance;
let engine: RecordingEngine;
let host: HttpAgent;
let stranger: HttpAgent;
let invitee: HttpAgent;
const sockets: MeetingSocket[] = [];

/** Opens the platform on the test's database and master key: reopening it is a restart of the server. */
async function start(): Promise<void> {
  engine = new RecordingEngine();
  platform = await openTestPlatform({
    media: engine,
    database: target,
    masterKey,
    env: { REMPART_MEETING_RESUME_GRACE_SECONDS: String(GRACE_SECONDS) },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  // A socket injected first would find the routes not ready (an HTTP request readies them itself).
  await app.ready();
}

/** The same signed-in person, speaking to the restarted server. */
function sameSession(agent: HttpAgent): HttpAgent {
  const again = new HttpAgent(app, agent.ip);
  again.cookie = agent.cookie;
  again.csrf = agent.csrf;
  return again;
}

async function stop(): Promise<void> {
  await app.close();
  await platform.close();
}

/** A restart of the server: the same database and master key, the same people signed in. */
async function restart(): Promise<void> {
  await stop();
  await start();
  [host, stranger, invitee] = [host, stranger, invitee].map(sameSession) as [HttpAgent, HttpAgent, HttpAgent];
}

beforeAll(async () => {
  target = testDatabaseUrl ? await testTarget() : { kind: 'pglite', dataDir: pgliteDir };
  await start();
  ({ agent: host } = await enrolWithTotp(platform, app, {
    email: 'claire.martin@defense.gouv.fr',
    displayName: 'Claire Martin',
    role: 'host',
    unit: 'Cabinet',
  }));
  ({ agent: invitee } = await enrolWithTotp(platform, app, {
    email: 'jan.peeters@mil.be',
    displayName: 'Jan Peeters',
    unit: 'Defensie',
  }));
  ({ agent: stranger } = await enrolWithTotp(platform, app, {
    email: 'paul.durand@defense.gouv.fr',
    displayName: 'Paul Durand',
    unit: 'Presse',
  }));
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await stop();
  rmSync(pgliteDir, { recursive: true, force: true });
});

async function schedule(): Promise<Meeting> {
  const now = platform.clock.now().getTime();
  const res = await host.post('/api/meetings', {
    title: 'Cellule de crise',
    classification: 'internal',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 2 * 3600_000).toISOString(),
    invitees: { emails: ['jan.peeters@mil.be'], units: [] },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.meeting as Meeting;
}

async function connect(meeting: Meeting, who: HttpAgent, resume?: string): Promise<MeetingSocket> {
  const socket = await MeetingSocket.open(app, meeting.linkId, who.cookie, {}, resume);
  sockets.push(socket);
  return socket;
}

/** The host, then the stranger let in from the lobby. */
async function hostAndAdmittedStranger(meeting: Meeting) {
  const hostSocket = await connect(meeting, host);
  const hostWelcome = await hostSocket.next('welcome');
  const strangerSocket = await connect(meeting, stranger);
  expect((await strangerSocket.next('admission')).outcome).toBe('lobby');
  const lobby = await hostSocket.latest('lobby', (m) => m.waiting.length === 1);
  hostSocket.send({ type: 'lobby.admit', meetingId: meeting.id, entryId: lobby.waiting[0]?.id ?? '' });
  const welcome = await strangerSocket.next('welcome');
  return { hostSocket, hostWelcome, strangerSocket, welcome };
}

const ofCall = (op: string, participantId: string) =>
  engine.calls.filter((c) => c.op === op && 'participantId' in c && c.participantId === participantId);

const auditActions = async (action: string) =>
  (await platform.audit.list(500)).filter((e) => e.action === action);

describe('resuming a presence', () => {
  it('takes a dropped socket back to the same participant, with no lobby, its media kept and what it missed', async () => {
    const meeting = await schedule();
    const { hostSocket, hostWelcome, strangerSocket, welcome } = await hostAndAdmittedStranger(meeting);
    expect(welcome.resumed).toBe(false);
    const strangerId = welcome.self.id;

    strangerSocket.drop();
    // Away, still on the roster, shown to the others as reconnecting; what it must not miss is kept for it.
    const away = await hostSocket.latest('roster', (m) =>
      m.participants.some((p) => p.id === strangerId && p.reconnecting === true),
    );
    expect(away.participants.find((p) => p.id === hostWelcome.self.id)?.reconnecting).toBeUndefined();
    // A roster change while it is away (the host's hand): its welcome back tells it.
    hostSocket.send({ type: 'hand', meetingId: meeting.id, raised: true });
    await hostSocket.latest('roster', (m) =>
      m.participants.some((p) => p.id === hostWelcome.self.id && p.hand),
    );
    hostSocket.send({ type: 'e2ee.keypackage', meetingId: meeting.id, data: 'AAAAAAAA' });
    const back = await connect(meeting, stranger, welcome.resume);
    const again = await back.next('welcome');
    expect(again).toMatchObject({ resumed: true, self: { id: strangerId, joinedAt: welcome.self.joinedAt } });
    expect(again.roster.some((p) => p.reconnecting === true)).toBe(false);
    expect(again.roster.find((p) => p.id === hostWelcome.self.id)?.hand).toBe(true);
    // Back: the others see it so; it has the roster from its welcome alone (none is held for it).
    await hostSocket.latest('roster', (m) =>
      m.participants.some((p) => p.id === strangerId && p.reconnecting === undefined),
    );
    expect(back.messages.filter((m) => m.type === 'roster')).toEqual([]);
    expect(back.messages.some((m) => m.type === 'admission')).toBe(false);
    expect(await back.next('e2ee.keypackage')).toMatchObject({ from: hostWelcome.self.id, data: 'AAAAAAAA' });
    expect(back.messages.some((m) => m.type === 'media.reset')).toBe(false);
    // The engine never let go of its media connections.
    expect(ofCall('leave', strangerId)).toHaveLength(0);
    expect(ofCall('join', strangerId)).toHaveLength(1);
    const roster = await hostSocket.latest('roster', () => true);
    expect(roster.participants.map((p) => p.id)).toContain(strangerId);
    // The resumed presence speaks as before.
    back.send({ type: 'hand', meetingId: meeting.id, raised: true });
    await hostSocket.latest('roster', (m) => m.participants.some((p) => p.id === strangerId && p.hand));
  });

  it('gives the presence to the newest socket, and the older one is closed', async () => {
    const meeting = await schedule();
    const { welcome, strangerSocket } = await hostAndAdmittedStranger(meeting);
    const second = await connect(meeting, stranger, welcome.resume);
    expect((await second.next('welcome')).self.id).toBe(welcome.self.id);
    expect((await strangerSocket.closedWith()).code).toBe(4409);
  });

  it('lets a presence not resumed within the grace period leave the roster and the media room', async () => {
    const meeting = await schedule();
    const { hostSocket, welcome, strangerSocket } = await hostAndAdmittedStranger(meeting);
    strangerSocket.drop();
    await hostSocket.latest(
      'roster',
      (m) => !m.participants.some((p) => p.id === welcome.self.id),
      GRACE_SECONDS * 1000 + 3000,
    );
    expect(ofCall('leave', welcome.self.id)).toHaveLength(1);
    // Its token no longer names a presence: admission decides afresh, and a new presence begins.
    const late = await connect(meeting, stranger, welcome.resume);
    expect(await late.next('welcome')).toMatchObject({ resumed: false });
    expect(late.messages.some((m) => m.type === 'welcome' && m.self.id === welcome.self.id)).toBe(false);
  });

  it('refuses forged, expired, foreign and removed participants’ tokens, and audits them', async () => {
    const meeting = await schedule();
    const other = await schedule();
    const { hostSocket, welcome, strangerSocket } = await hostAndAdmittedStranger(meeting);
    const strangerId = welcome.self.id;
    const sessionOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { h: string }).h;
    const tokens = new ResumeTokens(new KeyRing(masterKey));
    const claims = { meetingId: meeting.id, participantId: strangerId, holder: sessionOf(welcome.resume) };
    const now = platform.clock.now();
    const refused = {
      forged: new ResumeTokens(new KeyRing(randomBytes(32))).issue(claims, now),
      expired: tokens.issue(claims, new Date(now.getTime() - RESUME_TOKEN_TTL_MS - 1)),
      other_meeting: tokens.issue({ ...claims, meetingId: other.id }, now),
      other_holder: tokens.issue({ ...claims, holder: resumeHolder({ sessionId: randomUUID() }) }, now),
    };
    const before = (await auditActions('meeting.resume')).length;
    for (const token of Object.values(refused)) {
      // Admitted afresh (the host let this person in before) as a new presence: the token was ignored.
      const attempt = await connect(meeting, stranger, token);
      const fresh = await attempt.next('welcome');
      expect(fresh.resumed).toBe(false);
      expect(fresh.self.id).not.toBe(strangerId);
      attempt.close();
    }
    const audited = (await auditActions('meeting.resume')).slice(0, 4);
    expect((await auditActions('meeting.resume')).length - before).toBe(4);
    expect(audited.map((e) => (e.details as { reason: string }).reason).sort()).toEqual(
      Object.keys(refused).sort(),
    );
    // Someone else's session cannot use the stranger's token either.
    const thief = await connect(meeting, invitee, welcome.resume);
    expect((await thief.next('welcome')).self.id).not.toBe(strangerId);
    thief.close();

    hostSocket.send({ type: 'participant.remove', meetingId: meeting.id, participantId: strangerId });
    await strangerSocket.closedWith();
    const removed = await connect(meeting, stranger, welcome.resume);
    const answer = await removed.next('admission');
    expect(answer.outcome).toBe('lobby');
    const lobby = await hostSocket.latest('lobby', (m) => m.waiting.length > 0);
    expect(lobby.waiting[0]?.removedBefore).toBe(true);
  });

  it('comes back after a restart of the server with its token: same participant, no lobby, media reset', async () => {
    const meeting = await schedule();
    const { hostWelcome, welcome } = await hostAndAdmittedStranger(meeting);
    await restart();

    // The stranger comes back first: the host, not back yet, is on the roster as before.
    const stranger2 = await connect(meeting, stranger, welcome.resume);
    const again = await stranger2.next('welcome');
    expect(again).toMatchObject({ resumed: true, self: { id: welcome.self.id } });
    expect(again.roster.map((p) => p.id).sort()).toEqual([hostWelcome.self.id, welcome.self.id].sort());
    expect(again.roster.find((p) => p.id === hostWelcome.self.id)).toMatchObject({
      joinedAt: hostWelcome.self.joinedAt,
      reconnecting: true,
    });
    expect(again.roster.find((p) => p.id === welcome.self.id)?.reconnecting).toBeUndefined();
    expect(await stranger2.next('media.reset')).toEqual({ type: 'media.reset', reason: 'server_restarted' });
    expect(stranger2.messages.some((m) => m.type === 'admission')).toBe(false);
    expect(ofCall('join', welcome.self.id)).toHaveLength(1);

    const host2 = await connect(meeting, host, hostWelcome.resume);
    expect(await host2.next('welcome')).toMatchObject({
      resumed: true,
      self: { id: hostWelcome.self.id, host: true },
    });
    await host2.next('media.reset');
    // With the host back, the stranger sees no one reconnecting.
    await stranger2.latest('roster', (m) => m.participants.every((p) => p.reconnecting === undefined));
  }, 60_000);

  it('keeps a host’s removal across a restart of the server: the removed invitee goes through the lobby again', async () => {
    const meeting = await schedule();
    const hostSocket = await connect(meeting, host);
    await hostSocket.next('welcome');
    const inviteeSocket = await connect(meeting, invitee);
    const inviteeWelcome = await inviteeSocket.next('welcome');
    // Once removed, an invitee waits in the lobby for a host's decision.
    hostSocket.send({
      type: 'participant.remove',
      meetingId: meeting.id,
      participantId: inviteeWelcome.self.id,
    });
    await inviteeSocket.next('removed');
    await restart();

    const knocking = await connect(meeting, invitee);
    expect((await knocking.next('admission')).outcome).toBe('lobby');
    expect(knocking.messages.some((m) => m.type === 'welcome')).toBe(false);
    const host2 = await connect(meeting, host);
    await host2.next('welcome');
    const lobby = await host2.latest('lobby', (m) => m.waiting.length === 1);
    expect(lobby.waiting[0]).toMatchObject({ displayName: 'Jan Peeters', removedBefore: true });
  }, 60_000);

  it('asks the engine for an ICE restart of the subscribe connection', async () => {
    const meeting = await schedule();
    const hostSocket = await connect(meeting, host);
    const { self } = await hostSocket.next('welcome');
    hostSocket.send({ type: 'ice.restart', meetingId: meeting.id });
    await expect.poll(() => ofCall('ice-restart', self.id)).toHaveLength(1);
  });
});
