/**
 * A DNS resolver replica: the network guard's resolver on a machine of its own, with no database
 * and none of the platform's code. It takes its policy from the platform (groups, lists, enrolled
 * devices, spyware domains) and ships its query log back in batches; the platform logs those
 * queries and raises the spyware alerts as for its own. `rempart dns serve --replica-of URL` runs one.
 *
 * - Start: the policy is fetched, every list the groups use and the spyware domains are fetched
 *   and compiled, then the resolver answers. A platform that cannot be reached, or refuses the
 *   secret, stops the start with a clear error: a replica never answers with a policy it has not
 *   been given.
 * - Then: the policy's version is asked every few seconds (one request answered 304 while nothing
 *   changes); a change fetches the lists whose version moved, and the spyware domains when their
 *   revision moved, and swaps the new policy in between two queries. While the platform cannot be
 *   reached the replica goes on with the policy it has.
 * - The query log is aggregated as the platform's own (identical queries between two shipments
 *   are one row with their count) and shipped every second; a shipment that fails is counted as
 *   not logged, and the count reaches the platform with the next one that succeeds.
 *
 * The shipped categories (TikTok and ByteDance, public DNS-over-HTTPS resolvers) are read from
 * this installation's own files, as the platform reads them from its own. The spyware category
 * follows the platform's indicator store: its domains (shipped bundles and those imported since)
 * are fetched when the policy names a revision of them this replica does not hold, and compiled
 * as the platform compiles them, so that a freshly published spyware domain is blocked and
 * alerted on here within a poll, as on the platform.
 *
 * Memory: Node itself, this code (some 60 MB together), the compiled lists (about 75 MB for a
 * million names) and the resolver's cache: 177 MB with a million names, loaded (bench/dns.mjs).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import {
  ReplicaPolicy,
  ReplicaSpywareDomains,
  REPLICA_BATCH_MAX_ROWS,
  RempartError,
  type CategoryId,
  type ListAction,
  type ReplicaQueryRow,
} from '@rempart/core';
import { systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import { loadCategories, spywareCategoryOf } from './categories.js';
import {
  assemblePolicy,
  listMatcher,
  queryRowOf,
  spywareReason,
  trustedClients,
  verdictOf,
} from './decide.js';
import { parseList } from './lists.js';
import type { QueryRow } from './netguard.repository.js';
import type { ListMatcher, Policy } from './policy.js';
import { QueryLog } from './query-log.js';
import { DnsResolver, type DnsListenOptions, type DnsResolverStats, type QueryEntry } from './resolver.js';
import type { UpstreamServer } from './upstream.js';

export interface ReplicaOptions {
  /** The platform's address, e.g. `https://rempart.interieur.gouv.fr`. */
  server: string;
  /** The secret shared with the platform (REMPART_DNS_REPLICA_TOKEN). */
  token: string;
  /** How the platform names this replica in its log and alerts (default: the host name). */
  name?: string;
  listen: DnsListenOptions;
  upstreams: readonly UpstreamServer[];
  /** Queries per second per client (bursts of twice that); 0 turns the limit off. */
  rateLimit: number;
  /** Ranges never rate-limited, beside the platform's trusted groups. */
  trusted: readonly string[];
  /** Lists read from files and added to every group, for this run. */
  extraLists?: readonly { path: string; action: ListAction }[];
  log: Logger;
  /** How often the policy's version is asked (default 5 s). */
  pollMs?: number;
  /** How often the query log is shipped (default 1 s). */
  shipMs?: number;
  /** How long one request to the platform may take (default 30 s). */
  timeoutMs?: number;
}

/** A row of the replica's log: the platform's row, and the malware named when it is a spyware query. */
type ReplicaRow = QueryRow & { spyware?: { malware: string } };

export interface ReplicaStatus {
  /** The version of the policy in force. */
  version: string;
  groups: number;
  lists: number;
  /** When the platform last answered a poll. */
  lastSync: Date;
  /** The spyware category: the revision of the platform's domains held (none: the shipped bundles'), and how many. */
  spyware: { revision: string | undefined; domains: number };
  /** Polls that failed since the last one that succeeded. */
  failedPolls: number;
  /** Queries shipped to the platform. */
  shipped: number;
  /** Queries not logged: the buffer was full or a shipment failed. */
  notLogged: number;
  resolver: DnsResolverStats;
  listening: string[];
}

