/**
 * The network guard as a service: groups of clients and what they may reach, lists uploaded or
 * read from files, the categories that ship with Rempart (TikTok and ByteDance, spyware, public
 * DNS-over-HTTPS resolvers), the filtering resolver itself, its query log and statistics, the
 * device profiles of each group and the compliance of enrolled devices.
 *
 * A change of groups or lists builds a new compiled policy and swaps it into the resolver
 * between two queries: a reload never drops one. A list is compiled once and shared by every
 * group that uses it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  DEFAULT_GROUP_ID,
  GroupInput,
  RempartError,
  type Category,
  type CategoryId,
  type Device,
  type DnsVerdict,
  type Group,
  type InventoryReport,
  type ListAction,
  type ListFormat,
  type MdmImportResult,
  type NetguardList,
  type QueryStats,
  type ReplicaPolicy,
  type ReplicaQueryBatch,
  type ReplicaSpywareDomains,
} from '@rempart/core';
import type { AlertSink } from '../alerts/alert.service.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import { bearerMatches, randomToken, sha256Hex } from '../identity/secrets.js';
import type { Logger } from '../logger.js';
import {
  loadCategories,
  spywareCategoryOf,
  type Category as ShippedCategory,
  type SpywareDomainSource,
} from './categories.js';
import { evaluateCompliance, parseMdmCsv } from './compliance.js';
import { androidPolicy, appleProfile } from './device-policy.js';
import { handleDohRequest, type DohRequest, type DohResponse } from './doh.js';
import {
  assemblePolicy,
  listMatcher,
  queryRowOf,
  spywareReason,
  trustedClients,
  verdictOf,
  type DeviceAddress,
  type GroupSpec,
} from './decide.js';
import { parseList, type ParsedList } from './lists.js';
import type {
  DeviceRow,
  GroupRow,
  ListRow,
  NetguardRepository,
  NewDeviceRow,
} from './netguard.repository.js';
import { parseCidr, type ListMatcher, type Policy } from './policy.js';
import { QueryLog } from './query-log.js';
import { DnsResolver, type QueryEntry } from './resolver.js';

export interface NetguardConfig {
  listen: { host: string; port: number } | undefined;
  upstreams: { host: string; port: number }[];
  blockPage: { v4?: string; v6?: string };
  logDays: number;
  rateLimit: number;
  trusted: string[];
  /** The DNS-over-HTTPS URL given to devices in their profiles. */
  dohUrl: string;
  organisation: string;
  /** Lists read from files and added to every group, for this run only (`rempart dns serve --list`). */
  extraLists?: { path: string; action: ListAction }[];
  /** The secret resolver replicas present; undefined: none is served. */
  replicaToken?: string | undefined;
}

export interface NetguardDeps {
  repo: NetguardRepository;
  alerts: AlertSink;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: NetguardConfig;
  /** Looks an agent up by email, for device owners. */
  agentByEmail: (email: string) => Promise<{ id: string; email: string } | undefined>;
  agentEmail: (id: string) => Promise<string | undefined>;
  /**
   * The spyware category's domains, kept up to date (the spyware check's indicator store): a
   * change recompiles the category for every group at once. Without it, the shipped bundles'.
   */
  spywareDomains?: SpywareDomainSource;
}

/** Who asked the resolver for a name, as its query log holds it. */
export interface NameQueries {
  client: string;
  name: string;
  firstSeen: Date;
  lastSeen: Date;
  count: number;
}

export interface Actor {
  id: string;
  email: string;
}

/** A spyware query from the same client for the same name is alerted once in this window. */
const SPYWARE_ALERT_WINDOW_MS = 10 * 60_000;

const DEFAULT_GROUP: Omit<GroupRow, 'updatedAt'> = {
  id: DEFAULT_GROUP_ID,
  name: 'Default',
  description: 'Every client no other group claims.',
  cidrs: [],
  // Out of the box: spyware and the TikTok platform are blocked for everyone (issue brief).
  categories: ['spyware', 'tiktok-bytedance'],
  lists: [],
  blockMode: 'nxdomain',
  trusted: false,
  noPrivateApps: false,
};

interface CompiledList {
  key: string;
  /** The list's version (its file's stamp or its revision); '' for a category. */
  version: string;
  matcher: ListMatcher;
  parsed: ParsedList;
}

export class NetguardService {
  private categories: ShippedCategory[] = [];
  private readonly compiled = new Map<string, CompiledList>();
  private policy: Policy | undefined;
  private resolver: DnsResolver | undefined;
  private queryLog: QueryLog | undefined;
  private readonly spywareAlerted = new Map<string, number>();
  /** Files lists are read from, and the modification stamp they had when compiled. */
  private readonly watched = new Map<string, string>();
  /** Clients never rate-limited: the configured ranges, and the clients of trusted groups. */
  private trustedClients: string[] = [];
  /** What replicas are sent, rebuilt with the policy. */
  private replicaSnapshot: ReplicaPolicy | undefined;
  /**
   * The spyware category's domains as replicas fetch them, and their revision (in their policy),
   * when the category follows a source; without one, replicas read the shipped bundles as this does.
   */
  private replicaSpyware: ReplicaSpywareDomains | undefined;
  private reloading: Promise<void> | undefined;
  private fileWatch: NodeJS.Timeout | undefined;
  private stopSpywareDomains: (() => void) | undefined;
  private closed = false;

