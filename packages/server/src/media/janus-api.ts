/**
 * A client of Janus Gateway's HTTP API ("RESTful, HTTP API" in Janus's documentation): a session,
 * plugin handles on it, requests, and the long poll that brings back asynchronous answers and
 * events. Every request carries the `apisecret`: a Janus whose API is locked that way answers
 * nobody else. Each open poll also keeps the session alive (Janus drops a session silent for
 * `session_timeout`, 60 s by default).
 *
 * Only the Janus engine (janus.ts) uses this; participants never see Janus's API.
 */
import type { Logger } from '../logger.js';

/** A request that gets no reply within this time has failed (a loaded Janus answers in milliseconds). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Janus holds a long poll for 30 s at most; past this, the connection is lost. */
const POLL_TIMEOUT_MS = 40_000;
/** The pause before polling again after a failed poll (the health probe decides when a node is dead). */
const POLL_RETRY_MS = 250;

/** Janus's "no such session" (janus.h, JANUS_ERROR_SESSION_NOT_FOUND): the session is gone. */
export const SESSION_NOT_FOUND = 458;

export class JanusError extends Error {
  constructor(
    message: string,
    /** Janus's or the plugin's error code, when it gave one. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'JanusError';
  }
}

/** A session description as Janus carries it. */
export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A message from Janus: a reply, an asynchronous answer, or an event. */
export interface JanusMessage {
  janus: string;
  transaction?: string;
  sender?: number;
  data?: { id?: number };
  error?: { code?: number; reason?: string };
  plugindata?: { plugin?: string; data?: PluginData };
  jsep?: Jsep;
}

/** A plugin's data: VideoRoom's answers and events (`videoroom`, `error_code`, `streams`, …). */
export type PluginData = Record<string, unknown>;

export interface PluginReply {
  data: PluginData;
  jsep: Jsep | undefined;
}

type Waiter = { resolve: (message: JanusMessage) => void; reject: (error: Error) => void };

/** POSTs a Janus request; Janus's error replies become `JanusError`s. */
export async function post(url: string, body: Record<string, unknown>): Promise<JanusMessage> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const reply = (await response.json()) as JanusMessage;
  if (reply.janus === 'error')
    throw new JanusError(`janus: ${reply.error?.reason ?? 'error'}`, reply.error?.code);
  return reply;
}

/** A plugin's answer, or its error as an exception (VideoRoom reports `error_code` and `error`). */
function pluginReply(message: JanusMessage): PluginReply {
  const data = message.plugindata?.data ?? {};
  if (typeof data.error_code === 'number')
    throw new JanusError(`videoroom: ${String(data.error)} (${data.error_code})`, data.error_code);
  return { data, jsep: message.jsep };
}

let transactions = 0;
const transaction = (): string => `r${(++transactions).toString(36)}`;

export class JanusSession {
  private readonly handles = new Map<number, JanusHandle>();
  private readonly pending = new Map<string, Waiter>();
  private readonly abort = new AbortController();
  private closed = false;

  private constructor(
    readonly url: string,
    readonly id: number,
    private readonly apiSecret: string,
    private readonly log: Logger,
  ) {
    void this.poll();
  }