export class DnsReplica {
  private policy: Policy | undefined;
  private snapshot: ReplicaPolicy | undefined;
  /** Compiled lists by id, with the version compiled. */
  private readonly lists = new Map<string, { version: string; matcher: ListMatcher }>();
  private readonly categories = new Map<CategoryId, ListMatcher>();
  /** The spyware category compiled from the platform's domains, and their revision. */
  private spyware: { revision: string; matcher: ListMatcher; domains: number } | undefined;
  /**
   * A list or the spyware domains were served at another version than the policy named (they
   * changed in between): the next poll asks for the whole policy, not only whether it changed,
   * since the platform may be back to the version held by then.
   */
  private stale = false;
  private readonly extra: ListMatcher[];
  private resolver: DnsResolver | undefined;
  private queryLog: QueryLog<ReplicaRow> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private lastSync = new Date(0);
  private failedPolls = 0;
  private shipped = 0;
  /** The log's not-logged count already reported to the platform. */
  private reportedNotLogged = 0;
  private readonly base: string;
  private readonly name: string;
  private closed = false;

  private constructor(private readonly options: ReplicaOptions) {
    this.base = options.server.replace(/\/+$/, '');
    this.name = options.name ?? hostname();
    this.extra = (options.extraLists ?? []).map((l) =>
      listMatcher(parseList(readList(l.path), { name: l.path, format: 'auto', action: l.action })),
    );
  }

