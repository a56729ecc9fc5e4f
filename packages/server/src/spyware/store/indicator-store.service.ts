/**
 * The indicator store: the STIX 2 bundles the spyware check matches against. The shipped bundles
 * (read once, never removable) and the bundles imported since, from the console, the CLI or the
 * watched folder (stored whole in the database and read again at start). It compiles one matcher
 * over every set after each change, feeds the network guard's spyware category, and starts a
 * retro-hunt over the DNS query log and the stored scans after each import.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  IndicatorSetName,
  RempartError,
  type IndicatorImport,
  type IndicatorOrigin,
  type IndicatorSet,
  type RetroHunt,
} from '@rempart/core';
import type { AlertSink } from '../../alerts/alert.service.js';
import type { AuditLog } from '../../audit/audit.service.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { normaliseDomain } from '../../netguard/lists.js';
import type { SpywareDomain, SpywareDomainSource } from '../../netguard/categories.js';
import { IndicatorMatcher } from '../matcher.js';
import { loadIndicatorFolder, parseStixText, type IndicatorBundle } from '../stix.js';
import type { IndicatorSetRow, IndicatorStoreRepository } from './indicator-store.repository.js';
import { huntDns, type DnsHit, type DnsQueryLog, type ScanRetroHunter } from './retro-hunt.js';

export interface StoreActor {
  id: string;
  email: string;
}

/** Where an import comes from: everything but the install itself. */
export type ImportOrigin = Exclude<IndicatorOrigin, 'shipped'>;

export interface IndicatorStoreDeps {
  repo: IndicatorStoreRepository;
  audit: AuditLog;
  alerts: AlertSink;
  clock: Clock;
  log: Logger;
  /** The network guard's query log; without it, retro-hunts find no DNS hit. */
  dnsLog?: DnsQueryLog;
  /** The stored scans; can also be given later with `useScanRetroHunter`. */
  scans?: ScanRetroHunter;
  /** The shipped bundles (those of `assets/spyware/iocs/` by default). */
  shipped?: () => IndicatorBundle[];
}

/** Retro-hunts kept in memory, most recent first. */
const HUNTS_KEPT = 20;
/** Skipped indicators listed in an import's answer; the rest are counted. */
const SKIPPED_LISTED = 100;
/** Alerts one retro-hunt raises, one per DNS hit; past that, one alert counts the rest. */
const HUNT_ALERTS_MAX = 200;

interface StoredSet {
  set: IndicatorSet;
  bundle: IndicatorBundle;
  sha256: string;
}

/**
 * A bundle's bytes read and checked: UTF-8 text, a STIX 2.1 bundle, at least one indicator
 * Rempart can look for. Throws `validation_failed` naming the file (and the object at fault).
 *
 * @example
 *   readBundleBytes('predator-2025.stix2', readFileSync(file)).indicators.length // 312
 */
export function readBundleBytes(name: string, bytes: Uint8Array): IndicatorBundle {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw RempartError.validation(`${name}: not UTF-8 text, so not a STIX bundle`, { source: name });
  }
  // A byte-order mark is allowed before JSON text (RFC 8259 §8.1 lets parsers ignore it).
  const bundle = parseStixText(text.replace(/^\uFEFF/, ''), name);
  if (bundle.indicators.length === 0)
    throw RempartError.validation(
      `${name}: no indicator Rempart can look for in this bundle` +
        (bundle.skipped.length > 0
          ? ` (${bundle.skipped.length} skipped: ${bundle.skipped[0]!.reason}…)`
          : ''),
      { source: name, skipped: bundle.skipped.length },
    );
  return bundle;
}

/** What a set's listing says of its bundle. */
export function summarise(
  bundle: IndicatorBundle,
): Pick<IndicatorSet, 'indicators' | 'byType' | 'malware' | 'skipped'> {
  const byType: Record<string, number> = {};
  for (const indicator of bundle.indicators) byType[indicator.type] = (byType[indicator.type] ?? 0) + 1;
  return {
    indicators: bundle.indicators.length,
    byType,
    malware: bundle.malware,
    skipped: bundle.skipped.length,
  };
}

/**
 * The domains of `bundles` for the resolver: domain indicators, and the hosts of URL indicators
 * (a phone fetching the URL asks for its host first). The first bundle naming a domain wins.
 */
