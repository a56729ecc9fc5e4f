import type { AdmissionCheck, SealedChat, TrackInfo } from '@rempart/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RETRIES, MeetingClient, type E2eeSession, type MeetingClientDeps } from './client';
import type { OpenedChat } from './e2ee/chat';
import { initialE2ee, type FrameCrypto } from './e2ee/session';
import type { Outgoing, SocketEvents } from './connection';
import type { MediaHandlers, MediaSession } from './media';
import { linkId, meetingId, preview, welcome } from './test-fixtures';

const rotated = 'ZyXwVuTsRqPoNmLkJiHgFe';
const otherId = '22222222-2222-4222-8222-222222222222';
const welcomeAt = (link = linkId) => welcome({ link, iceServers: [{ urls: ['stun:127.0.0.1:3478'] }] });

class FakeSocket {
  sent: Outgoing[] = [];
  open = true;
  constructor(
    readonly url: string,
    readonly events: SocketEvents,
  ) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.open = false;
  }
  isOpen() {
    return this.open;
  }
  receive(message: unknown) {
    this.events.message(JSON.stringify(message));
  }
}

class FakeMedia implements MediaSession {
  closed = false;
  answers: string[] = [];
  offers: { sdp: string; tracks: readonly TrackInfo[] }[] = [];
  constructor(readonly handlers: MediaHandlers) {}
  start() {
    this.handlers.send({ type: 'publish', sdp: 'v=0 offer', sources: { '0': 'microphone', '1': 'camera' } });
    return Promise.resolve();
  }
  replaceTrack() {
    return Promise.resolve();
  }
  setScreen() {
    return Promise.resolve();
  }
  publishAnswer(sdp: string) {
    this.answers.push(sdp);
  }
  publishRefused() {
    return true;
  }
  subscribeOffer(sdp: string, tracks: readonly TrackInfo[]) {
    this.offers.push({ sdp, tracks });
    return Promise.resolve();
  }
  audioLevels() {
    return Promise.resolve(new Map<string, number>());
  }
  recovered = 0;
  recover() {
    this.recovered++;
  }
  close() {
    this.closed = true;
  }
}

/** End-to-end encryption stands aside here: frames pass through, keys are someone else's test. */
class FakeE2ee implements E2eeSession {
  readonly snapshot = { ...initialE2ee, state: 'on' as const };
  readonly crypto: FrameCrypto | undefined = {
    attachSender: () => undefined,
    attachReceiver: () => undefined,
  };
  rosters = 0;
  closed = false;
  chatReady = true;
  roster() {
    this.rosters++;
  }
  receive() {}
  /** Sealing stands aside too: the "ciphertext" is the text reversed and padded, enough to tell them apart. */
  sealChat(text: string) {
    return Promise.resolve({
      epoch: 1,
      leaf: 0,
      data: btoa(`${'.'.repeat(30)}${[...text].reverse().join('')}`),
    });
  }
  openChat(sealed: SealedChat): Promise<OpenedChat> {
    return Promise.resolve({ kind: 'text', text: [...atob(sealed.data).slice(30)].reverse().join('') });
  }
  close() {
    this.closed = true;
  }
}

/** A browser without encoded transforms: no encryption possible. */
class UnsupportedE2ee extends FakeE2ee {
  override readonly crypto = undefined;
}

function setUp(checks: AdmissionCheck[], confirm = true, e2ee: () => E2eeSession = () => new FakeE2ee()) {
  const sockets: FakeSocket[] = [];
  const media: FakeMedia[] = [];
  const confirmIdentity = vi.fn(() => Promise.resolve(confirm));
  const deps: MeetingClientDeps = {
    check: vi.fn(() => {
      const next = checks.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no more checks'));
    }),
    confirmIdentity,
    socketUrl: (link) => `ws://test/api/meetings/live/${link}`,
    createSocket: (url, events) => {
      const socket = new FakeSocket(url, events);
      sockets.push(socket);
      return socket;
    },
    createMedia: (_ice, handlers) => {
      const session = new FakeMedia(handlers);
      media.push(session);
      return session;
    },
    createE2ee: e2ee,
  };
  const client = new MeetingClient(linkId, deps);
  return { client, deps, confirmIdentity, sockets, media, phase: () => client.getSnapshot().state.phase };
}

const admit: AdmissionCheck = { outcome: 'admit', reason: null, meeting: preview, guestsWelcome: false };
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() =>
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }),
);
afterEach(() => vi.useRealTimers());

