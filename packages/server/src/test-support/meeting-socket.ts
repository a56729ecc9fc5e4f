/**
 * A meeting socket for tests, over Fastify's in-process WebSocket injection: it keeps every
 * message the server sent, parsed with the contract, and waits for the ones a test expects.
 */
import { ServerMessage, type ClientMessage } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import type WebSocket from 'ws';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export class MeetingSocket {
  readonly messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {}

  static async open(
    app: FastifyInstance,
    linkId: string,
    cookie: string | undefined,
    headers: Record<string, string> = {},
    /** A resume token (`?resume=`): takes back the presence it names. */
    resume?: string,
  ): Promise<MeetingSocket> {
    let socket: MeetingSocket | undefined;
    const query = resume === undefined ? '' : `?resume=${encodeURIComponent(resume)}`;
    await app.injectWS(
      `/api/meetings/live/${linkId}${query}`,
      { headers: { ...(cookie ? { cookie } : {}), ...headers } },
      {
        // Listen before the upgrade completes so that no early message is missed.
        onInit: (ws) => {
          const s = new MeetingSocket(ws);
          socket = s;
          ws.on('message', (data: Buffer) => {
            s.messages.push(ServerMessage.parse(JSON.parse(data.toString('utf8'))));
            s.wake();
          });
          ws.on('close', (code: number, reason: Buffer) => {
            s.closed = { code, reason: reason.toString() };
            s.wake();
          });
        },
      },
    );
    if (!socket) throw new Error('socket not initialised');
    return socket;
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The first message of this type not yet taken, waiting for it if needed. */
  async next<T extends ServerMessage['type']>(type: T, timeoutMs = 5000): Promise<Of<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Of<T>;
      if (Date.now() > deadline) {
        throw new Error(`no "${type}" message; got ${JSON.stringify(this.messages) || 'nothing'}`);
      }
      await this.wait(deadline - Date.now());
    }
  }

  /** The newest message of a type (roster and lobby are snapshots: the last one is the truth). */
  async latest<T extends ServerMessage['type']>(type: T, until: (m: Of<T>) => boolean, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter((m): m is Of<T> => m.type === type);
      const last = found.at(-1);
      if (last && until(last)) return last;
      if (Date.now() > deadline)
        throw new Error(`no "${type}" message matching; last: ${JSON.stringify(last)}`);
      await this.wait(deadline - Date.now());
    }
  }

  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await this.wait(deadline - Date.now());
    }
    return this.closed;
  }

  /** Leaves, as a page does (normal closure). */
  close(): void {
    this.ws.close(1000, 'left');
  }

  /** The connection drops without a word, as on a network failure. */
  drop(): void {
    this.ws.terminate();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
