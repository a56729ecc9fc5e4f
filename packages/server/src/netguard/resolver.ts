/**
 * The Network guard's DNS server: a filtering, caching forwarder.
 *
 * Every query goes through the same steps, whatever carried it (UDP, TCP, DoH):
 *  1. the client's rate limit (UDP excess is dropped, TCP and DoH excess answered REFUSED);
 *  2. `parseQuery`: malformed packets are answered FORMERR/NOTIMP/BADVERS, or dropped when no
 *     answer can be addressed (see dns-wire.ts);
 *  3. the policy's verdict: a blocked name is answered here and never forwarded;
 *  4. the cache; on a miss, one upstream exchange per distinct question, whoever else asks the same
 *     question meanwhile waits for that one (coalescing);
 *  5. the answer, truncated with TC over UDP when it does not fit the client's payload size
 *     (RFC 1035 §4.2.1, RFC 6891 §7), then one entry to the query log sink.
 *
 * The hot path (blocked names and cache hits) is synchronous and decodes nothing: the answer is
 * made from the query's own bytes or a cached answer's bytes, without closures or logging.
 *
 * Blocked answers: NXDOMAIN with an SOA in the authority section so that clients cache the
 * negative answer (RFC 2308 §3) for `blockTtl`; or, in 'null' mode, 0.0.0.0 / :: for A / AAAA and
 * NODATA with the SOA for other types; or the block page's addresses.
 *
 * @example
 *   const resolver = await DnsResolver.start({
 *     listen: { host: '0.0.0.0', port: 53 },
 *     upstreams: [{ host: '9.9.9.9', port: 53 }, { host: '149.112.112.112', port: 53 }],
 *     policy: {
 *       decide: (q) => {
 *         const rule = matcher.match(q.name);
 *         return rule ? { action: 'block', reason: { list: rule.list, rule: rule.text } } : ALLOW;
 *       },
 *     },
 *     onQuery: (entry) => queryLog.add(entry),
 *     log: log.child({ subsystem: 'netguard.dns' }),
 *   });
 *   resolver.setPolicy(reloadedPolicy); // lists reloaded, no query lost
 *   await resolver.close();
 */
import { isIP, Server as TcpServer, type Socket } from 'node:net';
import { RempartError } from '@rempart/core';
import { pino } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { DnsCache, type DnsCacheOptions } from './dns-cache.js';
import {
  addressBytes,
  emptyResponse,
  Flag,
  frame,
  localResponse,
  MAX_MESSAGE,
  MIN_UDP_PAYLOAD,
  parseQuery,
  problemResponse,
  Rcode,
  rcodeName,
  renderResponse,
  soaRdata,
  toTemplate,
  Type,
  typeName,
  udpLimit,
  upstreamQuestion,
  type AnswerContext,
  type DnsQuery,
  type LocalRecord,
  type ResponseTemplate,
  type UpstreamQueryFlags,
} from './dns-wire.js';
import { ClientRateLimiter, plainAddress, type RateLimitOptions } from './rate-limit.js';
import { openUdp, udpBatching, type UdpEndpoint } from './udp-batch.js';
import {
  UpstreamPool,
  type UpstreamHealth,
  type UpstreamOutcome,
  type UpstreamServer,
  type UpstreamTuning,
} from './upstream.js';

export type Protocol = 'udp' | 'tcp' | 'doh';

/** What the policy is asked about. */
export interface QueryInfo {
  /** Lower case, no final dot (see `DnsQuery.name`). */
  readonly name: string;
  /** The type's mnemonic ("A", "AAAA", "HTTPS"…) or "TYPE<n>". */
  readonly type: string;
  /** The client's IP address (IPv4-mapped IPv6 addresses written as IPv4). */
  readonly client: string;
  readonly protocol: Protocol;
}

/** Why a name is blocked, as the query log and the console show it. */
export interface BlockReason {
  /** The list that matched (its name or id). */
  readonly list: string;
  /** The rule of that list that matched. */
  readonly rule: string;
  readonly category?: string;
  /** The spyware family, when the rule comes from an indicator library (Pegasus, Predator…). */
  readonly malware?: string;
}