  /** Opens a session on the Janus whose API is at `baseUrl` (e.g. `http://10.0.0.5:8088/janus`). */
  static async create(baseUrl: string, apiSecret: string, log: Logger): Promise<JanusSession> {
    const reply = await post(baseUrl, { janus: 'create', transaction: transaction(), apisecret: apiSecret });
    const id = reply.data?.id;
    if (typeof id !== 'number') throw new JanusError('janus: no session id in the reply');
    return new JanusSession(baseUrl, id, apiSecret, log);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Attaches a plugin (VideoRoom) and returns the handle. */
  async attach(plugin: string): Promise<JanusHandle> {
    const reply = await this.send(`${this.url}/${this.id}`, { janus: 'attach', plugin });
    const id = reply.data?.id;
    if (typeof id !== 'number') throw new JanusError('janus: no handle id in the reply');
    const handle = new JanusHandle(this, id);
    this.handles.set(id, handle);
    return handle;
  }

  /** Tells Janus the session is in use; throws when Janus is unreachable or forgot the session. */
  async keepalive(): Promise<void> {
    await this.send(`${this.url}/${this.id}`, { janus: 'keepalive' });
  }

  /** Ends the session (and every handle on it) on Janus, if Janus is still there. Idempotent. */
  async destroy(): Promise<void> {
    if (this.closed) return;
    const request = this.send(`${this.url}/${this.id}`, { janus: 'destroy' }).catch(() => undefined);
    this.close();
    await request;
  }

  /** Stops polling and fails what waits, without asking Janus (a dead node). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const waiter of this.pending.values()) waiter.reject(new JanusError('janus: session closed'));
    this.pending.clear();
    this.handles.clear();
  }

  /** Sends a plugin message and waits for the plugin's answer (at once, or as an event). */
  async message(handle: number, body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    const id = transaction();
    const answered = new Promise<JanusMessage>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    // Nobody waits on it when the request itself fails.
    answered.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await this.send(
        `${this.url}/${this.id}/${handle}`,
        { janus: 'message', body, ...(jsep ? { jsep } : {}) },
        id,
      );
      if (reply.janus !== 'ack') return pluginReply(reply);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new JanusError(`janus: no answer to ${String(body.request)}`)),
          REQUEST_TIMEOUT_MS,
        );
      });
      return pluginReply(await Promise.race([answered, timeout]));
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  async detach(handle: number): Promise<void> {
    this.handles.delete(handle);
    if (this.closed) return;
    await this.send(`${this.url}/${this.id}/${handle}`, { janus: 'detach' });
  }

  private send(url: string, body: Record<string, unknown>, id = transaction()): Promise<JanusMessage> {
    if (this.closed) return Promise.reject(new JanusError('janus: session closed'));
    return post(url, { ...body, transaction: id, apisecret: this.apiSecret });
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      let messages: JanusMessage | JanusMessage[];
      try {
        const query = `maxev=20&rid=${Date.now()}&apisecret=${encodeURIComponent(this.apiSecret)}`;
        const response = await fetch(`${this.url}/${this.id}?${query}`, {
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(POLL_TIMEOUT_MS)]),
        });
        messages = (await response.json()) as JanusMessage | JanusMessage[];
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, POLL_RETRY_MS));
        continue;
      }
      for (const message of Array.isArray(messages) ? messages : [messages]) this.dispatch(message);
    }
  }

  private dispatch(message: JanusMessage): void {
    if (message.janus === 'keepalive' || message.janus === 'ack') return;
    const waiter = message.transaction === undefined ? undefined : this.pending.get(message.transaction);
    if (waiter) {
      this.pending.delete(message.transaction ?? '');
      if (message.janus === 'error')
        waiter.reject(new JanusError(`janus: ${message.error?.reason ?? 'error'}`, message.error?.code));
      else waiter.resolve(message);
      return;
    }
    const handle = message.sender === undefined ? undefined : this.handles.get(message.sender);
    if (!handle) return;
    try {
      handle.onEvent?.(message);
    } catch (error) {
      this.log.warn({ err: error }, 'janus event handler failed');
    }
  }
}

/** A plugin handle: its requests, and the events Janus sends it unasked. */
export class JanusHandle {
  /** Events that answer no request of ours: `webrtcup`, `hangup`, plugin events (offers, notices). */
  onEvent: ((message: JanusMessage) => void) | undefined;

  constructor(
    private readonly session: JanusSession,
    readonly id: number,
  ) {}

  request(body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    return this.session.message(this.id, body, jsep);
  }

  detach(): Promise<void> {
    this.onEvent = undefined;
    return this.session.detach(this.id);
  }
}

/** A request to Janus's admin API (`admin_secret` on each), e.g. `handle_info`. */
export async function adminRequest(
  url: string,
  adminSecret: string,
  body: Record<string, unknown>,
): Promise<JanusMessage> {
  return post(url, { ...body, transaction: transaction(), admin_secret: adminSecret });
}
