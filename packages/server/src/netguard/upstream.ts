/**
 * Forwarding queries to upstream resolvers, with fail-over.
 *
 * One exchange asks the first healthy server and gives it `attemptTimeoutMs`; then the next one,
 * while still listening to the first (a late answer is as good as any: a recursive upstream may be
 * slow on a cold name). A server that times out or is unreachable is skipped for `backoffMs`, doubled
 * on each new failure up to `maxBackoffMs`, then tried again in its place; an answer makes it healthy
 * at once. The exchange fails when `timeoutMs` has passed, or as soon as every server has failed
 * outright (an ICMP port unreachable, an error RCODE), so that the client gets SERVFAIL in well under
 * the 2 s stub resolvers wait before they retry.
 *
 * An answer with TC set is asked again over TCP from the same server (RFC 7766 §5). SERVFAIL,
 * REFUSED and other errors move on to the next server without counting against the first (the
 * error may be the domain's, not the server's).
 *
 * Spoofed answers (RFC 5452): each server has a few connected UDP sockets, each on its own random
 * port chosen by the kernel, which delivers only datagrams from that server's address and port; each
 * query has a random ID; an answer counts only when its ID, source and question all match. The
 * sockets are connected for another reason: an ICMP "port unreachable" then fails the exchange at
 * once instead of after a timeout.
 *
 * Upstream servers are IP addresses: a resolver cannot ask itself where its own upstreams are.
 */
import { randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP, Socket as TcpSocket } from 'node:net';
import { RempartError } from '@rempart/core';
import { pino } from 'pino';
import type { Logger } from '../logger.js';
import {
  answersQuestion,
  buildQuery,
  frame,
  inspectResponse,
  Rcode,
  type ResponseInfo,
  type UpstreamQueryFlags,
} from './dns-wire.js';

export interface UpstreamServer {
  readonly host: string;
  readonly port: number;
}

export interface UpstreamTuning {
  /** How long one server has before the next one is asked (default 400 ms). */
  attemptTimeoutMs?: number;
  /** How long an exchange may take in all, fail-over and late answers included (default 1,200 ms). */
  timeoutMs?: number;
  /** How long a failing server is skipped after its first failure (default 2 s), doubled per failure. */
  backoffMs?: number;
  /** The longest a failing server is skipped (default 60 s). */
  maxBackoffMs?: number;
  /** UDP sockets, so source ports, per server (default 4). */
  socketsPerServer?: number;
  /** The UDP payload size advertised upstream (default 1232, the DNS flag day 2020 value). */
  payloadSize?: number;
}

export interface UpstreamOptions extends UpstreamTuning {
  servers: readonly UpstreamServer[];
  log?: Logger;
  /** Milliseconds on a monotonic clock, for health (default `performance.now`). */
  now?: () => number;
}

export type UpstreamFailure = 'timeout' | 'unreachable' | 'error-rcode' | 'closed';

export type UpstreamOutcome =
  | {
      readonly ok: true;
      readonly response: Buffer;
      readonly info: ResponseInfo;
      readonly server: UpstreamServer;
      readonly transport: 'udp' | 'tcp';
    }
  | { readonly ok: false; readonly reason: UpstreamFailure };

export interface UpstreamHealth {
  readonly host: string;
  readonly port: number;
  /** False while the server is skipped after failures. */
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  readonly queries: number;
  readonly failures: number;
  /** Smoothed round-trip time of its answers, in milliseconds (RFC 6298 §2 weights). */
  readonly rttMs: number | undefined;
}

export interface UpstreamStats {
  /** Answers dropped because ID, source or question did not match a query in flight. */
  readonly stray: number;
  /** Truncated UDP answers asked again over TCP. */
  readonly tcpRetries: number;
  readonly inFlight: number;
}

export const defaultUpstreamTuning = {
  attemptTimeoutMs: 400,
  timeoutMs: 1_200,
  backoffMs: 2_000,
  maxBackoffMs: 60_000,
  socketsPerServer: 4,
  payloadSize: 1232,
} as const satisfies Required<UpstreamTuning>;