/**
 * How a blocked name is answered: NXDOMAIN (the default), 'null' (0.0.0.0 and :: for A and AAAA,
 * NODATA for other types), or the addresses of a block page (NODATA for a family without one).
 */
export type BlockMode =
  'nxdomain' | 'null' | { readonly address: { readonly v4?: string; readonly v6?: string } };

/**
 * The policy's answer. `group` names the group of agents whose policy decided; it sits on the
 * verdict rather than in the block reason because the query log shows it for allowed queries too.
 */
export type Verdict =
  | { readonly action: 'allow'; readonly group?: string }
  | {
      readonly action: 'block';
      readonly reason: BlockReason;
      readonly mode?: BlockMode;
      readonly group?: string;
    };

/** Decides every query, synchronously: it runs on the hot path and must be fast. */
export interface DnsPolicy {
  decide(query: QueryInfo): Verdict;
}

/** The verdict to return for allowed names: shared, so that allowing costs no allocation. */
export const ALLOW: Verdict = Object.freeze({ action: 'allow' });
export const allowAll: DnsPolicy = Object.freeze({ decide: () => ALLOW });

/** One answered query, for the query log. */
export interface QueryEntry {
  readonly time: Date;
  readonly client: string;
  readonly protocol: Protocol;
  readonly name: string;
  readonly type: string;
  readonly verdict: Verdict;
  /** The answer's response code name: NOERROR, NXDOMAIN, SERVFAIL… */
  readonly rcode: string;
  /** Answered from the cache. */
  readonly cached: boolean;
  /** The upstream server that answered ("host:port"), when one did. */
  readonly upstream: string | undefined;
  /** From receipt to answer. */
  readonly durationMs: number;
}

export interface DnsListenOptions {
  /** Address to listen on ('0.0.0.0' or '::' for every interface, 'localhost' for 127.0.0.1). */
  host: string;
  /** Port for both UDP and TCP (0 picks a free port, the same for both). */
  port: number;
  /** Serve UDP (default true). */
  udp?: boolean;
  /** Serve TCP (default true). */
  tcp?: boolean;
  /**
   * Read and answer UDP in batches where the addon is built (default true; see udp-batch.ts);
   * false serves UDP through node:dgram.
   */
  batch?: boolean;
}

export interface DnsTcpOptions {
  /** A connection with no query for this long is closed (default 10 s, RFC 7766 §6.2.3). */
  idleTimeoutMs?: number;
  /** Connections at once; more are refused (default 1,000). */
  maxConnections?: number;
  /** Queries of one connection in flight before it is read no further (default 64). */
  maxPipelined?: number;
}

export interface DnsResolverOptions {
  /** Where to serve DNS over UDP and TCP; when undefined, only `resolve` answers (DNS over HTTPS). */
  listen?: DnsListenOptions;
  /** Upstream resolvers, IP addresses, asked in this order. */
  upstreams: readonly UpstreamServer[];
  upstream?: UpstreamTuning;
  /** The initial policy (default: allow everything); swap it with `setPolicy`. */
  policy?: DnsPolicy;
  /** How blocked names are answered when the verdict does not say (default 'nxdomain'). */
  blockMode?: BlockMode;
  /** TTL of blocked answers and of their SOA's negative TTL, in seconds (default 10). */
  blockTtl?: number;
  /** Receives every answered query the policy decided on. Keep it cheap: it is called inline. */
  onQuery?: (entry: QueryEntry) => void;
  cache?: DnsCacheOptions;
  /** Per-client limits; none when undefined. */
  rateLimit?: RateLimitOptions;
  tcp?: DnsTcpOptions;
  /** The largest UDP answer sent, whatever a client advertises (default 1232, DNS flag day 2020). */
  maxUdpPayload?: number;
  /** Distinct questions waiting for upstream at once; past this, SERVFAIL (default 4,096). */
  maxInFlight?: number;
  log?: Logger;
  /** The cache's clock. */
  clock?: Clock;
}

