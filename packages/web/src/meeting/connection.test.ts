import { SERVER_SIGNAL_MAX_BYTES, type ServerMessage } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import {
  KEEPALIVE_MS,
  MeetingConnection,
  meetingSocketUrl,
  parseServerMessage,
  reconnectDelay,
  resumeDelay,
  withResume,
  type SocketEvents,
  type Timers,
} from './connection';
import { linkId, meetingId, welcome } from './test-fixtures';

const welcomeMessage = welcome({ roster: [] });

class FakeSocket {
  sent: unknown[] = [];
  closedWith: [number, string] | undefined;
  open = true;
  constructor(readonly events: SocketEvents) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
    this.open = false;
  }
  isOpen() {
    return this.open;
  }
}

class FakeTimers implements Timers {
  intervals = new Map<number, () => void>();
  private next = 1;
  setInterval(handler: () => void) {
    const id = this.next++;
    this.intervals.set(id, handler);
    return id;
  }
  clearInterval(handle: unknown) {
    this.intervals.delete(handle as number);
  }
  tick() {
    for (const handler of this.intervals.values()) handler();
  }
}

function connect() {
  const received: ServerMessage[] = [];
  const closed: [number, string][] = [];
  let invalid = 0;
  let socket!: FakeSocket;
  const timers = new FakeTimers();
  const connection = new MeetingConnection(
    'ws://x/api/meetings/live/' + linkId,
    {
      message: (m) => received.push(m),
      closed: (code, reason) => closed.push([code, reason]),
      invalid: () => (invalid += 1),
    },
    (_url, events) => (socket = new FakeSocket(events)),
    timers,
  );
  return { connection, socket, received, closed, timers, invalid: () => invalid };
}

describe('reading server messages', () => {
  it('accepts a message of the contract', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'denied' }))).toEqual({ type: 'denied' });
  });

  it('drops anything else: binary, not JSON, unknown or malformed messages, oversized frames', () => {
    expect(parseServerMessage(new ArrayBuffer(4))).toBeUndefined();
    expect(parseServerMessage('{not json')).toBeUndefined();
    expect(parseServerMessage(JSON.stringify({ type: 'welcome' }))).toBeUndefined();
    expect(parseServerMessage(JSON.stringify({ type: 'take-over' }))).toBeUndefined();
    expect(
      parseServerMessage(
        JSON.stringify({ type: 'removed', by: 'x', pad: 'y'.repeat(SERVER_SIGNAL_MAX_BYTES) }),
      ),
    ).toBeUndefined();
  });
});

describe('the meeting connection', () => {
  it('sends nothing before welcome, since it does not know the meeting id yet', () => {
    const { connection, socket } = connect();
    socket.events.message(
      JSON.stringify({ type: 'admission', outcome: 'lobby', reason: null, meeting: null }),
    );
    expect(connection.ready).toBe(false);
    expect(connection.send({ type: 'ping' })).toBe(false);
    expect(socket.sent).toEqual([]);
  });

  it('stamps every message with the meeting id from welcome', () => {
    const { connection, socket, received } = connect();
    socket.events.message(JSON.stringify(welcomeMessage));
    expect(received.map((m) => m.type)).toEqual(['welcome']);
    expect(connection.send({ type: 'hand', raised: true })).toBe(true);
    expect(socket.sent).toEqual([{ type: 'hand', raised: true, meetingId }]);
  });

  it('refuses to send a message the contract would refuse', () => {
    const { connection, socket } = connect();
    socket.events.message(JSON.stringify(welcomeMessage));
    expect(connection.send({ type: 'chat.send', text: '   ' })).toBe(false);
    expect(connection.send({ type: 'chat.send', text: 'x'.repeat(2001) })).toBe(false);
    expect(socket.sent).toEqual([]);
  });

  it('reports frames that are not valid messages and does not pass them on', () => {
    const { socket, received, invalid } = connect();
    socket.events.message('{"type":"roster","participants":[{"id":"nope"}]}');
    expect(received).toEqual([]);
    expect(invalid()).toBe(1);
  });

  it('keeps the socket alive with pings once admitted', () => {
    const { socket, timers } = connect();
    socket.events.message(JSON.stringify(welcomeMessage));
    timers.tick();
    expect(socket.sent).toEqual([{ type: 'ping', meetingId }]);
    expect(KEEPALIVE_MS).toBeLessThan(60_000);
  });

  it('reports a close by the server with its code', () => {
    const { socket, closed, timers } = connect();
    socket.events.message(JSON.stringify(welcomeMessage));
    socket.events.close(4410, 'removed by a host');
    expect(closed).toEqual([[4410, 'removed by a host']]);
    expect(timers.intervals.size).toBe(0);
  });

  it('closes once, normally, and reports nothing afterwards', () => {
    const { connection, socket, closed, received } = connect();
    connection.close();
    connection.close();
    expect(socket.closedWith).toEqual([1000, 'left']);
    socket.events.message(JSON.stringify({ type: 'denied' }));
    socket.events.close(1000, 'left');
    expect(received).toEqual([]);
    expect(closed).toEqual([]);
  });
});

describe('socket address and reconnection delay', () => {
  it('uses wss under https and the same host', () => {
    expect(meetingSocketUrl(linkId, { protocol: 'https:', host: 'rempart.example' })).toBe(
      `wss://rempart.example/api/meetings/live/${linkId}`,
    );
    expect(meetingSocketUrl(linkId, { protocol: 'http:', host: '127.0.0.1:8080' })).toBe(
      `ws://127.0.0.1:8080/api/meetings/live/${linkId}`,
    );
  });

  it('waits longer after each failure, up to half a minute, with jitter', () => {
    expect(reconnectDelay(1, 0.5)).toBe(1000);
    expect(reconnectDelay(3, 0.5)).toBe(4000);
    expect(reconnectDelay(20, 0.5)).toBe(30_000);
    expect(reconnectDelay(1, 0)).toBe(750);
    expect(reconnectDelay(1, 1)).toBe(1250);
  });

  it('comes back within a quarter of a second to resume, then every second at most', () => {
    expect(resumeDelay(1, 0.5)).toBe(250);
    expect(resumeDelay(2, 0.5)).toBe(500);
    expect(resumeDelay(30, 0.5)).toBe(1000);
    expect(resumeDelay(30, 1)).toBe(1250);
    expect(withResume('wss://rempart.example/api/meetings/live/x', 'a.b-c_d')).toBe(
      'wss://rempart.example/api/meetings/live/x?resume=a.b-c_d',
    );
  });
});