export function domainsOf(bundles: readonly IndicatorBundle[]): SpywareDomain[] {
  const seen = new Set<string>();
  const domains: SpywareDomain[] = [];
  for (const bundle of bundles)
    for (const indicator of bundle.indicators) {
      let domain: string | undefined;
      if (indicator.type === 'domain') domain = indicator.value;
      else if (indicator.type === 'url') {
        const host = hostOf(indicator.value);
        const check = host === undefined ? undefined : normaliseDomain(host);
        domain = check?.ok ? check.domain : undefined;
      }
      if (domain === undefined || seen.has(domain)) continue;
      seen.add(domain);
      domains.push({
        domain,
        source: indicator.source,
        indicator: indicator.indicatorId,
        malware: indicator.malware,
      });
    }
  return domains;
}

export class IndicatorStore implements SpywareDomainSource {
  private shipped: StoredSet[] = [];
  private readonly imported = new Map<string, StoredSet>();
  private compiled: IndicatorMatcher | undefined;
  private domains: SpywareDomain[] | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly hunts: RetroHunt[] = [];
  private readonly running = new Map<string, Promise<RetroHunt>>();
  private scans: ScanRetroHunter | undefined;
  /** Imports and removals, one at a time: two concurrent imports of one name never both store. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: IndicatorStoreDeps) {
    this.scans = deps.scans;
  }

  /** Reads the shipped bundles and the stored sets. */
  async start(): Promise<void> {
    const began = performance.now();
    this.shipped = (this.deps.shipped ?? (() => loadIndicatorFolder()))().map((bundle) => ({
      set: {
        id: `shipped:${bundle.source}`,
        name: bundle.source,
        origin: 'shipped',
        importedAt: null,
        importedBy: null,
        ...summarise(bundle),
      },
      bundle,
      sha256: '',
    }));
    for (const row of await this.deps.repo.list()) {
      try {
        this.imported.set(row.name, stored(row, parseStixText(row.content, row.name)));
      } catch (error) {
        // Stored sets were checked at import; one that no longer reads (a reader made stricter
        // since) is left out rather than keeping the platform from starting.
        this.deps.log.error({ err: error, set: row.name }, 'a stored indicator set cannot be read: left out');
      }
    }
    this.changed();
    this.deps.log.info(
      {
        shipped: this.shipped.length,
        imported: this.imported.size,
        indicators: this.matcher().count,
        ms: Math.round(performance.now() - began),
      },
      'indicator store loaded',
    );
  }

  /** Waits for the running retro-hunts; nothing is imported after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    await Promise.allSettled([...this.running.values()]);
  }

  /** The stored scans' retro-hunter, once the fleet of scanned devices is up; returns the one before. */
  useScanRetroHunter(hunter: ScanRetroHunter | undefined): ScanRetroHunter | undefined {
    const previous = this.scans;
    this.scans = hunter;
    return previous;
  }

  /** Every set: the shipped ones, then the imported ones, each in name order. */
  list(): IndicatorSet[] {
    return [...this.shipped, ...[...this.imported.values()].sort(byName)].map((s) => s.set);
  }

  /** The indicators of every set, compiled once per change. */
  matcher(): IndicatorMatcher {
    return (this.compiled ??= IndicatorMatcher.from(this.bundles()));
  }

  /** The bundles of every set, in the order of `list()`. */
  bundles(): IndicatorBundle[] {
    return [...this.shipped, ...[...this.imported.values()].sort(byName)].map((s) => s.bundle);
  }

  /** The domains the network guard's spyware category blocks. */
  spywareDomains(): SpywareDomain[] {
    return (this.domains ??= domainsOf(this.bundles()));
  }

