/**
 * The live server watch (`rempart watch serve`, and `rempart serve` when a receiver is configured):
 * lines come in from syslog, followed files and the HTTP endpoint into one bounded queue; each is
 * parsed into an event, run through the rules, and stored for searching; each hit is stored,
 * de-duplicated and throttled into the alert stream, and answered (a source address blocked, a
 * webhook posted). Correlations whose window closes with no new event are judged by a clock tick.
 *
 * @example
 *   const watch = new WatchService({ store, alerts, audit, clock, log, config: config.watch });
 *   await watch.start();
 *   watch.ingestJsonLines('{"message":"…"}\n', '192.0.2.10');
 *   await watch.close();
 */
import { randomUUID } from 'node:crypto';
import {
  RempartError,
  type RuleCount,
  type Severity,
  type WatchBlockView,
  type WatchConfig,
  type WatchEventPage,
  type WatchHitPage,
  type WatchHitsQuery,
  type WatchHuntRequest,
  type WatchHuntResult,
  type WatchSearchQuery,
  type WatchStatusView,
} from '@rempart/core';
import type { AlertSink } from '../alerts/alert.service.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import { bearerMatches } from '../identity/secrets.js';
import type { Logger } from '../logger.js';
import { Detector, type WatchHit } from './detector.js';
import type { WatchEvent } from './event.js';
import { createJsonLinesHandler, type JsonLinesResult } from './ingest/http.js';
import { LineQueue, type IngestItem } from './ingest/queue.js';
import { startSyslog, type SyslogReceiver } from './ingest/syslog.js';
import { tailFile, type FileTail } from './ingest/tail.js';
import type { LogFormat } from './parsers/index.js';
import { detectFormat, parseLine, type ParseContext } from './parsers/index.js';
import { AddressBlocker } from './respond/blocker.js';
import { parseRespondersConfig, type RespondersSettings } from './respond/config.js';
import { HitThrottle } from './respond/throttle.js';
import { WebhookSender } from './respond/webhook.js';
import { loadRuleFiles, loadRuleText, shippedRulesDir, sigmaHqRulesDir, type RuleFiles } from './rules.js';
import {
  hitPage,
  ruleCountView,
  searchPage,
  timeWindow,
  WatchRetention,
  type WatchRepository,
} from './store/index.js';

/** Lines taken from the queue at once: parsed, matched and stored together. */
const BATCH = 500;
/** How often correlations are judged on the clock alone (a window closing with no new event). */
const TICK_MS = 1000;
/** How often retention runs. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Sources whose parsing state (format, W3C columns) is remembered, least recently used forgotten. */
const MAX_SOURCES = 1000;
/** Events of a hit kept in its alert's details. */
const EVENTS_PER_ALERT = 10;
/** Open alerts whose stored hit is remembered, to merge duplicates into it. */
const MAX_OPEN_HITS = 10_000;
/** Events read at once by a retro-hunt. */
const HUNT_BATCH = 2000;
const DAY_MS = 86_400_000;

export interface WatchServiceDeps {
  repo: WatchRepository;
  alerts: AlertSink;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: WatchConfig;
  /** TLS files for syslog over TLS (the server's own certificate). */
  tls?: { key: string; cert: string };
}

type Actor = { id: string; email: string } | null;

export class WatchService {
  private readonly queue = new LineQueue({ capacity: 20_000 });
  private rules: RuleFiles | undefined;
  private detector: Detector | undefined;
  private syslog: SyslogReceiver | undefined;
  private readonly tails: { path: string; format: string; tail: FileTail }[] = [];
  private readonly contexts = new Map<string, { format: LogFormat | 'auto'; context: ParseContext }>();
  private readonly ingestHandler = createJsonLinesHandler(this.queue);
  private readonly throttle = new HitThrottle();
  private readonly blocker: AddressBlocker;
  private readonly webhook: WebhookSender | undefined;
  private readonly retention: WatchRetention;
  private pump: Promise<void> | undefined;
  private tick: NodeJS.Timeout | undefined;
  private purge: NodeJS.Timeout | undefined;
  private readonly counts = { received: 0, unparsed: 0, stored: 0, failedBatches: 0 };
  /** Ids of stored events, for the hits that name them (correlations name earlier batches' events). */
  private readonly eventIds = new WeakMap<WatchEvent, string>();
  /** The stored hit of each open alert's key, to merge its duplicates into. */
  private readonly openHits = new Map<string, string>();
  /** Hits are answered one after the other: a merge must find the hit its raise stored. */
  private answering: Promise<void> = Promise.resolve();