  /** Fetches the policy and its lists, then starts answering. */
  static async start(options: ReplicaOptions): Promise<DnsReplica> {
    let url: URL;
    try {
      url = new URL(options.server);
    } catch {
      throw RempartError.validation(`${options.server} is not a URL (e.g. https://rempart.example.org)`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw RempartError.validation(`${options.server}: the platform's address must be http(s)://`);
    const replica = new DnsReplica(options);
    await replica.sync();
    replica.resolver = await DnsResolver.start({
      listen: options.listen,
      upstreams: options.upstreams,
      policy: {
        decide: (q) => verdictOf(replica.policy, q.name, q.client, replica.snapshot?.blockPage ?? {}),
      },
      onQuery: (entry) => replica.onQuery(entry),
      rateLimit:
        options.rateLimit > 0
          ? { qps: options.rateLimit, burst: options.rateLimit * 2, trusted: replica.trusted() }
          : undefined,
      log: options.log,
    });
    replica.pollTimer = setInterval(() => void replica.poll(), options.pollMs ?? 5000);
    replica.pollTimer.unref();
    return replica;
  }

  addresses(): string[] {
    return this.resolver?.addresses() ?? [];
  }

  status(): ReplicaStatus {
    return {
      version: this.snapshot?.version ?? '',
      groups: this.snapshot?.groups.length ?? 0,
      lists: this.lists.size,
      lastSync: this.lastSync,
      spyware: {
        revision: this.spyware?.revision,
        domains:
          this.spyware?.domains ?? loadCategories().find((c) => c.id === 'spyware')?.list.domainCount ?? 0,
      },
      failedPolls: this.failedPolls,
      shipped: this.shipped,
      notLogged: this.queryLog?.notLogged ?? 0,
      resolver: this.resolver!.stats(),
      listening: this.addresses(),
    };
  }

  /** Asks for the policy now (and waits for it): the poll's work, for tests and reloads. */
  sync(): Promise<void> {
    this.syncing ??= this.fetchPolicy().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Ships what the log holds now. */
  async flush(): Promise<void> {
    await this.queryLog?.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    await this.resolver?.close();
    await this.queryLog?.close();
  }

  private async poll(): Promise<void> {
    try {
      await this.sync();
      if (this.failedPolls > 0)
        this.options.log.info({ failed: this.failedPolls }, 'the platform answers again');
      this.failedPolls = 0;
    } catch (error) {
      this.failedPolls += 1;
      // Said once, then every minute or so: the replica goes on with the policy it has.
      if (this.failedPolls === 1 || this.failedPolls % 12 === 0)
        this.options.log.warn(
          { err: error, failed: this.failedPolls, version: this.snapshot?.version },
          'the platform cannot be reached: answering with the policy held',
        );
    }
  }

  private async fetchPolicy(): Promise<void> {
    const held = this.snapshot?.version;
    const res = await this.request('/api/netguard/replica/policy', {
      headers: held && !this.stale ? { 'if-none-match': `"${held}"` } : {},
    });
    this.lastSync = systemClock.now();
    if (res.status === 304) return;
    const parsed = ReplicaPolicy.safeParse(readJson(res.body));
    if (!parsed.success) throw RempartError.validation('the platform sent a policy this replica cannot read');
    const policy = parsed.data;
    let stale = false;
    for (const list of policy.lists) {
      if (this.lists.get(list.id)?.version === list.version) continue;
      const got = await this.request(`/api/netguard/replica/lists/${encodeURIComponent(list.id)}`);
      const text = got.body.toString('utf8');
      // A list changed since the policy was read is kept at the version served; the next poll
      // asks for the whole policy again (see `stale`), which names the version in force.
      const served = got.headers['rempart-list-version'];
      const version = typeof served === 'string' ? served : list.version;
      if (version !== list.version) stale = true;
      const parsedList = parseList(text, { name: list.name, format: list.format, action: list.action });
      this.lists.set(list.id, { version, matcher: listMatcher(parsedList) });
    }
    const named = new Set(policy.lists.map((l) => l.id));
    for (const id of this.lists.keys()) if (!named.has(id)) this.lists.delete(id);
    if (!(await this.followSpyware(policy.spywareRevision))) stale = true;
    this.policy = assemblePolicy(policy.groups, policy.devices, {
      category: (id) => this.category(id),
      list: (id) => this.lists.get(id)?.matcher,
      extra: this.extra,
    });
    this.snapshot = policy;
    this.stale = stale;
    this.resolver?.setTrustedClients(this.trusted());
    await this.logFor(policy.logDays);
    this.options.log.info(
      {
        version: policy.version,
        groups: policy.groups.length,
        lists: policy.lists.length,
        spyware: this.spyware?.revision,
      },
      held ? 'policy changed: swapped in' : 'policy loaded',
    );
  }

  /**
   * The spyware category as the platform has it. Its domains are fetched only when the policy
   * names a revision this replica does not hold (a few thousand of them: not at every poll), and
   * compiled as the platform compiles them, so that the rule, the malware named and hence the
   * verdict, the answer and the alert are the platform's. No revision: the shipped bundles', read
   * from this installation's files. Returns false when the domains were served at another
   * revision than the policy named (they changed in between).
   */
  private async followSpyware(revision: string | undefined): Promise<boolean> {
    if (revision === undefined) {
      this.spyware = undefined;
      return true;
    }
    if (this.spyware?.revision === revision) return true;
    const got = await this.request('/api/netguard/replica/spyware');
    const parsed = ReplicaSpywareDomains.safeParse(readJson(got.body));
    if (!parsed.success)
      throw RempartError.validation('the platform sent spyware domains this replica cannot read');
    const category = spywareCategoryOf(parsed.data.domains);
    this.spyware = {
      revision: parsed.data.revision,
      matcher: listMatcher(category.list, category.id),
      domains: category.list.domainCount,
    };
    return parsed.data.revision === revision;
  }

  private category(id: CategoryId): ListMatcher | undefined {
    if (id === 'spyware' && this.spyware) return this.spyware.matcher;
    let matcher = this.categories.get(id);
    if (!matcher) {
      const category = loadCategories().find((c) => c.id === id);
      if (!category) return undefined;
      matcher = listMatcher(category.list, category.id);
      this.categories.set(id, matcher);
    }
    return matcher;
  }

  private trusted(): string[] {
    const snapshot = this.snapshot;
    return trustedClients(
      [...this.options.trusted, ...(snapshot?.trusted ?? [])],
      snapshot?.groups ?? [],
      snapshot?.devices ?? [],
    );
  }

  /** The log runs while the platform keeps one (its retention in days; 0 is off). */
  private async logFor(days: number): Promise<void> {
    if ((this.queryLog?.enabled ?? false) === days > 0) return;
    const previous = this.queryLog;
    this.queryLog = new QueryLog<ReplicaRow>({
      repo: { insertQueries: (rows) => this.ship(rows), pruneQueries: () => Promise.resolve(0) },
      clock: systemClock,
      log: this.options.log,
      retentionDays: days,
      flushMs: this.options.shipMs ?? 1000,
      // The platform prunes its own log.
      pruneMs: 2 ** 31 - 1,
    });
    await previous?.close();
  }

  private onQuery(entry: QueryEntry): void {
    const log = this.queryLog;
    if (!log?.enabled) return;
    const row: ReplicaRow = queryRowOf(entry);
    const spyware = spywareReason(entry);
    if (spyware) row.spyware = { malware: spyware.malware ?? '' };
    log.add(row);
  }

  /** Ships rows to the platform, in batches it accepts. */
  private async ship(rows: (ReplicaRow & { count: number })[]): Promise<void> {
    for (let i = 0; i < rows.length; i += REPLICA_BATCH_MAX_ROWS) {
      const notLogged = (this.queryLog?.notLogged ?? 0) - this.reportedNotLogged;
      const chunk = rows.slice(i, i + REPLICA_BATCH_MAX_ROWS).map((r): ReplicaQueryRow => ({
        at: r.at.getTime(),
        client: r.client,
        protocol: r.protocol,
        name: r.name,
        type: r.type,
        groupId: r.groupId,
        action: r.action,
        list: r.list ?? null,
        rule: r.rule ?? null,
        rcode: r.rcode,
        cached: r.cached,
        durationMs: r.durationMs,
        count: r.count,
        ...(r.spyware ? { spyware: r.spyware } : {}),
      }));
      await this.request('/api/netguard/replica/queries', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replica: this.name, rows: chunk, notLogged }),
      });
      this.reportedNotLogged += notLogged;
      this.shipped += chunk.reduce((n, r) => n + r.count, 0);
    }
  }