describe('the meeting client', () => {
  it('checks, shows the pre-join screen, then joins and publishes after welcome', async () => {
    const { client, sockets, media, phase } = setUp([admit]);
    await client.check();
    expect(phase()).toBe('prejoin');
    client.join();
    expect(phase()).toBe('connecting');
    expect(sockets[0]?.url).toBe(`ws://test/api/meetings/live/${linkId}`);
    sockets[0]?.receive(welcomeAt());
    expect(phase()).toBe('joined');
    await vi.waitFor(() => expect(client.getSnapshot().media).toBe('connected'));
    const sent = sockets[0]?.sent.map((m) => m.type);
    expect(sent).toContain('media.state');
    expect(sent).toContain('publish');
    sockets[0]?.receive({ type: 'publish.answer', sdp: 'v=0 answer' });
    expect(media[0]?.answers).toEqual(['v=0 answer']);
    client.close();
  });

  it('hands subscribe offers to the media connection', async () => {
    const { client, sockets, media } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    const tracks = [{ mid: '0', participantId: otherId, source: 'microphone' }];
    sockets[0]?.receive({ type: 'subscribe.offer', sdp: 'v=0 offer', tracks });
    expect(media[0]?.offers).toEqual([{ sdp: 'v=0 offer', tracks }]);
    client.close();
  });

  it('hands the MLS messages and every roster to end-to-end encryption, and shows its state', async () => {
    const e2ee = new FakeE2ee();
    const received = vi.spyOn(e2ee, 'receive');
    const { client, sockets } = setUp([admit], true, () => e2ee);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    sockets[0]?.receive({ type: 'e2ee.commit', from: otherId, data: 'Q29tbWl0' });
    sockets[0]?.receive({ type: 'roster', participants: [] });
    expect(received).toHaveBeenCalledWith({ type: 'e2ee.commit', from: otherId, data: 'Q29tbWl0' });
    expect(e2ee.rosters).toBe(2);
    expect(client.getSnapshot().e2ee.state).toBe('on');
    client.leave();
    expect(e2ee.closed).toBe(true);
    client.close();
  });

  it('sends chat sealed in an end-to-end encrypted meeting, not before it holds the keys, and opens what it receives', async () => {
    const e2ee = new FakeE2ee();
    const { client, sockets } = setUp([admit], true, () => e2ee);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    e2ee.chatReady = false;
    expect(client.sendChat('trop tôt')).toBe(false);
    e2ee.chatReady = true;
    expect(client.sendChat('Bonjour')).toBe(true);
    await settle();
    const chat = sockets[0]?.sent.filter((m) => m.type === 'chat.send');
    expect(chat).toEqual([{ type: 'chat.send', sealed: await e2ee.sealChat('Bonjour'), meetingId }]);
    expect(JSON.stringify(sockets[0]?.sent)).not.toContain('Bonjour');

    const message = {
      id: '33333333-3333-4333-8333-333333333333',
      from: { participantId: otherId, displayName: 'Jan Peeters', guest: false },
      sealed: await e2ee.sealChat('Salut'),
      at: '2026-12-01T10:00:00.000Z',
    };
    sockets[0]?.receive({ type: 'chat', message });
    await settle();
    expect(client.getSnapshot().openedChat.get(message.id)).toEqual({ kind: 'text', text: 'Salut' });
    client.close();
  });

  it('sends media without frame encryption and chat in clear where the meeting is not end-to-end encrypted', async () => {
    const create = vi.fn(() => new FakeE2ee());
    const { client, sockets, media } = setUp([admit], true, create);
    await client.check();
    client.join();
    const clear = welcomeAt();
    sockets[0]?.receive({
      ...clear,
      meeting: { ...clear.meeting, options: { ...clear.meeting.options, e2ee: false } },
    });
    expect(create).not.toHaveBeenCalled();
    expect(media[0]?.handlers.frames).toBeUndefined();
    expect(client.getSnapshot().e2ee.state).toBe('clear');
    expect(client.sendChat('en clair')).toBe(true);
    expect(sockets[0]?.sent.filter((m) => m.type === 'chat.send')).toEqual([
      { type: 'chat.send', text: 'en clair', meetingId },
    ]);
    client.close();
  });

  it('sends no media at all where frames cannot be encrypted', async () => {
    const { client, sockets, media } = setUp([admit], true, () => new UnsupportedE2ee());
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    expect(media).toHaveLength(0);
    expect(client.getSnapshot().media).toBe('failed');
    client.close();
  });

  it('asks for a step-up when the socket requires it, then connects again', async () => {
    const { client, confirmIdentity, sockets, phase } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive({ type: 'admission', outcome: 'step_up', reason: null, meeting: preview });
    sockets[0]?.events.close(4428, 'step-up required');
    await settle();
    expect(confirmIdentity).toHaveBeenCalledTimes(1);
    expect(sockets).toHaveLength(2);
    expect(phase()).toBe('connecting');
    client.close();
  });

  it('stays on the step-up screen when the person cancels, and checks again once they confirm', async () => {
    const checks: AdmissionCheck[] = [
      { outcome: 'step_up', reason: null, meeting: preview, guestsWelcome: false },
      admit,
    ];
    const { client, confirmIdentity, phase } = setUp(checks, false);
    await client.check();
    await settle();
    expect(phase()).toBe('step-up');
    confirmIdentity.mockResolvedValue(true);
    await client.stepUp();
    expect(phase()).toBe('prejoin');
    client.close();
  });

  it('tears media down when removed, and says by whom', async () => {
    const { client, sockets, media, phase } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    sockets[0]?.receive({ type: 'removed', by: 'Jean Dupont' });
    expect(phase()).toBe('removed');
    expect(client.getSnapshot().state.by).toBe('Jean Dupont');
    expect(media[0]?.closed).toBe(true);
    expect(sockets[0]?.open).toBe(false);
    client.close();
  });

  it('reconnects after a drop with the link as last rotated, and gives up in the end', async () => {
    const { client, sockets, phase } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    sockets[0]?.receive({ type: 'meeting', meeting: { ...welcomeAt(rotated).meeting } });
    expect(client.getSnapshot().linkId).toBe(rotated);
    sockets[0]?.events.close(1006, '');
    expect(phase()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(2000);
    expect(sockets[1]?.url).toBe(`ws://test/api/meetings/live/${rotated}?resume=resume-token-1`);
    // Past the resume token's life, the usual backoff, then giving up.
    await vi.advanceTimersByTimeAsync(60_000);
    const resuming = sockets.length;
    for (let i = 0; i <= MAX_RETRIES; i++) {
      sockets.at(-1)?.events.close(1006, '');
      await vi.advanceTimersByTimeAsync(40_000);
    }
    expect(sockets.length).toBeLessThanOrEqual(resuming + MAX_RETRIES + 1);
    expect(sockets.at(-1)?.url).toBe(`ws://test/api/meetings/live/${rotated}`);
    expect(phase()).toBe('disconnected');
    client.close();
  });

  it('takes its presence back at once after a drop, keeping media and keys, and restarts what broke', async () => {
    const { client, sockets, media, phase } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    await settle();
    sockets[0]?.receive({ type: 'resume', token: 'resume-token-2' });
    sockets[0]?.events.close(1006, '');
    expect(phase()).toBe('reconnecting');
    expect(media[0]?.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(320);
    expect(sockets[1]?.url).toBe(`ws://test/api/meetings/live/${linkId}?resume=resume-token-2`);
    sockets[1]?.receive({ ...welcomeAt(), resumed: true, resume: 'resume-token-3' });
    expect(phase()).toBe('joined');
    await vi.advanceTimersByTimeAsync(1100);
    expect(media).toHaveLength(1);
    expect(media[0]?.recovered).toBe(1);

    // After a restart the server lost the media connections: new ones, published again, same keys,
    // and nothing repaired on the old ones.
    sockets[1]?.events.close(1006, '');
    await vi.advanceTimersByTimeAsync(320);
    sockets[2]?.receive({ ...welcomeAt(), resumed: true });
    sockets[2]?.receive({ type: 'media.reset', reason: 'server_restarted' });
    await vi.advanceTimersByTimeAsync(1100);
    expect(media[0]?.closed).toBe(true);
    expect(media[0]?.recovered).toBe(1);
    expect(media).toHaveLength(2);
    expect(sockets[2]?.sent.some((m) => m.type === 'publish')).toBe(true);
    client.close();
  });

  it('starts afresh when the server could not take the presence back', async () => {
    const { client, sockets, media } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    sockets[0]?.events.close(1006, '');
    await vi.advanceTimersByTimeAsync(320);
    sockets[1]?.receive(welcomeAt());
    expect(media[0]?.closed).toBe(true);
    expect(media).toHaveLength(2);
    client.close();
  });

  it('sends a host’s actions with the meeting id, and nothing once left', async () => {
    const { client, sockets, phase } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    expect(client.admit('44444444-4444-4444-8444-444444444444')).toBe(true);
    expect(client.lock(true)).toBe(true);
    expect(sockets[0]?.sent.slice(-2)).toEqual([
      { type: 'lobby.admit', entryId: '44444444-4444-4444-8444-444444444444', meetingId },
      { type: 'meeting.lock', locked: true, meetingId },
    ]);
    client.leave();
    expect(phase()).toBe('left');
    expect(client.sendChat('hello')).toBe(false);
    client.close();
  });

  it('turns a muted source off and tells the server the new state', async () => {
    const { client, sockets } = setUp([admit]);
    await client.check();
    client.join();
    sockets[0]?.receive(welcomeAt());
    sockets[0]?.receive({ type: 'muted', source: 'microphone', by: 'Jean Dupont' });
    await settle();
    expect(client.getSnapshot().local.micOn).toBe(false);
    expect(sockets[0]?.sent.at(-1)).toEqual({
      type: 'media.state',
      audio: false,
      video: false,
      screen: false,
      meetingId,
    });
    expect(client.getSnapshot().state.notice).toEqual({
      kind: 'muted',
      source: 'microphone',
      by: 'Jean Dupont',
    });
    client.close();
  });
});