// Random IDs and socket choices, drawn from a pool refilled by the CSPRNG (RFC 5452 §9.2).
const randomPool = new Uint16Array(4096);
let randomAt = randomPool.length;
function random16(): number {
  if (randomAt === randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  return randomPool[randomAt++]!;
}

interface Slot {
  readonly server: Server;
  readonly socket: dgram.Socket;
  readonly pending: Map<number, Attempt>;
}

class Server {
  readonly label: string;
  readonly slots: Slot[] = [];
  /** The address as the kernel writes it, to compare with answers' sources. */
  address: string;
  consecutiveFailures = 0;
  downUntil = 0;
  /** Logged as failing (after `FAILURES_BEFORE_REPORT` in a row). */
  reported = false;
  queries = 0;
  failures = 0;
  srtt: number | undefined;

  constructor(readonly config: UpstreamServer) {
    this.label = config.host.includes(':')
      ? `[${config.host}]:${config.port}`
      : `${config.host}:${config.port}`;
    this.address = config.host;
  }
}

class Attempt {
  id = 0;
  transport: 'udp' | 'tcp' = 'udp';
  slot: Slot | undefined;
  tcp: TcpSocket | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Its time ran out and the next server was asked; an answer is still welcome. */
  timedOut = false;
  done = false;
  readonly sentAt: number;

  constructor(
    readonly exchange: Exchange,
    readonly server: Server,
    now: number,
  ) {
    this.sentAt = now;
  }
}

class Exchange {
  next = 0;
  /** Attempts whose time has not run out and that have not failed. */
  waiting = 0;
  readonly attempts: Attempt[] = [];
  sawErrorRcode = false;
  sawUnreachable = false;
  finished = false;
  deadline: NodeJS.Timeout | undefined;

  constructor(
    readonly question: Buffer,
    readonly flags: UpstreamQueryFlags,
    readonly order: readonly Server[],
    readonly resolve: (outcome: UpstreamOutcome) => void,
  ) {}
}

const CLOSED: UpstreamOutcome = { ok: false, reason: 'closed' };
const FAILURES_BEFORE_REPORT = 3;
const EMPTY: Buffer = Buffer.alloc(0);

/** Validates upstream servers, naming every bad one. */
export function checkServers(servers: readonly UpstreamServer[]): void {
  const bad = servers.filter(
    (s) => isIP(s.host) === 0 || !Number.isInteger(s.port) || s.port < 1 || s.port > 65_535,
  );
  if (servers.length === 0)
    throw RempartError.validation('the DNS resolver needs at least one upstream server');
  if (bad.length > 0)
    throw RempartError.validation(
      `upstream DNS servers must be IP addresses with a port: ${bad.map((s) => `${s.host}:${s.port}`).join(', ')}`,
    );
}

export class UpstreamPool {
  private readonly servers: Server[];
  private readonly tuning: Required<UpstreamTuning>;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly exchanges = new Set<Exchange>();
  private strayAnswers = 0;
  private tcpRetries = 0;
  private closing: Promise<void> | undefined;

  private constructor(options: UpstreamOptions) {
    checkServers(options.servers);
    this.tuning = { ...defaultUpstreamTuning, ...stripUndefined(options) };
    const bad = Object.entries(this.tuning).filter(([, value]) => !Number.isInteger(value) || value < 1);
    if (bad.length > 0)
      throw RempartError.validation(
        `upstream tuning must be whole numbers ≥ 1: ${bad.map(([name, value]) => `${name}=${value}`).join(', ')}`,
      );
    this.servers = options.servers.map((s) => new Server({ host: s.host, port: s.port }));
    this.log = options.log ?? pino({ level: 'silent' });
    this.now = options.now ?? (() => performance.now());
  }

  /** Opens the sockets to every server. */
  static async open(options: UpstreamOptions): Promise<UpstreamPool> {
    const pool = new UpstreamPool(options);
    try {
      await Promise.all(pool.servers.map((server) => pool.connect(server)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private async connect(server: Server): Promise<void> {
    const type = isIP(server.config.host) === 6 ? 'udp6' : 'udp4';
    for (let i = 0; i < this.tuning.socketsPerServer; i++) {
      const socket = dgram.createSocket(type);
      const slot: Slot = { server, socket, pending: new Map() };
      server.slots.push(slot);
      socket.on('message', (msg, rinfo) => this.onUdpMessage(slot, msg, rinfo));
      socket.on('error', (error) => this.onSlotError(slot, error));
      await new Promise<void>((resolve) => socket.connect(server.config.port, server.config.host, resolve));
      server.address = socket.remoteAddress().address;
    }
  }

  /**
   * Asks the servers for `question` (name, type, class in wire form, name in lower case) until
   * one answers. Never rejects.
   */
  exchange(question: Buffer, flags: UpstreamQueryFlags): Promise<UpstreamOutcome> {
    if (this.closing) return Promise.resolve(CLOSED);
    return new Promise((resolve) => {
      const ex = new Exchange(question, flags, this.order(), resolve);
      ex.deadline = setTimeout(this.onDeadline, this.tuning.timeoutMs, ex);
      this.exchanges.add(ex);
      this.advance(ex);
    });
  }

  /** Healthy servers in their configured order, then the skipped ones, soonest back first. */
  private order(): Server[] {
    const now = this.now();
    const up = this.servers.filter((s) => s.downUntil <= now);
    if (up.length === this.servers.length) return up;
    const down = this.servers.filter((s) => s.downUntil > now).sort((a, b) => a.downUntil - b.downUntil);
    return up.concat(down);
  }

  /**
   * Asks the next server. With none left, the exchange waits for the deadline while a server that
   * ran out of time may still answer, and fails at once when every server has failed outright.
   */
  private advance(ex: Exchange): void {
    if (ex.finished) return;
    const server = ex.order[ex.next++];
    if (server !== undefined) {
      this.sendUdp(ex, server);
      return;
    }
    if (ex.waiting > 0 || ex.attempts.some((a) => !a.done)) return;
    this.finish(ex, {
      ok: false,
      reason: ex.sawErrorRcode ? 'error-rcode' : ex.sawUnreachable ? 'unreachable' : 'timeout',
    });
  }

  private sendUdp(ex: Exchange, server: Server): void {
    const attempt = new Attempt(ex, server, this.now());
    const slot = server.slots[random16() % server.slots.length]!;
    attempt.slot = slot;
    attempt.id = freeId(slot.pending);
    slot.pending.set(attempt.id, attempt);
    ex.attempts.push(attempt);
    ex.waiting++;
    server.queries++;
    attempt.timer = setTimeout(this.onAttemptTimeout, this.tuning.attemptTimeoutMs, attempt);
    slot.socket.send(buildQuery(attempt.id, ex.question, ex.flags, this.tuning.payloadSize), (error) => {
      if (error) this.attemptFailed(attempt, 'unreachable');
    });
  }

  private readonly onAttemptTimeout = (attempt: Attempt): void => {
    attempt.timer = undefined;
    if (attempt.done || attempt.timedOut) return;
    attempt.timedOut = true;
    attempt.exchange.waiting--;
    this.noteFailure(attempt.server, 'timeout');
    this.advance(attempt.exchange);
  };

  private readonly onDeadline = (ex: Exchange): void => {
    ex.deadline = undefined;
    this.finish(ex, { ok: false, reason: ex.sawErrorRcode ? 'error-rcode' : 'timeout' });
  };

  /** The attempt is over without an answer: ask the next server if it was still being waited for. */
  private attemptFailed(attempt: Attempt, why: 'unreachable' | 'malformed' | 'error-rcode'): void {
    if (attempt.done) return;
    const wasWaiting = !attempt.timedOut;
    this.settle(attempt);
    const ex = attempt.exchange;
    if (why === 'error-rcode') ex.sawErrorRcode = true;
    else {
      if (why === 'unreachable') ex.sawUnreachable = true;
      if (wasWaiting) this.noteFailure(attempt.server, why);
    }
    if (wasWaiting) {
      ex.waiting--;
      this.advance(ex);
    } else if (ex.next >= ex.order.length) this.advance(ex); // perhaps nothing is left to wait for
  }

  private onUdpMessage(slot: Slot, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const attempt = msg.length >= 2 ? slot.pending.get(msg.readUInt16BE(0)) : undefined;
    const { server } = slot;
    if (
      attempt === undefined ||
      rinfo.port !== server.config.port ||
      rinfo.address !== server.address ||
      !answersQuestion(msg, attempt.exchange.question)
    ) {
      this.strayAnswers++;
      return;
    }
    this.onAnswer(attempt, msg);
  }

  private onSlotError(slot: Slot, error: Error): void {
    // On a connected socket, ECONNREFUSED is an ICMP port unreachable from the server.
    this.log.debug({ upstream: slot.server.label, err: error }, 'upstream socket error');
    for (const attempt of [...slot.pending.values()]) this.attemptFailed(attempt, 'unreachable');
  }

  private onAnswer(attempt: Attempt, msg: Buffer): void {
    const info = inspectResponse(msg);
    if (!info.ok) {
      this.log.debug({ upstream: attempt.server.label, reason: info.reason }, 'malformed upstream answer');
      this.attemptFailed(attempt, 'malformed');
      return;
    }
    if (info.truncated) {
      if (attempt.transport === 'udp') this.retryOverTcp(attempt);
      else this.attemptFailed(attempt, 'malformed');
      return;
    }
    if (info.rcode !== Rcode.NOERROR && info.rcode !== Rcode.NXDOMAIN) {
      this.attemptFailed(attempt, 'error-rcode');
      return;
    }
    this.noteSuccess(attempt.server, this.now() - attempt.sentAt);
    this.finish(attempt.exchange, {
      ok: true,
      response: msg,
      info,
      server: attempt.server.config,
      transport: attempt.transport,
    });
  }

  /** RFC 7766 §5: a truncated UDP answer is asked again over TCP, from the same server. */
  private retryOverTcp(attempt: Attempt): void {
    const ex = attempt.exchange;
    const { server } = attempt;
    if (attempt.slot && attempt.slot.pending.get(attempt.id) === attempt)
      attempt.slot.pending.delete(attempt.id);
    attempt.slot = undefined;
    clearTimeout(attempt.timer);
    if (attempt.timedOut) {
      attempt.timedOut = false;
      ex.waiting++;
    }
    this.tcpRetries++;
    attempt.transport = 'tcp';
    attempt.id = random16();
    const query = frame(buildQuery(attempt.id, ex.question, ex.flags, this.tuning.payloadSize));
    const socket = new TcpSocket();
    attempt.tcp = socket;
    attempt.timer = setTimeout(this.onAttemptTimeout, this.tuning.attemptTimeoutMs * 2, attempt);
    let buffered = EMPTY;
    socket.setNoDelay(true);
    socket.on('error', () => this.attemptFailed(attempt, 'unreachable'));
    socket.on('close', () => this.attemptFailed(attempt, 'unreachable'));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < length + 2) return;
      const msg = buffered.subarray(2, length + 2);
      if (msg.length < 12 || msg.readUInt16BE(0) !== attempt.id || !answersQuestion(msg, ex.question)) {
        this.strayAnswers++;
        this.attemptFailed(attempt, 'malformed');
        return;
      }
      this.onAnswer(attempt, msg);
    });
    socket.connect(server.config.port, server.config.host, () => socket.write(query));
  }

  private settle(attempt: Attempt): void {
    if (attempt.done) return;
    attempt.done = true;
    clearTimeout(attempt.timer);
    attempt.timer = undefined;
    const { slot } = attempt;
    if (slot && slot.pending.get(attempt.id) === attempt) slot.pending.delete(attempt.id);
    attempt.tcp?.destroy();
  }

  private finish(ex: Exchange, outcome: UpstreamOutcome): void {
    if (ex.finished) return;
    ex.finished = true;
    clearTimeout(ex.deadline);
    for (const attempt of ex.attempts) this.settle(attempt);
    this.exchanges.delete(ex);
    ex.resolve(outcome);
  }

  private noteFailure(server: Server, why: string): void {
    server.failures++;
    server.consecutiveFailures++;
    const { backoffMs, maxBackoffMs } = this.tuning;
    const backoff = Math.min(backoffMs * 2 ** Math.min(server.consecutiveFailures - 1, 20), maxBackoffMs);
    server.downUntil = this.now() + backoff;
    // One slow answer happens to any server: the lifecycle line waits for a few failures in a row.
    if (!server.reported && server.consecutiveFailures >= FAILURES_BEFORE_REPORT) {
      server.reported = true;
      this.log.warn(
        { upstream: server.label, reason: why, failures: server.consecutiveFailures },
        'upstream DNS server not answering, asking the others first',
      );
    }
  }

  private noteSuccess(server: Server, rtt: number): void {
    // RFC 6298 §2.3 smoothing.
    server.srtt = server.srtt === undefined ? rtt : server.srtt + (rtt - server.srtt) / 8;
    server.consecutiveFailures = 0;
    server.downUntil = 0;
    if (server.reported) {
      server.reported = false;
      this.log.info({ upstream: server.label }, 'upstream DNS server answers again');
    }
  }

  health(): UpstreamHealth[] {
    const now = this.now();
    return this.servers.map((s) => ({
      host: s.config.host,
      port: s.config.port,
      healthy: s.downUntil <= now,
      consecutiveFailures: s.consecutiveFailures,
      queries: s.queries,
      failures: s.failures,
      rttMs: s.srtt,
    }));
  }

  stats(): UpstreamStats {
    return { stray: this.strayAnswers, tcpRetries: this.tcpRetries, inFlight: this.exchanges.size };
  }

  /** Fails every exchange in flight with 'closed' and closes every socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const ex of [...this.exchanges]) this.finish(ex, CLOSED);
      const sockets = this.servers.flatMap((s) => s.slots.map((slot) => slot.socket));
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              try {
                socket.close(() => resolve());
              } catch {
                resolve(); // never bound, or closed already
              }
            }),
        ),
      );
    })();
    return this.closing;
  }
}

/** A random ID not in use on the socket (RFC 5452 §4.3). */
function freeId(pending: Map<number, Attempt>): number {
  let id = random16();
  for (let tries = 0; pending.has(id) && tries < 64; tries++) id = random16();
  return id;
}

function stripUndefined(tuning: UpstreamTuning): UpstreamTuning {
  const out: Record<string, number> = {};
  for (const key of Object.keys(defaultUpstreamTuning) as (keyof UpstreamTuning)[]) {
    const value = tuning[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
