/**
 * The meeting's WebSocket (`/api/meetings/live/<linkId>`, same origin, the session cookie
 * authenticates). Every incoming message is parsed with the contract's `ServerMessage`; one
 * that does not parse is dropped, never half-used. Outgoing messages are checked against
 * `ClientMessage` and carry the meeting's stable id, known only from `welcome`: nothing is
 * sent before it.
 */
import { ClientMessage, SERVER_SIGNAL_MAX_BYTES, SIGNAL_MAX_BYTES, ServerMessage } from '@rempart/core';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A client message without its `meetingId`, which the connection adds. */
export type Outgoing = DistributiveOmit<ClientMessage, 'meetingId'>;

/** Keeps idle proxies from closing the socket (and notices a dead one). */
export const KEEPALIVE_MS = 25_000;
const MAX_RECONNECT_DELAY_MS = 30_000;
/** While a resume token lives, retries stay this close together: the presence waits on the server. */
const MAX_RESUME_DELAY_MS = 1000;

export function meetingSocketUrl(linkId: string, where: { protocol: string; host: string }): string {
  const scheme = where.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${where.host}/api/meetings/live/${encodeURIComponent(linkId)}`;
}

/** The server message in a WebSocket frame, or undefined for anything else (binary, oversized, malformed). */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  // A frame of n bytes holds at most n UTF-16 code units: a longer string is certainly too large.
  if (typeof data !== 'string' || data.length > SERVER_SIGNAL_MAX_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = ServerMessage.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Delay before reconnection attempt `attempt` (1-based): 1 s, 2 s, 4 s … up to 30 s, ±25 %. */
export function reconnectDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(MAX_RECONNECT_DELAY_MS, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random * 0.5));
}

/**
 * Delay before resuming attempt `attempt` (1-based): 250 ms, 500 ms, then every second, ±25 %
 * (so that a restarted server is not met by every client at the same instant).
 */
export function resumeDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(MAX_RESUME_DELAY_MS, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random * 0.5));
}

/** The socket address that takes back the presence a resume token names (`?resume=`). */
export function withResume(url: string, token: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}resume=${encodeURIComponent(token)}`;
}

export interface SocketEvents {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/** The little of a WebSocket the connection uses; tests give a fake. */
export interface SocketHandle {
  send(data: string): void;
  close(code: number, reason: string): void;
  isOpen(): boolean;
}

export type SocketFactory = (url: string, events: SocketEvents) => SocketHandle;

export const browserSocket: SocketFactory = (url, events) => {
  const socket = new WebSocket(url);
  socket.addEventListener('open', () => events.open());
  socket.addEventListener('message', (event: MessageEvent<unknown>) => events.message(event.data));
  socket.addEventListener('close', (event) => events.close(event.code, event.reason));
  return {
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    isOpen: () => socket.readyState === WebSocket.OPEN,
  };
};

export interface ConnectionHandlers {
  message(message: ServerMessage): void;
  /** The server closed the socket, or the network dropped it; not called after `close()`. */
  closed(code: number, reason: string): void;
  /** A frame that is not a valid server message arrived (dropped). */
  invalid?(): void;
}

export interface Timers {
  setInterval(handler: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const defaultTimers: Timers = {
  setInterval: (handler, ms) => setInterval(handler, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export class MeetingConnection {
  private readonly socket: SocketHandle;
  private meetingId: string | undefined;
  private keepalive: unknown;
  private closed = false;

  constructor(
    url: string,
    private readonly handlers: ConnectionHandlers,
    createSocket: SocketFactory = browserSocket,
    private readonly timers: Timers = defaultTimers,
  ) {
    this.socket = createSocket(url, {
      open: () => undefined,
      message: (data) => this.receive(data),
      close: (code, reason) => {
        if (this.closed) return;
        this.stop();
        this.handlers.closed(code, reason);
      },
    });
  }

  /** True once `welcome` has named the meeting: messages can be sent. */
  get ready(): boolean {
    return this.meetingId !== undefined && !this.closed;
  }

  /** Sends a message for this meeting; false when it cannot go (not admitted yet, closed, invalid). */
  send(message: Outgoing): boolean {
    if (!this.ready || !this.socket.isOpen()) return false;
    const parsed = ClientMessage.safeParse({ ...message, meetingId: this.meetingId });
    if (!parsed.success) return false;
    const text = JSON.stringify(parsed.data);
    if (new TextEncoder().encode(text).length > SIGNAL_MAX_BYTES) return false;
    this.socket.send(text);
    return true;
  }

  /** Leaves: closes the socket normally. Idempotent; no handler is called afterwards. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.socket.close(1000, 'left');
  }

  private receive(data: unknown): void {
    if (this.closed) return;
    const message = parseServerMessage(data);
    if (!message) {
      this.handlers.invalid?.();
      return;
    }
    if (message.type === 'welcome') {
      this.meetingId = message.meeting.id;
      this.startKeepalive();
    }
    this.handlers.message(message);
  }

  private startKeepalive(): void {
    if (this.keepalive !== undefined) return;
    this.keepalive = this.timers.setInterval(() => this.send({ type: 'ping' }), KEEPALIVE_MS);
  }

  private stop(): void {
    this.closed = true;
    if (this.keepalive !== undefined) this.timers.clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}