export interface DnsResolverStats {
  /** Packets received (UDP, TCP messages, DoH requests). */
  queries: number;
  answered: number;
  blocked: number;
  cacheHits: number;
  cacheMisses: number;
  /** Misses that joined an upstream exchange already in flight for the same question. */
  coalesced: number;
  /** Upstream exchanges started. */
  upstreamQueries: number;
  /** Upstream exchanges that got no usable answer (each is answered SERVFAIL). */
  upstreamFailures: number;
  servfail: number;
  /** Answered FORMERR, NOTIMP, BADVERS or REFUSED by `parseQuery`'s rules. */
  rejected: number;
  /** Dropped without an answer: unreadable, responses, or UDP beyond a rate limit. */
  dropped: number;
  rateLimited: number;
  policyErrors: number;
  queryLogErrors: number;
  internalErrors: number;
  tcpConnections: number;
  /** TCP connections refused at the connection cap. */
  tcpRejected: number;
  cacheEntries: number;
  cacheEvictions: number;
  inFlight: number;
  strayAnswers: number;
  tcpRetries: number;
  /** UDP answers the kernel did not send (a full send buffer, an unreachable client). */
  udpSendFailures: number;
  /** UDP is read and answered in batches (udp-batch.ts), not through node:dgram. */
  udpBatched: boolean;
  upstreams: UpstreamHealth[];
}

type Counters = Omit<
  DnsResolverStats,
  | 'tcpConnections'
  | 'cacheEntries'
  | 'cacheEvictions'
  | 'inFlight'
  | 'strayAnswers'
  | 'tcpRetries'
  | 'udpSendFailures'
  | 'udpBatched'
  | 'upstreams'
>;

/** An owner for the block SOA that no real zone has (RFC 6761 §6.4). */
const BLOCK_SOA_MNAME = 'netguard.rempart.invalid';
const BLOCK_SOA_RNAME = 'hostmaster.netguard.rempart.invalid';
/** A report of the same failure at most this often, so that a failing policy cannot flood the log. */
const REPORT_INTERVAL_MS = 10_000;
/** A TCP client that reads no answers is cut off past this much unsent data. */
const MAX_TCP_BACKLOG = 256 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

const upstreamFlags: readonly UpstreamQueryFlags[] = [
  { dnssecOk: false, checkingDisabled: false },
  { dnssecOk: true, checkingDisabled: false },
  { dnssecOk: false, checkingDisabled: true },
  { dnssecOk: true, checkingDisabled: true },
];

/** A query waiting for an upstream answer, and where its answer goes. */
class Pending {
  address = '';
  port = 0;
  connection: TcpConnection | undefined = undefined;
  resolve: ((response: Buffer) => void) | undefined = undefined;

  constructor(
    readonly raw: Buffer,
    readonly query: DnsQuery,
    readonly ctx: AnswerContext,
    readonly client: string,
    readonly protocol: Protocol,
    readonly verdict: Verdict,
    readonly type: string,
    readonly started: number,
  ) {}
}

/** One upstream exchange and the queries waiting for it. */
interface Flight {
  readonly key: string;
  readonly waiters: Pending[];
}

class TcpConnection {
  buffered: Buffer = EMPTY;
  inFlight = 0;
  paused = false;
  closed = false;

  constructor(
    readonly socket: Socket,
    readonly client: string,
  ) {}
}

/** The cache key: lower-case name, type, class, DO and CD bits (answers differ with DNSSEC). */
function cacheKey(q: DnsQuery): string {
  const dnssec = (q.edns?.dnssecOk ? 1 : 0) | (q.flags & Flag.CD ? 2 : 0);
  return `${q.name}/${q.qtype}/${q.qclass}/${dnssec}`;
}

function label(server: UpstreamServer): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

export class DnsResolver {
  /** The address listened on, undefined when the resolver does not listen. */
  readonly host: string | undefined;
  /** The UDP port, undefined when UDP is off. */
  udpPort: number | undefined;
  /** The TCP port, undefined when TCP is off. */
  tcpPort: number | undefined;