  constructor(private readonly deps: WatchServiceDeps) {
    const settings = respondersOf(deps.config);
    this.blocker = new AddressBlocker(settings.block, { log: deps.log.child({ responder: 'block' }) });
    this.webhook =
      settings.webhook === undefined
        ? undefined
        : new WebhookSender(settings.webhook, { log: deps.log.child({ responder: 'webhook' }) });
    this.retention = new WatchRetention(deps.repo, deps.clock, {
      eventDays: deps.config.eventDays,
      hitDays: deps.config.hitDays,
    });
  }

  /**
   * Opens the receivers the configuration names, and the responders, unless `receivers` is false
   * (a one-off command on the same data); the rules are read then, or at the first retro-hunt.
   */
  async start(options: { receivers?: boolean } = {}): Promise<void> {
    const { config, log } = this.deps;
    // Reading the rules takes a moment (hundreds of YAML files): a watch with nothing to receive
    // reads them when first asked (a retro-hunt), not at every start of the platform.
    const receives =
      options.receivers !== false &&
      (config.syslog !== undefined ||
        config.syslogTls !== undefined ||
        config.files.length > 0 ||
        config.ingestToken !== undefined);
    if (receives) this.loadedRules();
    this.pump = this.run();
    this.tick = setInterval(() => this.judgeClock(), TICK_MS);
    this.tick.unref();
    this.purge = setInterval(() => void this.retain(), PURGE_INTERVAL_MS);
    this.purge.unref();
    if (!receives) return;
    try {
      const setup = await this.blocker.start();
      if (!setup.ok) log.warn({ command: setup.command, error: setup.error }, 'watch blocking not set up');
      if (config.syslog !== undefined || config.syslogTls !== undefined) {
        this.syslog = await startSyslog(
          {
            host: config.syslog?.host ?? config.syslogTls!.host,
            port: config.syslog?.port ?? 0,
            udp: config.syslog !== undefined,
            tcp: config.syslog !== undefined,
            ...(config.syslogTls !== undefined && this.deps.tls !== undefined
              ? { tls: { ...this.deps.tls, port: config.syslogTls.port } }
              : {}),
            log: log.child({ receiver: 'syslog' }),
          },
          this.queue,
        );
      }
      for (const file of config.files) {
        const tail = await tailFile(file.path, { log: log.child({ receiver: file.path }) }, this.queue);
        this.tails.push({ path: file.path, format: file.format, tail });
        this.contexts.set(file.path, { format: file.format, context: { source: file.path } });
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    log.info(
      {
        detectionRules: this.detector?.detectionRules,
        correlationRules: this.rules?.correlations.length,
        syslog:
          this.syslog === undefined ? undefined : { port: this.syslog.port, tlsPort: this.syslog.tlsPort },
        files: config.files.map((f) => f.path),
        block: this.blocker.settings.mode,
      },
      'server watch started',
    );
  }

  /** Checks a log shipper's `Authorization: Bearer <REMPART_WATCH_INGEST_TOKEN>`. */
  checkIngestToken(authorization: string | undefined): void {
    const expected = this.deps.config.ingestToken;
    if (expected === undefined)
      throw new RempartError(
        'watch_ingest_off',
        'This platform takes no log lines over HTTP: set REMPART_WATCH_INGEST_TOKEN to allow shippers.',
      );
    if (!bearerMatches(authorization, expected))
      throw new RempartError(
        'watch_token_invalid',
        'Send the ingest token (REMPART_WATCH_INGEST_TOKEN) as Authorization: Bearer <token>.',
      );
  }

  /** Queues the JSON lines of an HTTP body (see ingest/http.ts). */
  ingestJsonLines(body: string | Buffer, peer: string | undefined): JsonLinesResult {
    if (this.queue.closed) throw new RempartError('service_unavailable', 'The server watch is not running.');
    return this.ingestHandler(body, peer);
  }

  status(): WatchStatusView {
    const queue = this.queue.stats();
    const throttle = this.throttle.stats();
    const syslog = this.syslog?.stats();
    return {
      running: this.pump !== undefined && !this.queue.closed,
      rules: {
        detection: this.detector?.detectionRules ?? 0,
        correlation: this.rules?.correlations.length ?? 0,
        skipped: (this.rules?.skipped ?? []).map((s) => ({
          file: s.file,
          title: s.title,
          unsupported: s.unsupported,
        })),
      },
      queue: {
        capacity: queue.capacity,
        depth: queue.depth,
        highWater: queue.highWater,
        accepted: queue.accepted,
        refused: queue.refused,
        dropped: queue.dropped,
      },
      syslog:
        this.syslog === undefined || syslog === undefined
          ? null
          : {
              port: this.syslog.port,
              ...(this.syslog.tlsPort === undefined ? {} : { tlsPort: this.syslog.tlsPort }),
              messages: syslog.messages,
              truncated: syslog.truncated,
              connections: syslog.connections,
            },
      files: this.tails.map((t) => {
        const stats = t.tail.stats();
        return {
          path: t.path,
          format: t.format,
          lines: stats.lines,
          rotations: stats.rotations,
          waiting: stats.waiting,
        };
      }),
      httpIngest: this.deps.config.ingestToken !== undefined,
      events: { ...this.counts },
      hits: {
        total: throttle.offered,
        alerts: throttle.raised,
        merged: throttle.merged,
        suppressed: throttle.suppressed,
      },
      responses: {
        block:
          this.blocker.settings.mode === 'apply' ? this.blocker.settings.backend : this.blocker.settings.mode,
        webhook: this.webhook !== undefined,
      },
    };
  }

  /** Stored events matching `query`, newest first. Throws `validation_failed` for a bad query. */
  search(query: WatchSearchQuery): Promise<WatchEventPage> {
    return searchPage(this.deps.repo, query);
  }

  hits(query: WatchHitsQuery): Promise<WatchHitPage> {
    return hitPage(this.deps.repo, query);
  }

  /** Each rule's hits over the window (the last 24 hours when none is given). */
  async ruleCounts(query: { from?: string | undefined; to?: string | undefined }): Promise<RuleCount[]> {
    const range = timeWindow(query);
    const counts = await this.deps.repo.ruleCounts({
      from: range.from ?? new Date(this.deps.clock.now().getTime() - DAY_MS),
      ...(range.to === undefined ? {} : { to: range.to }),
    });
    return counts.map(ruleCountView);
  }

  /**
   * Runs rules (the given Sigma text, or the watch's own) over the stored events of a window,
   * oldest first, and stores their hits under a new hunt id; raises no alert (an analyst asked).
   * Throws `validation_failed` naming the line of a broken rule.
   */
  async hunt(actor: Actor, request: WatchHuntRequest, ip: string | null): Promise<WatchHuntResult> {
    const started = performance.now();
    const rules = request.rules === undefined ? this.loadedRules() : huntRules(request.rules);
    if (rules.detections.length === 0)
      throw RempartError.validation(
        `No rule to run: the text holds no detection rule the engine supports${rules.skipped
          .map((r) => `; ${r.title} uses ${r.unsupported.join(', ')}`)
          .join('')}.`,
        { skipped: rules.skipped },
      );
    const detector = new Detector(rules);
    const id = randomUUID();
    const range = timeWindow(request);
    const ids = new WeakMap<WatchEvent, string>();
    let events = 0;
    let hits = 0;
    const store = async (found: WatchHit[]) => {
      for (const hit of found) {
        hits++;
        await this.deps.repo.appendHit({
          ...hitRecord(
            hit,
            hit.events.map((e) => ids.get(e)).filter((n) => n !== undefined),
          ),
          hunt: id,
        });
      }
    };
    for await (const batch of this.deps.repo.eachEventBatch({ ...range, batch: HUNT_BATCH })) {
      const found: WatchHit[] = [];
      batch.events.forEach((event, i) => {
        ids.set(event, batch.ids[i]!);
        events++;
        for (const hit of detector.push(event)) found.push(hit);
      });
      await store(found);
    }
    await store(detector.flush());
    const byRule = (await this.deps.repo.ruleCounts({ hunt: id })).map(ruleCountView);
    await this.deps.audit.record({
      action: 'watch.hunt',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
      details: {
        events,
        hits,
        rules: request.rules === undefined ? 'current' : 'given',
        ...isoWindow(range),
      },
    });
    return {
      id,
      from: range.from?.toISOString() ?? null,
      to: range.to?.toISOString() ?? null,
      events,
      hits,
      rules: { detection: detector.detectionRules, correlation: rules.correlations.length },
      byRule,
      ms: performance.now() - started,
    };
  }

  blocks(): WatchBlockView[] {
    return this.blocker.list().map((entry) => ({
      address: entry.address,
      ruleId: entry.ruleId,
      ruleTitle: entry.ruleTitle,
      at: new Date(entry.blockedAt).toISOString(),
      expiresAt: new Date(entry.expiresAt).toISOString(),
      mode: entry.mode,
      command: entry.command,
      error: null,
    }));
  }

  /** Lifts a block; throws `not_found` when the address is not blocked. */
  async unblock(actor: Actor, address: string, ip: string | null): Promise<void> {
    if (!this.blocker.list().some((entry) => entry.address === address)) throw RempartError.notFound('block');
    const outcome = await this.blocker.unblock(address);
    await this.deps.audit.record({
      action: 'watch.unblock',
      outcome: outcome.outcome === 'unblocked' ? 'success' : 'failure',
      actor,
      targetId: address,
      ip,
      details: {
        command: outcome.command,
        ...(outcome.outcome === 'failed' ? { error: outcome.error } : {}),
      },
    });
    if (outcome.outcome === 'failed')
      throw new RempartError(
        'internal_error',
        `The block of ${address} could not be lifted: ${outcome.error}`,
      );
  }

  async close(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    if (this.purge) clearInterval(this.purge);
    await this.syslog?.close();
    for (const { tail } of this.tails) await tail.close();
    // What was received is still matched and stored: the queue gives what it holds, then ends.
    this.queue.close();
    await this.pump;
    this.pump = undefined;
    await this.answering;
    await this.webhook?.close();
    await this.blocker.close();
  }

  /** The rules the watch runs, read (and compiled) the first time they are needed. */
  private loadedRules(): RuleFiles {
    if (this.rules === undefined) {
      const { config } = this.deps;
      this.rules = loadRuleFiles([
        shippedRulesDir(),
        ...(config.sigmaHq ? [sigmaHqRulesDir()] : []),
        ...config.rulesDirs,
      ]);
      for (const skipped of this.rules.skipped)
        this.deps.log.debug({ file: skipped.file, unsupported: skipped.unsupported }, 'watch rule not run');
      this.detector = new Detector(this.rules);
    }
    return this.rules;
  }

  /** Takes batches off the queue until it is closed and empty. */
  private async run(): Promise<void> {
    for await (const batch of this.queue.batches(BATCH)) {
      try {
        await this.handle(batch);
      } catch (error) {
        // A batch the database refused is lost, counted and logged; the watch goes on.
        this.counts.failedBatches++;
        this.deps.log.error({ err: error, lines: batch.length }, 'server watch batch failed');
      }
    }
  }

  private async handle(batch: IngestItem[]): Promise<void> {
    this.loadedRules();
    const detector = this.detector!;
    const stored: { event: WatchEvent; format: LogFormat; receivedAt: number }[] = [];
    const hits: WatchHit[] = [];
    for (const item of batch) {
      const { format, context } = this.contextOf(item);
      const chosen = format === 'auto' ? detectFormat([item.line]) : format;
      const event = parseLine(item.line, chosen, { ...context, receivedAt: item.receivedAt });
      stored.push({ event, format: chosen, receivedAt: item.receivedAt });
      this.counts.received++;
      if (!event.parsed) this.counts.unparsed++;
      for (const hit of detector.push(event)) hits.push(hit);
    }
    const ids = await this.deps.repo.appendEvents(stored);
    this.counts.stored += ids.length;
    stored.forEach(({ event }, i) => this.eventIds.set(event, ids[i]!));
    await this.answerAll(hits);
  }

  /** The parsing state of an item's source: a followed file's format, or each line's own. */
  private contextOf(item: IngestItem): { format: LogFormat | 'auto'; context: ParseContext } {
    let found = this.contexts.get(item.source);
    if (found === undefined) {
      // Syslog receivers speak syslog; HTTP lines are JSON of one shape or another, told per line.
      const format: LogFormat | 'auto' = item.source.startsWith('syslog-') ? 'syslog' : 'auto';
      found = { format, context: { source: item.source } };
      if (this.contexts.size >= MAX_SOURCES) this.contexts.delete(this.contexts.keys().next().value!);
      this.contexts.set(item.source, found);
    }
    return found;
  }

  /** Correlations judged on the clock: a window that closed with no new event. */
  private judgeClock(): void {
    const hits = this.detector?.advance(this.deps.clock.now().getTime()) ?? [];
    if (hits.length > 0) void this.answerAll(hits);
  }

  /** Answers hits in order, after those already being answered; never rejects. */
  private answerAll(hits: WatchHit[]): Promise<void> {
    this.answering = this.answering.then(async () => {
      for (const hit of hits) {
        try {
          await this.answer(hit);
        } catch (error) {
          this.deps.log.error({ err: error, rule: hit.rule.id }, 'server watch hit not handled');
        }
      }
    });
    return this.answering;
  }

  /**
   * A hit stored, and raised as an alert, or merged into its key's open alert, or held back by the
   * throttle (then counted, and told with the rule's next alert); then answered by the responders.
   */
  private async answer(hit: WatchHit): Promise<void> {
    const eventIds = hit.events.map((e) => this.eventIds.get(e)).filter((id) => id !== undefined);
    const decision = this.throttle.offer(hit, this.deps.clock.now().getTime());
    if (decision.action === 'merge') {
      const hitId = this.openHits.get(decision.key);
      if (hitId !== undefined) await this.deps.repo.mergeIntoHit(hitId, { count: 1, eventIds });
    } else if (decision.action === 'raise') {
      const alert = await this.deps.alerts.raise({
        severity: severityOf(hit.rule.level),
        source: 'serverwatch',
        title: `${hit.rule.title}${groupLabel(decision.group)}`,
        details: {
          ruleId: hit.rule.id,
          kind: hit.rule.kind,
          level: hit.rule.level ?? null,
          file: hit.rule.file,
          group: decision.group,
          ...(hit.value === undefined ? {} : { value: hit.value }),
          ...(decision.suppressedBefore > 0 ? { suppressedBefore: decision.suppressedBefore } : {}),
          events: hit.events.slice(-EVENTS_PER_ALERT).map((e) => ({
            at: new Date(e.time).toISOString(),
            raw: e.raw.slice(0, 1000),
            fields: e.fields,
          })),
          eventIds,
        },
      });
      this.throttle.attach(decision.key, alert.id);
      const hitId = await this.deps.repo.appendHit({ ...hitRecord(hit, eventIds), alertId: alert.id });
      this.openHits.delete(decision.key);
      this.openHits.set(decision.key, hitId);
      if (this.openHits.size > MAX_OPEN_HITS) this.openHits.delete(this.openHits.keys().next().value!);
      this.webhook?.send(hit, {
        alertId: alert.id,
        count: 1,
        group: decision.group,
        suppressedBefore: decision.suppressedBefore,
      });
    }
    // Every hit may block its source: a block extends while the attack goes on, throttled or not.
    const outcome = await this.blocker.blockHit(hit);
    if (outcome.outcome === 'blocked')
      await this.deps.audit.record({
        action: 'watch.block',
        outcome: 'success',
        actor: null,
        targetId: outcome.entry.address,
        ip: null,
        details: { rule: hit.rule.id, mode: outcome.entry.mode, command: outcome.entry.command },
      });
  }

  /** Purges events and hits past their retention. */
  private async retain(): Promise<void> {
    try {
      await this.retention.purge();
    } catch (error) {
      this.deps.log.error({ err: error }, 'server watch retention failed');
    }
  }
}

/** The responders' settings the configuration maps to. */
function respondersOf(config: WatchConfig): RespondersSettings {
  const { block, webhook } = config;
  return parseRespondersConfig({
    block: {
      mode: block.mode === 'off' ? 'off' : block.mode === 'dry-run' ? 'dry-run' : 'apply',
      backend: block.mode === 'fail2ban' ? 'fail2ban' : 'nftables',
      minLevel: block.level,
      durationSeconds: block.minutes * 60,
      allow: block.allow,
      fail2ban: { jail: block.jail },
    },
    ...(webhook === undefined ? {} : { webhook: { url: webhook.url, secret: webhook.secret } }),
  });
}

/** A hunt's rules from the text an analyst gave: a broken rule is a validation error with its line. */
function huntRules(text: string): RuleFiles {
  try {
    return loadRuleText(text, 'hunt.yml');
  } catch (error) {
    if (error instanceof RempartError) throw error;
    throw RempartError.validation(error instanceof Error ? error.message : String(error));
  }
}

function hitRecord(hit: WatchHit, eventIds: readonly string[]) {
  return { hit, eventIds };
}

function isoWindow(range: { from?: Date; to?: Date }): Record<string, string> {
  return {
    ...(range.from === undefined ? {} : { from: range.from.toISOString() }),
    ...(range.to === undefined ? {} : { to: range.to.toISOString() }),
  };
}

/** Sigma's levels onto the alert stream's severities; `informational` and none are `info`. */
const SEVERITY_OF_LEVEL: ReadonlyMap<string | undefined, Severity> = new Map([
  ['low', 'low'],
  ['medium', 'medium'],
  ['high', 'high'],
  ['critical', 'critical'],
]);

export function severityOf(level: string | undefined): Severity {
  return SEVERITY_OF_LEVEL.get(level) ?? 'info';
}

function groupLabel(group: Record<string, unknown>): string {
  const parts = Object.entries(group).map(([k, v]) => `${k} ${String(v)}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