  /** One request to the platform with the secret; an error names what went wrong. */
  private async request(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    let res: Reply;
    try {
      res = await call(new URL(`${this.base}${path}`), {
        method: init.method ?? 'GET',
        headers: { ...init.headers, authorization: `Bearer ${this.options.token}` },
        ...(init.body !== undefined ? { body: init.body } : {}),
        timeoutMs: this.options.timeoutMs ?? 30_000,
      });
    } catch (error) {
      throw new RempartError(
        'service_unavailable',
        `The platform at ${this.base} cannot be reached: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    if ((res.status >= 200 && res.status < 300) || res.status === 304) return res;
    let body: { error?: { code?: string; message?: string } } | undefined;
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch {
      body = undefined;
    }
    const message = body?.error?.message ?? `HTTP ${res.status}`;
    const code = body?.error?.code;
    if (code === 'replica_token_invalid' || code === 'replicas_off')
      throw new RempartError(code, `The platform at ${this.base} refused this replica: ${message}`);
    throw new RempartError(
      'service_unavailable',
      `The platform at ${this.base} answered ${path}: ${message}`,
    );
  }
}

/** A list file given for this run; one that cannot be read stops the start, naming it. */
function readList(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw RempartError.validation(
      `The list file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** A body as JSON; undefined when it is not JSON (the schema then refuses it). */
function readJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The largest answer read from the platform: a list may hold 64 MB. */
const MAX_REPLY_BYTES = 128 * 1024 * 1024;

/**
 * One HTTP(S) exchange with node:http: a twelfth of the memory `fetch` (undici) takes, which
 * counts in a process that should hold little beyond its lists.
 */
function call(
  url: URL,
  o: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: o.method, headers: o.headers, timeout: o.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) req.destroy(new Error('answer too large'));
        else chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(o.body);
  });
}

// What `rempart dns serve --replica-of` needs beside the replica, without loading the platform.
export { createLogger } from '../logger.js';
export { systemResolvers } from './resolv-conf.js';