  /** Called after each import or removal; returns the function that stops listening. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Imports a bundle under `name`: refused (and nothing stored) when it is malformed or holds no
   * indicator Rempart can look for; replaces the set of that name, unless it is the same bundle.
   * A retro-hunt with the new set starts at once.
   */
  async import(
    name: string,
    bytes: Uint8Array,
    origin: ImportOrigin,
    actor: StoreActor | null,
    ip: string | null = null,
  ): Promise<IndicatorImport> {
    const checked = IndicatorSetName.safeParse(name);
    if (!checked.success)
      throw RempartError.validation(
        `${JSON.stringify(name)}: not a name for an indicator set (${checked.error.issues[0]?.message ?? 'invalid'})`,
      );
    const setName = checked.data;
    if (this.shipped.some((s) => s.set.name === setName))
      throw RempartError.conflict(
        `${setName} is the name of a bundle shipped with Rempart: import this one under another name (e.g. ${setName.replace(/(\.\w+)?$/, '-update$1')}).`,
      );
    const bundle = readBundleBytes(setName, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const text = new TextDecoder().decode(bytes);
    return this.serially(async () => {
      if (this.closed) throw new RempartError('service_unavailable', 'The indicator store is closing.');
      const skipped = bundle.skipped.slice(0, SKIPPED_LISTED).map((s) => ({
        indicator: s.indicator,
        ...(s.value === undefined ? {} : { value: s.value }),
        reason: s.reason,
      }));
      const skippedOmitted = Math.max(0, bundle.skipped.length - SKIPPED_LISTED);
      const existing = this.imported.get(setName);
      if (existing?.sha256 === sha256) {
        // The same bundle again: nothing changes, and its last retro-hunt stands.
        const last = this.hunts.find((h) => h.setId === existing.set.id);
        return {
          set: existing.set,
          skipped,
          skippedOmitted,
          retroHunt: last ? copy(last) : this.idleHunt(existing.set),
        };
      }
      const row = await this.deps.repo.save({
        name: setName,
        origin,
        sha256,
        content: text,
        ...summarise(bundle),
        importedAt: this.deps.clock.now(),
        importedBy: actor?.email ?? null,
      });
      const entry = stored(row, bundle);
      this.imported.set(setName, entry);
      this.changed();
      await this.deps.audit.record({
        action: 'spyware.indicators.imported',
        outcome: 'success',
        actor,
        targetId: row.id,
        ip,
        details: {
          name: setName,
          origin,
          sha256,
          indicators: entry.set.indicators,
          malware: entry.set.malware,
          skipped: entry.set.skipped,
          replaced: existing !== undefined,
        },
      });
      this.deps.log.info(
        { set: setName, origin, indicators: entry.set.indicators, malware: entry.set.malware },
        existing ? 'indicator set replaced' : 'indicator set imported',
      );
      return { set: entry.set, skipped, skippedOmitted, retroHunt: this.startHunt(entry) };
    });
  }

  /** Removes an imported set; the shipped ones stay. */
  async remove(id: string, actor: StoreActor | null, ip: string | null = null): Promise<void> {
    if (id.startsWith('shipped:') && this.shipped.some((s) => s.set.id === id))
      throw RempartError.badRequest('A bundle shipped with Rempart cannot be removed.');
    const entry = [...this.imported.values()].find((s) => s.set.id === id);
    if (!entry) throw RempartError.notFound('indicator set');
    await this.serially(async () => {
      const row = await this.deps.repo.delete(id);
      // Removed meanwhile by a concurrent call: the first one answered, this one finds nothing.
      if (!row) throw RempartError.notFound('indicator set');
      this.imported.delete(row.name);
      this.changed();
      await this.deps.audit.record({
        action: 'spyware.indicators.removed',
        outcome: 'success',
        actor,
        targetId: id,
        ip,
        details: { name: row.name, origin: row.origin, indicators: row.indicators },
      });
    });
  }

  /** The retro-hunts kept, most recent first. */
  retroHunts(): RetroHunt[] {
    return this.hunts.map(copy);
  }

  retroHunt(id: string): RetroHunt {
    const hunt = this.hunts.find((h) => h.id === id);
    if (!hunt) throw RempartError.notFound('retro-hunt');
    return copy(hunt);
  }

  /** The retro-hunt once finished (at once when it is). */
  async retroHuntDone(id: string): Promise<RetroHunt> {
    const running = this.running.get(id);
    if (running) return copy(await running);
    return this.retroHunt(id);
  }

  // -------------------------------------------------------------- internals

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private changed(): void {
    this.compiled = undefined;
    this.domains = undefined;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.deps.log.error({ err: error }, 'an indicator store listener failed');
      }
    }
  }

  private idleHunt(set: IndicatorSet): RetroHunt {
    const now = this.deps.clock.now().toISOString();
    return {
      id: randomUUID(),
      setId: set.id,
      setName: set.name,
      status: 'done',
      startedAt: now,
      finishedAt: now,
      progress: { done: 0, total: 0 },
      dnsHits: [],
      scanHits: [],
      error: null,
    };
  }

  private startHunt(entry: StoredSet): RetroHunt {
    const hunt: RetroHunt = {
      ...this.idleHunt(entry.set),
      status: 'running',
      finishedAt: null,
    };
    this.hunts.unshift(hunt);
    this.hunts.splice(HUNTS_KEPT);
    const run = this.runHunt(hunt, entry.bundle).finally(() => this.running.delete(hunt.id));
    this.running.set(hunt.id, run);
    return copy(hunt);
  }

  /** Runs in the background: it never throws, a failure is the hunt's status. */
  private async runHunt(hunt: RetroHunt, bundle: IndicatorBundle): Promise<RetroHunt> {
    const matcher = IndicatorMatcher.from([bundle]);
    let dnsTotal = 0;
    try {
      const dnsLog = this.deps.dnsLog;
      if (dnsLog) {
        hunt.dnsHits = await huntDns(matcher, dnsLog, (done, total) => {
          dnsTotal = total;
          hunt.progress = { done, total };
        });
        await this.alertDnsHits(hunt, hunt.dnsHits);
      }
      const scans = this.scans;
      if (scans) {
        hunt.scanHits = await scans.retroHunt(matcher, (done, total) => {
          hunt.progress = { done: dnsTotal + done, total: dnsTotal + total };
        });
      }
      hunt.status = 'done';
    } catch (error) {
      this.deps.log.error({ err: error, set: hunt.setName }, 'retro-hunt failed');
      hunt.status = 'failed';
      hunt.error = error instanceof Error ? error.message : String(error);
    }
    hunt.finishedAt = this.deps.clock.now().toISOString();
    await this.deps.audit
      .record({
        action: 'spyware.retrohunt.finished',
        outcome: hunt.status === 'done' ? 'success' : 'failure',
        targetId: hunt.setId,
        details: {
          hunt: hunt.id,
          set: hunt.setName,
          dnsHits: hunt.dnsHits.length,
          clients: [...new Set(hunt.dnsHits.map((h) => h.client))],
          scanHits: hunt.scanHits.length,
          ...(hunt.error ? { error: hunt.error } : {}),
        },
      })
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'retro-hunt audit failed'));
    this.deps.log.info(
      {
        set: hunt.setName,
        status: hunt.status,
        dnsHits: hunt.dnsHits.length,
        scanHits: hunt.scanHits.length,
      },
      'retro-hunt finished',
    );
    return hunt;
  }

  private async alertDnsHits(hunt: RetroHunt, hits: readonly DnsHit[]): Promise<void> {
    for (const hit of hits.slice(0, HUNT_ALERTS_MAX)) {
      const malware = hit.malware.join(', ') || 'unnamed spyware';
      await this.deps.alerts.raise({
        severity: 'critical',
        source: 'spyware',
        title: `Retro-hunt: ${hit.client} asked for ${hit.domain} (${malware})`,
        details: { ...hit, set: hunt.setName, retroHunt: hunt.id },
      });
    }
    if (hits.length > HUNT_ALERTS_MAX)
      await this.deps.alerts.raise({
        severity: 'critical',
        source: 'spyware',
        title: `Retro-hunt with ${hunt.setName}: ${hits.length - HUNT_ALERTS_MAX} more DNS hits`,
        details: { set: hunt.setName, retroHunt: hunt.id, hits: hits.length },
      });
  }
}

function stored(row: IndicatorSetRow, bundle: IndicatorBundle): StoredSet {
  return {
    set: {
      id: row.id,
      name: row.name,
      origin: row.origin,
      importedAt: row.importedAt.toISOString(),
      importedBy: row.importedBy,
      ...summarise(bundle),
    },
    bundle,
    sha256: row.sha256,
  };
}

function byName(a: StoredSet, b: StoredSet): number {
  return a.set.name < b.set.name ? -1 : a.set.name > b.set.name ? 1 : 0;
}

/** A snapshot: callers never hold the running hunt that is still being filled. */
function copy(hunt: RetroHunt): RetroHunt {
  return {
    ...hunt,
    progress: { ...hunt.progress },
    dnsHits: [...hunt.dnsHits],
    scanHits: [...hunt.scanHits],
  };
}

function hostOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return host === '' ? undefined : host.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}