  private policy: DnsPolicy;
  private readonly onQuery: ((entry: QueryEntry) => void) | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly cache: DnsCache;
  private readonly limiter: ClientRateLimiter | undefined;
  private readonly blockMode: BlockMode;
  private readonly blockTtl: number;
  private readonly blockSoa: LocalRecord;
  private readonly nullRecords: ReadonlyMap<number, LocalRecord>;
  private readonly blockPages = new Map<string, LocalRecord | null>();
  private readonly payloadSize: number;
  private readonly maxInFlight: number;
  private readonly tcpOptions: Required<DnsTcpOptions>;
  /** Answer contexts by UDP limit, and the stream one: made once, not per query. */
  private readonly udpContexts: AnswerContext[] = [];
  private readonly streamContext: AnswerContext;
  private readonly inflight = new Map<string, Flight>();
  private readonly connections = new Set<TcpConnection>();
  private readonly lastReport = new Map<string, number>();
  private readonly counters: Counters = {
    queries: 0,
    answered: 0,
    blocked: 0,
    cacheHits: 0,
    cacheMisses: 0,
    coalesced: 0,
    upstreamQueries: 0,
    upstreamFailures: 0,
    servfail: 0,
    rejected: 0,
    dropped: 0,
    rateLimited: 0,
    policyErrors: 0,
    queryLogErrors: 0,
    internalErrors: 0,
    tcpRejected: 0,
  };
  private udp: UdpEndpoint | undefined;
  private tcp: TcpServer | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    options: DnsResolverOptions,
    private readonly upstream: UpstreamPool,
    logger: Logger,
  ) {
    const host = options.listen?.host;
    this.host = host === 'localhost' ? '127.0.0.1' : host;
    this.policy = options.policy ?? allowAll;
    this.onQuery = options.onQuery;
    this.log = logger;
    this.clock = options.clock ?? systemClock;
    this.cache = new DnsCache(options.cache);
    this.limiter = options.rateLimit ? new ClientRateLimiter(options.rateLimit) : undefined;
    this.payloadSize = options.maxUdpPayload ?? 1232;
    this.maxInFlight = options.maxInFlight ?? 4096;
    this.tcpOptions = {
      idleTimeoutMs: options.tcp?.idleTimeoutMs ?? 10_000,
      maxConnections: options.tcp?.maxConnections ?? 1000,
      maxPipelined: options.tcp?.maxPipelined ?? 64,
    };
    const blockTtl = options.blockTtl ?? 10;
    const problems: string[] = [];
    if (this.host !== undefined && isIP(this.host) === 0)
      problems.push(`listen host ${this.host} is not an IP address`);
    const port = options.listen?.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      problems.push(`listen port ${port} is out of range`);
    if (!Number.isInteger(blockTtl) || blockTtl < 0) problems.push('blockTtl must be a whole number ≥ 0');
    if (!(this.payloadSize >= MIN_UDP_PAYLOAD && this.payloadSize <= 4096))
      problems.push('maxUdpPayload must be between 512 and 4096');
    this.blockMode = options.blockMode ?? 'nxdomain';
    if (typeof this.blockMode === 'object') {
      const { v4, v6 } = this.blockMode.address;
      if (v4 !== undefined && addressBytes(v4)?.length !== 4)
        problems.push(`block page v4 ${v4} is not IPv4`);
      if (v6 !== undefined && addressBytes(v6)?.length !== 16)
        problems.push(`block page v6 ${v6} is not IPv6`);
    }
    if (problems.length > 0)
      throw RempartError.validation(`DNS resolver: ${problems.join('; ')}`, { problems });

    this.blockSoa = {
      type: Type.SOA,
      ttl: blockTtl,
      rdata: soaRdata({
        mname: BLOCK_SOA_MNAME,
        rname: BLOCK_SOA_RNAME,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86_400,
        minimum: blockTtl, // RFC 2308 §4
      }),
    };
    this.nullRecords = new Map([
      [Type.A, { type: Type.A, ttl: blockTtl, rdata: Buffer.alloc(4) }],
      [Type.AAAA, { type: Type.AAAA, ttl: blockTtl, rdata: Buffer.alloc(16) }],
    ]);
    this.blockTtl = blockTtl;
    for (let limit = MIN_UDP_PAYLOAD; limit <= this.payloadSize; limit++)
      this.udpContexts.push({ limit, payloadSize: this.payloadSize });
    this.streamContext = { limit: MAX_MESSAGE, payloadSize: this.payloadSize };
  }

  /** Opens the upstream sockets, then listens. Rejects when a port is taken or an option is invalid. */
  static async start(options: DnsResolverOptions): Promise<DnsResolver> {
    const logger = options.log ?? pino({ level: 'silent' });
    const servers = options.upstreams.map((s) => (s.host === 'localhost' ? { ...s, host: '127.0.0.1' } : s));
    const upstream = await UpstreamPool.open({ servers, ...options.upstream, log: logger });
    let resolver: DnsResolver;
    try {
      resolver = new DnsResolver(options, upstream, logger);
    } catch (error) {
      await upstream.close();
      throw error;
    }
    try {
      if (options.listen) await resolver.listen(options.listen);
    } catch (error) {
      await resolver.close();
      throw error;
    }
    const udp = resolver.udp;
    resolver.log.info(
      {
        listening: resolver.addresses(),
        upstreams: servers.map(label),
        ...(udp && {
          udp: udp.batched ? 'batched' : `node:dgram (batches ${udpBatching.reason ?? 'turned off'})`,
        }),
      },
      'DNS resolver started',
    );
    return resolver;
  }

  /** Where the resolver listens, as URLs: `udp://127.0.0.1:5353`, `tcp://[::]:53`. */
  addresses(): string[] {
    const host = this.host?.includes(':') ? `[${this.host}]` : this.host;
    return [
      ...(this.udpPort === undefined ? [] : [`udp://${host}:${this.udpPort}`]),
      ...(this.tcpPort === undefined ? [] : [`tcp://${host}:${this.tcpPort}`]),
    ];
  }

  private async listen(options: DnsListenOptions): Promise<void> {
    const { port } = options;
    const host = this.host ?? options.host;
    const udp = options.udp ?? true;
    const tcp = options.tcp ?? true;
    // With port 0, TCP takes the port UDP got, so that clients retry a truncated answer on the
    // same port (RFC 7766 §5); another process may hold it over TCP, so try a few ports.
    for (let attempt = 0; ; attempt++) {
      if (udp) this.udp = await openUdp(host, port, this.onUdpQuery, options.batch ?? true);
      const bound = this.udp ? this.udp.port : port;
      try {
        if (tcp) this.tcp = await this.listenTcp(host, bound);
        this.udpPort = this.udp ? bound : undefined;
        this.tcpPort = this.tcp ? (this.tcp.address() as { port: number }).port : undefined;
        return;
      } catch (error) {
        const socket = this.udp;
        this.udp = undefined;
        if (socket) await socket.close();
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!(port === 0 && udp && inUse && attempt < 8)) throw error;
      }
    }
  }

  private listenTcp(host: string, port: number): Promise<TcpServer> {
    const server = new TcpServer({ noDelay: true }, this.onConnection);
    server.maxConnections = this.tcpOptions.maxConnections;
    server.on('drop', () => this.counters.tcpRejected++);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.report('TCP server', error));
        resolve(server);
      });
    });
  }

  /** Replaces the ranges never rate-limited; nothing when the resolver has no limit. */
  setTrustedClients(ranges: readonly string[]): void {
    this.limiter?.setTrusted(ranges);
  }

  /** Swaps the policy: the next query is decided by the new one, and none is lost in between. */
  setPolicy(policy: DnsPolicy): void {
    this.policy = policy;
  }

  /**
   * Answers one DNS message (a DoH request's, or any other transport's): the same steps as UDP and
   * TCP, without a size limit. Rejects with a bad request when the message is no query at all.
   */
  resolve(query: Buffer, client: string, protocol: Protocol = 'doh'): Promise<Buffer> {
    if (this.closing)
      return Promise.reject(new RempartError('service_unavailable', 'the DNS resolver is stopped'));
    let result: Buffer | Pending | undefined;
    try {
      result = this.handle(query, plainAddress(client), protocol);
    } catch (error) {
      this.counters.internalErrors++;
      return Promise.reject(RempartError.internal(error));
    }
    if (result === undefined) return Promise.reject(RempartError.badRequest('not a DNS query'));
    if (result instanceof Pending) {
      const pending = result;
      return new Promise((resolve) => (pending.resolve = resolve));
    }
    return Promise.resolve(result);
  }

  // -------------------------------------------------------------------------------------------
  // The query path

  /**
   * Answers a query now (a Buffer), later (a Pending: the caller says where the answer goes before
   * it returns to the event loop), or never (undefined).
   */
  private handle(
    raw: Buffer,
    client: string,
    protocol: Protocol,
    stream = protocol !== 'udp',
  ): Buffer | Pending | undefined {
    const c = this.counters;
    c.queries++;
    const started = performance.now();
    if (this.limiter !== undefined && !this.limiter.allow(client)) {
      c.rateLimited++;
      // UDP sources can be forged: answering a flood, even briefly, would reflect it at someone.
      // TCP and DoH clients are who they say they are, and wait for an answer: they get REFUSED.
      const p = stream ? parseQuery(raw) : undefined;
      if (p === undefined || (!p.ok && p.rcode === undefined)) {
        c.dropped++;
        return undefined;
      }
      c.answered++;
      return emptyResponse(raw, p, Rcode.REFUSED, this.payloadSize);
    }

    const q = parseQuery(raw);
    if (!q.ok) {
      const response = problemResponse(raw, q, this.payloadSize);
      if (response === undefined) c.dropped++;
      else {
        c.rejected++;
        c.answered++;
      }
      return response;
    }
    const ctx = stream
      ? this.streamContext
      : this.udpContexts[udpLimit(q.edns, this.payloadSize) - MIN_UDP_PAYLOAD]!;
    const type = typeName(q.qtype);

    let verdict: Verdict;
    try {
      verdict = this.policy.decide({ name: q.name, type, client, protocol });
    } catch (error) {
      // Failing closed: a broken policy must not let a blocked name through.
      c.policyErrors++;
      this.report('policy', error);
      return this.servfail(raw, q);
    }

    if (verdict.action === 'block') {
      c.blocked++;
      c.answered++;
      const response = this.blockedAnswer(raw, q, verdict.mode ?? this.blockMode, ctx);
      if (this.onQuery)
        this.record(started, client, protocol, q.name, type, verdict, response, false, undefined);
      return response;
    }

    const key = cacheKey(q);
    const now = this.clock.now().getTime();
    const hit = this.cache.get(key, now);
    if (hit !== undefined) {
      c.cacheHits++;
      c.answered++;
      const age = Math.floor((now - hit.storedAt) / 1000);
      const response = renderResponse(hit.template, raw, q, age, ctx);
      if (this.onQuery)
        this.record(started, client, protocol, q.name, type, verdict, response, true, undefined);
      return response;
    }

    c.cacheMisses++;
    // A UDP query may be a view of a buffer the next batch overwrites (udp-batch.ts): the answer
    // given later needs its own copy.
    const own = stream ? raw : Buffer.from(raw);
    const pending = new Pending(own, q, ctx, client, protocol, verdict, type, started);
    const flight = this.inflight.get(key);
    if (flight !== undefined) {
      c.coalesced++;
      flight.waiters.push(pending);
      return pending;
    }
    if (this.inflight.size >= this.maxInFlight) {
      this.report(
        'upstream',
        new Error(`${this.maxInFlight} upstream questions in flight: answering SERVFAIL`),
      );
      const response = this.servfail(raw, q);
      if (this.onQuery)
        this.record(started, client, protocol, q.name, type, verdict, response, false, undefined);
      return response;
    }
    const created = { key, waiters: [pending] };
    this.inflight.set(key, created);
    c.upstreamQueries++;
    const flags = upstreamFlags[(q.edns?.dnssecOk ? 1 : 0) | (q.flags & Flag.CD ? 2 : 0)]!;
    void this.fly(created, upstreamQuestion(raw, q), flags);
    return pending;
  }

  private servfail(raw: Buffer, q: DnsQuery): Buffer {
    this.counters.servfail++;
    this.counters.answered++;
    return emptyResponse(raw, q, Rcode.SERVFAIL, this.payloadSize);
  }

  private blockedAnswer(raw: Buffer, q: DnsQuery, mode: BlockMode, ctx: AnswerContext): Buffer {
    if (mode === 'nxdomain') return localResponse(raw, q, Rcode.NXDOMAIN, undefined, this.blockSoa, ctx);
    const record = mode === 'null' ? this.nullRecords.get(q.qtype) : this.blockPage(q.qtype, mode.address);
    // NODATA, with the SOA, for the other types (RFC 2308 §2.2).
    return record
      ? localResponse(raw, q, Rcode.NOERROR, record, undefined, ctx)
      : localResponse(raw, q, Rcode.NOERROR, undefined, this.blockSoa, ctx);
  }

  /** The A or AAAA record of a block page address, made once per address. */
  private blockPage(qtype: number, address: { readonly v4?: string; readonly v6?: string }) {
    const text = qtype === Type.A ? address.v4 : qtype === Type.AAAA ? address.v6 : undefined;
    if (text === undefined) return undefined;
    let record = this.blockPages.get(text);
    if (record === undefined) {
      const rdata = addressBytes(text);
      const ok = rdata !== undefined && rdata.length === (qtype === Type.A ? 4 : 16);
      record = ok ? { type: qtype, ttl: this.blockTtl, rdata } : null;
      if (!ok)
        this.report(
          'block page',
          new Error(`block page address ${text} is not valid for ${typeName(qtype)}`),
        );
      if (this.blockPages.size > 1000) this.blockPages.clear();
      this.blockPages.set(text, record);
    }
    return record ?? undefined;
  }

  private async fly(flight: Flight, question: Buffer, flags: UpstreamQueryFlags): Promise<void> {
    let outcome: UpstreamOutcome;
    try {
      outcome = await this.upstream.exchange(question, flags);
    } catch (error) {
      this.report('upstream', error);
      outcome = { ok: false, reason: 'closed' };
    }
    this.inflight.delete(flight.key);
    let template: ResponseTemplate | undefined;
    if (outcome.ok) {
      const made = toTemplate(outcome.response, outcome.info);
      if (made.ok) {
        template = made;
        this.cache.put(flight.key, template, this.clock.now().getTime());
      } else this.log.debug({ reason: made.reason }, 'unusable upstream answer');
    }
    if (template === undefined) this.counters.upstreamFailures++;
    const upstream = outcome.ok ? label(outcome.server) : undefined;
    for (const w of flight.waiters) {
      try {
        let response: Buffer;
        if (template === undefined) response = this.servfail(w.raw, w.query);
        else {
          this.counters.answered++;
          response = renderResponse(template, w.raw, w.query, 0, w.ctx);
        }
        this.deliver(w, response);
        if (this.onQuery)
          this.record(
            w.started,
            w.client,
            w.protocol,
            w.query.name,
            w.type,
            w.verdict,
            response,
            false,
            upstream,
          );
      } catch (error) {
        this.counters.internalErrors++;
        this.report('answer', error);
      }
    }
  }

  private deliver(w: Pending, response: Buffer): void {
    if (w.resolve) w.resolve(response);
    else if (w.connection) this.sendTcp(w.connection, response, true);
    else if (this.udp && !this.closing) this.udp.send(response, w.port, w.address);
  }

  private record(
    started: number,
    client: string,
    protocol: Protocol,
    name: string,
    type: string,
    verdict: Verdict,
    response: Buffer,
    cached: boolean,
    upstream: string | undefined,
  ): void {
    try {
      this.onQuery!({
        time: this.clock.now(),
        client,
        protocol,
        name,
        type,
        verdict,
        rcode: rcodeName(response[3]! & 0x0f),
        cached,
        upstream,
        durationMs: performance.now() - started,
      });
    } catch (error) {
      this.counters.queryLogErrors++;
      this.report('query log', error);
    }
  }

  /** Logs a failure, at most once per `REPORT_INTERVAL_MS` for each kind, with a count of the rest. */
  private report(what: string, error: unknown): void {
    const now = performance.now();
    const last = this.lastReport.get(what);
    if (last !== undefined && now - last < REPORT_INTERVAL_MS) return;
    this.lastReport.set(what, now);
    this.log.error(
      { err: error },
      `DNS ${what} failed (repeats within ${REPORT_INTERVAL_MS / 1000} s not logged)`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Transports

  /** RFC 1035 §4.2.1: one query per datagram, the answer to its source. */
  private readonly onUdpQuery = (
    msg: Buffer,
    client: string,
    port: number,
    address: string,
  ): Buffer | undefined => {
    try {
      const result = this.handle(msg, client, 'udp', false);
      if (!(result instanceof Pending)) return result;
      result.address = address;
      result.port = port;
    } catch (error) {
      this.counters.internalErrors++;
      this.report('UDP query', error);
    }
    return undefined;
  };

  /** RFC 7766: several queries per connection, answered as they are ready (§6.2.1.1). */
  private readonly onConnection = (socket: Socket): void => {
    const conn = new TcpConnection(socket, plainAddress(socket.remoteAddress ?? ''));
    this.connections.add(conn);
    socket.setTimeout(this.tcpOptions.idleTimeoutMs); // RFC 7766 §6.2.3
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      conn.closed = true;
      this.connections.delete(conn);
    });
    socket.on('data', (chunk: Buffer) => this.onTcpData(conn, chunk));
  };

  private onTcpData(conn: TcpConnection, chunk: Buffer): void {
    try {
      const buf = conn.buffered.length === 0 ? chunk : Buffer.concat([conn.buffered, chunk]);
      let off = 0;
      while (buf.length - off >= 2 && !conn.closed) {
        const length = buf.readUInt16BE(off);
        if (buf.length - off - 2 < length) break;
        const msg = buf.subarray(off + 2, off + 2 + length);
        off += 2 + length;
        const result = this.handle(msg, conn.client, 'tcp', true);
        if (result === undefined) continue;
        if (result instanceof Pending) {
          result.connection = conn;
          if (++conn.inFlight >= this.tcpOptions.maxPipelined && !conn.paused) {
            conn.paused = true;
            conn.socket.pause();
          }
        } else this.sendTcp(conn, result, false);
      }
      conn.buffered = off === buf.length ? EMPTY : Buffer.from(buf.subarray(off));
    } catch (error) {
      this.counters.internalErrors++;
      this.report('TCP query', error);
      conn.socket.destroy();
    }
  }

  private sendTcp(conn: TcpConnection, response: Buffer, wasPending: boolean): void {
    if (wasPending) {
      conn.inFlight--;
      if (conn.paused && conn.inFlight < this.tcpOptions.maxPipelined) {
        conn.paused = false;
        conn.socket.resume();
      }
    }
    if (conn.closed || conn.socket.destroyed) return;
    if (conn.socket.writableLength > MAX_TCP_BACKLOG) {
      conn.socket.destroy();
      return;
    }
    conn.socket.write(frame(response));
  }

  // -------------------------------------------------------------------------------------------

  stats(): DnsResolverStats {
    const upstream = this.upstream.stats();
    return {
      ...this.counters,
      tcpConnections: this.connections.size,
      cacheEntries: this.cache.size,
      cacheEvictions: this.cache.evictions,
      inFlight: this.inflight.size,
      strayAnswers: upstream.stray,
      tcpRetries: upstream.tcpRetries,
      udpSendFailures: this.udp?.sendFailures() ?? 0,
      udpBatched: this.udp?.batched ?? false,
      upstreams: this.upstream.health(),
    };
  }

  /**
   * Stops listening, closes every connection and upstream socket; queries waiting for upstream
   * are answered SERVFAIL (DoH callers get their answer). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const udp = this.udp;
      const tcp = this.tcp;
      for (const conn of this.connections) conn.socket.destroy();
      await Promise.all([
        udp?.close(),
        tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
        this.upstream.close(),
      ]);
      this.udp = undefined;
      this.log.info({ listening: this.addresses() }, 'DNS resolver stopped');
    })();
    return this.closing;
  }
}