  constructor(private readonly deps: NetguardDeps) {}

  /** Loads the categories, seeds the default group, compiles the policy and starts the resolver. */
  async start(): Promise<void> {
    const began = performance.now();
    this.categories = loadCategories();
    const spyware = this.deps.spywareDomains;
    if (spyware) {
      this.useSpywareDomains(spyware);
      this.stopSpywareDomains = spyware.onChange(() => {
        this.useSpywareDomains(spyware);
        void this.reload().catch((error: unknown) =>
          this.deps.log.error({ err: error }, 'reload after a change of spyware indicators failed'),
        );
      });
    }
    await this.deps.repo.insertGroupIfMissing({ ...DEFAULT_GROUP, updatedAt: this.deps.clock.now() });
    await this.reload();
    this.queryLog = new QueryLog({
      repo: this.deps.repo,
      clock: this.deps.clock,
      log: this.deps.log,
      retentionDays: this.deps.config.logDays,
    });
    this.resolver = await DnsResolver.start({
      ...(this.deps.config.listen ? { listen: this.deps.config.listen } : {}),
      upstreams: this.deps.config.upstreams,
      policy: { decide: (q) => verdictOf(this.policy, q.name, q.client, this.deps.config.blockPage) },
      onQuery: (entry) => this.onQuery(entry),
      rateLimit:
        this.deps.config.rateLimit > 0
          ? {
              qps: this.deps.config.rateLimit,
              burst: this.deps.config.rateLimit * 2,
              trusted: this.trustedRanges(),
            }
          : undefined,
      log: this.deps.log,
    });
    // Lists read from files are re-read when the file changes.
    this.fileWatch = setInterval(() => void this.reloadIfFilesChanged(), 5000);
    this.fileWatch.unref();
    this.deps.log.info(
      {
        listening: this.resolver.addresses(),
        upstreams: this.deps.config.upstreams.map((u) => `${u.host}:${u.port}`),
        ms: Math.round(performance.now() - began),
      },
      'network guard started',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSpywareDomains?.();
    clearInterval(this.fileWatch);
    // A reload under way (a list or the spyware indicators changed just before) reads the
    // database: it ends before the database may close. Its failure was logged where it started.
    await this.reloading;
    await this.resolver?.close();
    await this.queryLog?.close();
  }

  // ------------------------------------------------------------------ policy

  /** Rebuilds the compiled policy from the stored groups and lists, then swaps it in. */
  reload(): Promise<void> {
    // Reloads asked for while one runs are folded into the next one.
    const run = (this.reloading ?? Promise.resolve()).then(() => (this.closed ? undefined : this.rebuild()));
    // The chain itself never rejects: a failed reload is its caller's to report, and the next one
    // still runs (and `close` can wait for it).
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.reloading = settled;
    void settled.then(() => {
      if (this.reloading === settled) this.reloading = undefined;
    });
    return run;
  }

  private async rebuild(): Promise<void> {
    const [groups, lists, devices] = await Promise.all([
      this.deps.repo.listGroups(),
      this.deps.repo.allLists(),
      this.deps.repo.listDevices(),
    ]);
    const byId = new Map(lists.map((l) => [l.id, l]));
    const used = new Set<string>();
    this.watched.clear();
    const extra = (this.deps.config.extraLists ?? []).map((l, i) => {
      const compiled = this.compileList({
        id: `run-${i}`,
        name: l.path,
        action: l.action,
        format: 'auto',
        path: l.path,
        content: null,
        rules: 0,
        problems: [],
        problemCount: 0,
        updatedAt: new Date(0),
        revision: 1,
      });
      used.add(compiled.key);
      return compiled.matcher;
    });
    const specs: GroupSpec[] = groups.map((g) => ({
      id: g.id,
      name: g.name,
      cidrs: g.cidrs,
      blockMode: g.blockMode,
      trusted: g.trusted,
      categories: g.categories as CategoryId[],
      lists: g.lists.filter((id) => byId.has(id)),
    }));
    const addresses: DeviceAddress[] = devices.flatMap((d) =>
      d.addresses.map((address) => ({ address, group: d.groupId, device: d.name })),
    );
    const versions = new Map<string, string>();
    this.policy = assemblePolicy(specs, addresses, {
      category: (id) => {
        const compiled = this.compileCategory(id);
        if (compiled) used.add(compiled.key);
        return compiled?.matcher;
      },
      list: (id) => {
        const row = byId.get(id);
        if (!row) return undefined;
        try {
          const compiled = this.compileList(row);
          used.add(compiled.key);
          versions.set(id, compiled.version);
          return compiled.matcher;
        } catch (error) {
          // A list file gone missing must not take the resolver down: the group goes on without it.
          this.deps.log.error({ err: error, list: row.name }, 'list skipped');
          return undefined;
        }
      },
      extra,
    });
    // Lists no group uses any more are let go.
    for (const key of this.compiled.keys()) if (!used.has(key)) this.compiled.delete(key);
    // Clients of trusted groups are never rate-limited, whatever the configured ranges say.
    this.trustedClients = trustedClients(this.deps.config.trusted, specs, addresses);
    this.resolver?.setTrustedClients(this.trustedClients);
    this.replicaSnapshot = replicaPolicyOf({
      groups: specs.map((g) => ({ ...g, lists: g.lists.filter((id) => versions.has(id)) })),
      lists: [...versions].map(([id, version]) => {
        const row = byId.get(id)!;
        return { id, version, name: row.name, action: row.action, format: row.format };
      }),
      devices: addresses,
      trusted: this.trustedRanges(),
      blockPage: this.deps.config.blockPage,
      logDays: this.deps.config.logDays,
      ...(this.replicaSpyware ? { spywareRevision: this.replicaSpyware.revision } : {}),
    });
  }

  /** The spyware category rebuilt from `source`; groups get it at the next reload. */
  private useSpywareDomains(source: SpywareDomainSource): void {
    const domains = source.spywareDomains();
    const category = spywareCategoryOf(domains);
    // A digest, not a counter: a platform restarted, or a set imported then removed, gives the
    // revision a replica already holds, and it fetches nothing.
    const revision = createHash('sha256').update(JSON.stringify(domains)).digest('base64url').slice(0, 22);
    this.replicaSpyware = {
      revision,
      domains: domains.map((d) => ({ ...d, malware: [...d.malware] })),
    };
    this.categories = [...this.categories.filter((c) => c.id !== 'spyware'), category];
    // The compiled category is keyed by its id alone: the old one is dropped so that it is compiled anew.
    this.compiled.delete('category:spyware');
  }

  private compileCategory(id: CategoryId): CompiledList | undefined {
    const key = `category:${id}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const category = this.categories.find((c) => c.id === id);
    if (!category) return undefined;
    const compiled = {
      key,
      version: '',
      parsed: category.list,
      matcher: listMatcher(category.list, category.id),
    };
    this.compiled.set(key, compiled);
    return compiled;
  }

  private compileList(row: ListRow): CompiledList {
    const version = listVersion(row);
    if (row.path) this.watched.set(row.path, version);
    const key = `list:${row.id}:${version}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const text = row.path ? readListFile(row.path) : (row.content ?? '');
    const parsed = parseList(text, { name: row.name, format: row.format, action: row.action });
    const compiled = { key, version, parsed, matcher: listMatcher(parsed) };
    this.compiled.set(key, compiled);
    return compiled;
  }

  private async reloadIfFilesChanged(): Promise<void> {
    const changed = [...this.watched].find(([path, stamp]) => fileStamp(path) !== stamp);
    if (!changed) return;
    this.deps.log.info({ file: changed[0] }, 'a list file changed: reloading');
    await this.reload().catch((error: unknown) => this.deps.log.error({ err: error }, 'reload failed'));
  }

  private trustedRanges(): string[] {
    return this.deps.config.trusted.filter((c) => parseCidr(c) !== undefined);
  }

  /** A device as enrolled: nothing reported yet, so neither compliant nor not. */
  private newDevice(
    who: Pick<NewDeviceRow, 'name' | 'platform' | 'ownerId' | 'groupId' | 'serial' | 'tokenHash'>,
  ): NewDeviceRow {
    return {
      ...who,
      addresses: [],
      apps: [],
      osVersion: null,
      compliant: null,
      violations: [],
      enrolledAt: this.deps.clock.now(),
      lastReportAt: null,
    };
  }

  private onQuery(entry: QueryEntry): void {
    this.queryLog?.add(queryRowOf(entry));
    const spyware = spywareReason(entry);
    if (spyware)
      this.spywareAlert({
        client: entry.client,
        name: entry.name,
        type: entry.type,
        protocol: entry.protocol,
        group: entry.verdict.group,
        rule: spyware.rule,
        list: spyware.list,
        malware: spyware.malware,
      });
  }

  /** A query for a spyware domain: a high alert naming the client (once per client and name in a while). */
  private spywareAlert(query: {
    client: string;
    name: string;
    type: string;
    protocol: string;
    group: string | undefined;
    rule: string | undefined;
    list: string | undefined;
    malware: string | undefined;
    replica?: string;
  }): void {
    const key = `${query.client} ${query.name}`;
    const now = this.deps.clock.now().getTime();
    const last = this.spywareAlerted.get(key);
    if (last !== undefined && now - last < SPYWARE_ALERT_WINDOW_MS) return;
    if (this.spywareAlerted.size > 10_000) this.spywareAlerted.clear();
    this.spywareAlerted.set(key, now);
    const device = this.policy?.groupOf(query.client).why;
    void this.deps.alerts
      .raise({
        severity: 'high',
        source: 'netguard',
        title: `Spyware domain queried by ${query.client}: ${query.name}`,
        details: {
          client: query.client,
          name: query.name,
          type: query.type,
          protocol: query.protocol,
          rule: query.rule,
          list: query.list,
          malware: query.malware,
          group: query.group,
          ...(query.replica ? { resolver: query.replica } : {}),
          ...(device?.startsWith('enrolled device')
            ? { device: device.slice('enrolled device '.length) }
            : {}),
        },
      })
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'spyware alert failed'));
  }

  // ---------------------------------------------------------------- replicas

  /** Checks a replica's `Authorization` header against the configured secret. */
  checkReplica(authorization: string | undefined): void {
    const expected = this.deps.config.replicaToken;
    if (!expected)
      throw new RempartError(
        'replicas_off',
        'This platform serves no DNS resolver replica: set REMPART_DNS_REPLICA_TOKEN to allow them.',
      );
    if (!bearerMatches(authorization, expected))
      throw new RempartError(
        'replica_token_invalid',
        'Send the replica secret (REMPART_DNS_REPLICA_TOKEN) as Authorization: Bearer <secret>.',
      );
  }

  /** What a replica needs to decide as this resolver does. */
  async replicaPolicy(): Promise<ReplicaPolicy> {
    await this.reloading;
    if (!this.replicaSnapshot)
      throw new RempartError('service_unavailable', 'The network guard is not started.');
    return this.replicaSnapshot;
  }

  /**
   * The spyware category's domains, as a replica compiles them into its own (fetched when the
   * policy's `spywareRevision` is not the one it holds).
   */
  async replicaSpywareDomains(): Promise<ReplicaSpywareDomains> {
    await this.reloading;
    if (!this.replicaSpyware)
      throw new RempartError(
        'not_found',
        "This platform's spyware category is the shipped bundles': a replica reads them from its own files.",
      );
    return this.replicaSpyware;
  }

  /** The text of one of the lists a replica's policy names, and its version. */
  async replicaList(id: string): Promise<{ version: string; text: string }> {
    const row = await this.deps.repo.getList(id);
    if (!row) throw RempartError.notFound('list');
    const version = listVersion(row);
    return { version, text: row.path ? readListFile(row.path) : (row.content ?? '') };
  }

  /** A replica's query log shipment: into the log, and spyware queries alerted as this resolver's are. */
  ingestReplicaQueries(batch: ReplicaQueryBatch): { accepted: number } {
    let queries = 0;
    for (const row of batch.rows) {
      const { spyware, count, at, ...rest } = row;
      this.queryLog?.add({ ...rest, at: new Date(at) }, count);
      queries += count;
      if (spyware)
        this.spywareAlert({
          client: row.client,
          name: row.name,
          type: row.type,
          protocol: row.protocol,
          group: row.groupId,
          rule: row.rule ?? undefined,
          list: row.list ?? undefined,
          malware: spyware.malware || undefined,
          replica: batch.replica,
        });
    }
    if (this.queryLog) this.queryLog.notLogged += batch.notLogged;
    return { accepted: queries };
  }

  /** Why `domain` is blocked or allowed for `client`: the group, every matching rule, the deciding one. */
  explain(domain: string, client: string): DnsVerdict {
    const name = normaliseName(domain);
    if (!this.policy) throw new RempartError('service_unavailable', 'The network guard is not started.');
    return this.policy.explain(name, client);
  }

  // --------------------------------------------------------------- resolver

  /** DNS over HTTPS (RFC 8484): the HTTP route hands the request over as it came. */
  doh(request: DohRequest, client: string): Promise<DohResponse> {
    if (!this.resolver) throw new RempartError('service_unavailable', 'The network guard is not started.');
    return handleDohRequest(request, this.resolver, client);
  }

  /** The upstream resolvers, as `host:port`. */
  upstreams(): string[] {
    return this.deps.config.upstreams.map((u) =>
      u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`,
    );
  }

  /** The resolver's live counters. */
  resolverStats(): NonNullable<QueryStats['resolver']> | undefined {
    if (!this.resolver) return undefined;
    const s = this.resolver.stats();
    return {
      listening: this.resolver.addresses(),
      queries: s.queries,
      blocked: s.blocked,
      cacheHits: s.cacheHits,
      upstreamFailures: s.upstreamFailures,
      dropped: s.dropped,
      rateLimited: s.rateLimited,
      notLogged: this.queryLog?.notLogged ?? 0,
    };
  }

  /** Writes the buffered query log now (tests and the console's refresh). */
  flushLog(): Promise<void> {
    return this.queryLog?.flush() ?? Promise.resolve();
  }

  /**
   * The distinct names the query log holds within its retention (buffered entries written first):
   * what another module's retro-hunt matches new indicators against.
   */
  async queriedNames(): Promise<string[]> {
    await this.flushLog();
    return this.deps.repo.queriedNames(this.logStart());
  }

  /** Who asked for `names` within the log's retention: per client and name, when and how often. */
  queriesOf(names: readonly string[]): Promise<NameQueries[]> {
    return this.deps.repo.queriesOfNames(names, this.logStart());
  }

  private logStart(): Date {
    return new Date(this.deps.clock.now().getTime() - this.deps.config.logDays * 86_400_000);
  }

  /** Deletes the log entries older than the retention (also done every hour). */
  pruneLog(): Promise<number> {
    return this.queryLog?.prune() ?? Promise.resolve(0);
  }

  async stats(hours: number): Promise<QueryStats> {
    await this.flushLog();
    const to = this.deps.clock.now();
    const from = new Date(to.getTime() - hours * 3_600_000);
    // About 60 points on the plot, on round minutes.
    const bucketSeconds = Math.max(60, Math.ceil((hours * 3600) / 60 / 60) * 60);
    const [totals, series, topBlocked, topClients] = await Promise.all([
      this.deps.repo.queryTotals(from),
      this.deps.repo.querySeries(from, bucketSeconds),
      this.deps.repo.topBlocked(from, 10),
      this.deps.repo.topClients(from, 10),
    ]);
    const resolver = this.resolverStats();
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucketSeconds,
      totals,
      series: fillSeries(series, from, to, bucketSeconds),
      topBlocked,
      topClients,
      ...(resolver ? { resolver } : {}),
    };
  }

  // ------------------------------------------------------------------ groups

  async listGroups(): Promise<Group[]> {
    return (await this.deps.repo.listGroups()).map(groupView);
  }

  async getGroup(id: string): Promise<Group> {
    const row = await this.deps.repo.getGroup(id);
    if (!row) throw RempartError.notFound('group');
    return groupView(row);
  }

  async saveGroup(actor: Actor, id: string, input: GroupInput, ip: string | null): Promise<Group> {
    const parsed = GroupInput.parse(input);
    const bad = parsed.cidrs.filter((c) => parseCidr(c) === undefined);
    if (bad.length > 0)
      throw RempartError.validation(`Not an address range: ${bad.join(', ')}`, { cidrs: bad });
    if (id === DEFAULT_GROUP_ID && parsed.cidrs.length > 0)
      throw RempartError.validation(
        'The default group takes every client no other group claims: it has no ranges.',
      );
    const lists = new Set((await this.deps.repo.listLists()).map((l) => l.id));
    const missing = parsed.lists.filter((l) => !lists.has(l));
    if (missing.length > 0)
      throw RempartError.validation(`Unknown lists: ${missing.join(', ')}`, { lists: missing });
    const before = await this.deps.repo.getGroup(id);
    const row = await this.deps.repo.upsertGroup({
      id,
      ...parsed,
      cidrs: [...new Set(parsed.cidrs)],
      categories: [...new Set(parsed.categories)],
      lists: [...new Set(parsed.lists)],
      updatedAt: this.deps.clock.now(),
    });
    await this.reload();
    await this.deps.audit.record({
      action: before ? 'netguard.group.updated' : 'netguard.group.created',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
      details: {
        categories: row.categories,
        lists: row.lists.length,
        cidrs: row.cidrs,
        blockMode: row.blockMode,
      },
    });
    return groupView(row);
  }

  async deleteGroup(actor: Actor, id: string, ip: string | null): Promise<void> {
    if (id === DEFAULT_GROUP_ID) throw RempartError.conflict('The default group cannot be deleted.');
    if ((await this.deps.repo.listDevices()).some((d) => d.groupId === id))
      throw RempartError.conflict('Devices are enrolled in this group: move them first.');
    if (!(await this.deps.repo.deleteGroup(id))) throw RempartError.notFound('group');
    await this.reload();
    await this.deps.audit.record({
      action: 'netguard.group.deleted',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
    });
  }

  // ------------------------------------------------------------------- lists

  listCategories(): Category[] {
    return this.categories.map((c) => ({
      id: c.id,
      title: c.title,
      description: c.description,
      source: c.source,
      domains: c.list.size,
      apps: { android: [...(c.apps?.android ?? [])], ios: [...(c.apps?.ios ?? [])] },
    }));
  }

  async listLists(): Promise<NetguardList[]> {
    return (await this.deps.repo.listLists()).map((l) => listView(l));
  }

  /** Stores an uploaded list (or one read from a file on the server), after parsing it. */
  async addList(
    actor: Actor,
    input: { name: string; action: ListAction; format: ListFormat; text?: string; path?: string },
    ip: string | null,
  ): Promise<NetguardList> {
    const text = input.path !== undefined ? readListFile(input.path) : (input.text ?? '');
    const parsed = parseList(text, { name: input.name, format: input.format, action: input.action });
    if (parsed.size === 0)
      throw new RempartError('list_empty', 'No rule could be read from this list.', {
        details: { problems: problemsOf(parsed).slice(0, 20) },
      });
    const row = await this.deps.repo.insertList({
      name: input.name,
      action: input.action,
      format: input.format,
      path: input.path ?? null,
      content: input.path !== undefined ? null : text,
      rules: parsed.size,
      problems: problemsOf(parsed),
      problemCount: parsed.problemCount,
      updatedAt: this.deps.clock.now(),
    });
    await this.deps.audit.record({
      action: 'netguard.list.added',
      outcome: 'success',
      actor,
      targetId: row.id,
      ip,
      details: { name: row.name, action: row.action, rules: row.rules, file: row.path },
    });
    return listView(row);
  }

  /** Replaces an uploaded list's text; groups using it switch to the new rules at once. */
  async replaceList(actor: Actor, id: string, text: string, ip: string | null): Promise<NetguardList> {
    const existing = await this.deps.repo.getList(id);
    if (!existing) throw RempartError.notFound('list');
    if (existing.path !== null)
      throw RempartError.conflict('This list is read from a file: change the file.');
    const parsed = parseList(text, { name: existing.name, format: existing.format, action: existing.action });
    if (parsed.size === 0) throw new RempartError('list_empty', 'No rule could be read from this list.');
    const row = await this.deps.repo.updateList(id, {
      content: text,
      rules: parsed.size,
      problems: problemsOf(parsed),
      problemCount: parsed.problemCount,
      updatedAt: this.deps.clock.now(),
    });
    if (!row) throw RempartError.notFound('list');
    await this.reload();
    await this.deps.audit.record({
      action: 'netguard.list.replaced',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
      details: { name: row.name, rules: row.rules },
    });
    return listView(row);
  }

  async deleteList(actor: Actor, id: string, ip: string | null): Promise<void> {
    const groups = await this.deps.repo.listGroups();
    const users = groups.filter((g) => g.lists.includes(id)).map((g) => g.id);
    if (users.length > 0) throw RempartError.conflict(`Groups use this list: ${users.join(', ')}.`);
    if (!(await this.deps.repo.deleteList(id))) throw RempartError.notFound('list');
    await this.deps.audit.record({
      action: 'netguard.list.deleted',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
    });
  }

  // ----------------------------------------------------------------- devices

  private async policyFor(
    groupId: string,
  ): Promise<{ group: GroupRow; blocked: { android: string[]; ios: string[] }; domains: string[] }> {
    const group = await this.deps.repo.getGroup(groupId);
    if (!group) throw RempartError.notFound('group');
    const blocked = { android: new Set<string>(), ios: new Set<string>() };
    const domains: string[] = [];
    for (const id of group.categories) {
      const category = this.categories.find((c) => c.id === id);
      if (!category) continue;
      category.apps?.android.forEach((a) => blocked.android.add(a));
      category.apps?.ios.forEach((a) => blocked.ios.add(a));
      // The spyware list is for the resolver; a device's web filter gets the named platforms.
      if (id !== 'spyware') domains.push(...category.list.domains);
    }
    return { group, blocked: { android: [...blocked.android], ios: [...blocked.ios] }, domains };
  }

  /** The group's device profile: an Apple `.mobileconfig` or an Android Management API policy. */
  async exportPolicy(
    platform: 'ios' | 'android',
    groupId: string,
  ): Promise<{ contentType: string; body: string; filename: string }> {
    if (!this.deps.config.dohUrl.startsWith('https://'))
      throw RempartError.validation(
        'Device profiles send phones to Rempart’s DNS over HTTPS, which needs Rempart on an https:// address: ' +
          'set REMPART_PUBLIC_URL (and REMPART_TLS) first.',
      );
    const { group, blocked, domains } = await this.policyFor(groupId);
    const input = {
      group: { id: group.id, name: group.name },
      organisation: this.deps.config.organisation,
      blockedApps: blocked,
      noPrivateApps: group.noPrivateApps,
      blockedDomains: domains,
      dohUrl: this.deps.config.dohUrl,
    };
    if (platform === 'ios') {
      return {
        contentType: 'application/x-apple-aspen-config',
        body: appleProfile(input),
        filename: `rempart-${group.id}.mobileconfig`,
      };
    }
    return {
      contentType: 'application/json',
      body: `${JSON.stringify(androidPolicy(input), null, 2)}\n`,
      filename: `rempart-${group.id}-android-policy.json`,
    };
  }

  async listDevices(): Promise<Device[]> {
    return Promise.all((await this.deps.repo.listDevices()).map((d) => this.deviceView(d)));
  }

  async enrolDevice(
    actor: Actor,
    input: {
      name: string;
      platform: 'ios' | 'android';
      owner?: string | undefined;
      group: string;
      serial?: string | undefined;
    },
    ip: string | null,
  ): Promise<{ device: Device; token: string }> {
    if (!(await this.deps.repo.getGroup(input.group))) throw RempartError.notFound('group');
    let ownerId: string | null = null;
    if (input.owner !== undefined) {
      const owner = await this.deps.agentByEmail(input.owner);
      if (!owner) throw RempartError.validation(`No agent has the address ${input.owner}.`);
      ownerId = owner.id;
    }
    const token = randomToken();
    const row = await this.deps.repo.insertDevice(
      this.newDevice({
        name: input.name,
        platform: input.platform,
        ownerId,
        groupId: input.group,
        serial: input.serial ?? null,
        tokenHash: sha256Hex(token),
      }),
    );
    await this.deps.audit.record({
      action: 'netguard.device.enrolled',
      outcome: 'success',
      actor,
      targetId: row.id,
      ip,
      details: { name: row.name, platform: row.platform, group: row.groupId },
    });
    return { device: await this.deviceView(row), token };
  }

  /** An enrolled device reports its apps (with its own token): compliance is decided, and alerted when lost. */
  async reportInventory(token: string, report: InventoryReport, ip: string | null): Promise<Device> {
    const device = await this.deps.repo.deviceByToken(sha256Hex(token));
    if (!device)
      throw new RempartError(
        'device_token_invalid',
        'This device is not enrolled, or its enrolment was revoked.',
      );
    return this.applyInventory(device, report, ip, null);
  }

  /** An administrator imports an inventory (an MDM export) for a device. */
  async importInventory(
    actor: Actor,
    deviceId: string,
    report: InventoryReport,
    ip: string | null,
  ): Promise<Device> {
    const device = await this.deps.repo.getDevice(deviceId);
    if (!device) throw RempartError.notFound('device');
    return this.applyInventory(device, report, ip, actor);
  }

  private async applyInventory(
    device: DeviceRow,
    report: InventoryReport,
    ip: string | null,
    actor: Actor | null,
  ): Promise<Device> {
    const { group, blocked } = await this.policyFor(device.groupId);
    const result = evaluateCompliance(
      { platform: device.platform, installedApps: report.apps },
      { blockedApps: blocked, noPrivateApps: false, categoryOf: (app: string) => this.appCategory(app) },
    );
    const addressesChanged = JSON.stringify(report.addresses) !== JSON.stringify(device.addresses);
    const row = await this.deps.repo.updateDevice(device.id, {
      apps: [...new Set(report.apps)],
      addresses: report.addresses,
      osVersion: report.osVersion ?? null,
      compliant: result.compliant,
      violations: result.violations,
      lastReportAt: this.deps.clock.now(),
    });
    if (!row) throw RempartError.notFound('device');
    if (addressesChanged) await this.reload();
    await this.deps.audit.record({
      action: 'netguard.device.reported',
      outcome: result.compliant ? 'success' : 'failure',
      actor,
      targetId: device.id,
      ip,
      details: {
        apps: report.apps.length,
        compliant: result.compliant,
        violations: result.violations.map((v) => v.app),
      },
    });
    if (!result.compliant && device.compliant !== false) {
      const owner = device.ownerId ? await this.deps.agentEmail(device.ownerId) : undefined;
      await this.deps.alerts.raise({
        severity: 'medium',
        source: 'netguard',
        title: `Device ${device.name} is not compliant: ${result.violations.map((v) => v.app).join(', ')}`,
        details: {
          device: device.id,
          name: device.name,
          owner,
          group: group.id,
          violations: result.violations,
        },
      });
    }
    return this.deviceView(row);
  }

  /**
   * Reads an MDM's CSV inventory export (one line per device and app): each device, found by its
   * serial number or enrolled in the default group when new, gets the export's apps and its
   * compliance decided. Bad lines are reported and left out.
   */
  async importMdmCsv(actor: Actor, text: string, ip: string | null): Promise<MdmImportResult> {
    const parsed = parseMdmCsv(text, { reportedAt: this.deps.clock.now() });
    if (parsed.devices.length === 0)
      throw RempartError.validation('No device could be read from this export.', {
        errors: parsed.errors.slice(0, 20),
      });
    const existing = await this.deps.repo.listDevices();
    const result: MdmImportResult = {
      updated: 0,
      enrolled: 0,
      notCompliant: [],
      errors: parsed.errors,
      errorsOmitted: parsed.errorsOmitted,
    };
    for (const inventory of parsed.devices) {
      const serial = inventory.serial ?? inventory.deviceId;
      let device = existing.find((d) => d.serial === serial && d.platform === inventory.platform);
      if (device) result.updated++;
      else {
        const owner = inventory.ownerEmail ? await this.deps.agentByEmail(inventory.ownerEmail) : undefined;
        device = await this.deps.repo.insertDevice(
          this.newDevice({
            name: inventory.deviceName ?? serial,
            platform: inventory.platform,
            ownerId: owner?.id ?? null,
            groupId: DEFAULT_GROUP_ID,
            serial,
            // Managed by the MDM: the device itself never reports, so its token is thrown away.
            tokenHash: sha256Hex(randomToken()),
          }),
        );
        result.enrolled++;
      }
      const view = await this.applyInventory(
        device,
        {
          apps: inventory.installedApps.map((a) => a.id),
          addresses: device.addresses,
          ...(inventory.osVersion ? { osVersion: inventory.osVersion } : {}),
        },
        ip,
        actor,
      );
      if (view.compliant === false)
        result.notCompliant.push({ device: view.name, apps: view.violations.map((v) => v.app) });
    }
    await this.deps.audit.record({
      action: 'netguard.devices.imported',
      outcome: 'success',
      actor,
      targetId: null,
      ip,
      details: {
        updated: result.updated,
        enrolled: result.enrolled,
        notCompliant: result.notCompliant.length,
        errors: parsed.errors.length + parsed.errorsOmitted,
      },
    });
    return result;
  }

  private appCategory(app: string): string | undefined {
    return this.categories.find((c) => c.apps?.android.includes(app) || c.apps?.ios.includes(app))?.id;
  }

  async deleteDevice(actor: Actor, id: string, ip: string | null): Promise<void> {
    if (!(await this.deps.repo.deleteDevice(id))) throw RempartError.notFound('device');
    await this.reload();
    await this.deps.audit.record({
      action: 'netguard.device.removed',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
    });
  }

  private async deviceView(row: DeviceRow): Promise<Device> {
    return {
      id: row.id,
      name: row.name,
      platform: row.platform,
      owner: row.ownerId ? ((await this.deps.agentEmail(row.ownerId)) ?? null) : null,
      group: row.groupId,
      serial: row.serial,
      addresses: row.addresses,
      enrolledAt: row.enrolledAt.toISOString(),
      lastReportAt: row.lastReportAt?.toISOString() ?? null,
      osVersion: row.osVersion,
      apps: row.apps.length,
      compliant: row.compliant,
      violations: row.violations,
    };
  }
}

// ----------------------------------------------------------------------- helpers

/** The first problems of a list, as stored and shown (line and reason). */
function problemsOf(parsed: ParsedList): { line: number; reason: string }[] {
  return parsed.problems.slice(0, 100).map((p) => ({ line: p.line, reason: p.reason }));
}

function readListFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw RempartError.validation(
      `The list file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/**
 * What changes with a list's text: its file's stamp, or its revision, counted up at every change
 * (two uploads within the same millisecond differ all the same, and nothing is hashed).
 */
function listVersion(row: ListRow): string {
  return row.path ? fileStamp(row.path) : `r${row.revision}`;
}

function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}-${s.size}`;
  } catch {
    return 'missing';
  }
}

/** Lower case, no trailing dot: how names are stored and matched. */
function normaliseName(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** A replica's policy, its version a digest of the rest. */
function replicaPolicyOf(policy: Omit<ReplicaPolicy, 'version'>): ReplicaPolicy {
  const version = createHash('sha256').update(JSON.stringify(policy)).digest('base64url').slice(0, 22);
  return { version, ...policy };
}

function fillSeries(
  rows: { bucket: number; queries: number; blocked: number }[],
  from: Date,
  to: Date,
  bucketSeconds: number,
): QueryStats['series'] {
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  const first = Math.floor(from.getTime() / 1000 / bucketSeconds);
  const last = Math.floor(to.getTime() / 1000 / bucketSeconds);
  const series: QueryStats['series'] = [];
  for (let b = first; b <= last; b++) {
    const row = byBucket.get(b);
    series.push({
      at: new Date(b * bucketSeconds * 1000).toISOString(),
      queries: row?.queries ?? 0,
      blocked: row?.blocked ?? 0,
    });
  }
  return series;
}

function groupView(row: GroupRow): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    cidrs: row.cidrs,
    categories: row.categories as CategoryId[],
    lists: row.lists,
    blockMode: row.blockMode,
    trusted: row.trusted,
    noPrivateApps: row.noPrivateApps,
    updatedAt: row.updatedAt.toISOString(),
  };
}

function listView(row: Omit<ListRow, 'content'>): NetguardList {
  return {
    id: row.id,
    name: row.name,
    action: row.action,
    format: row.format,
    source: row.path !== null ? { kind: 'file', path: row.path } : { kind: 'upload' },
    rules: row.rules,
    problems: row.problems,
    problemCount: row.problemCount,
    updatedAt: row.updatedAt.toISOString(),
  };
}
