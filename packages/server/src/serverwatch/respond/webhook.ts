/**
 * A webhook for hits: each alert's hit POSTed as JSON to a URL the institution chose (its SOC, a
 * chat bridge, a ticketing system), signed so that the receiver can tell it came from Rempart.
 *
 * - Signature: `X-Rempart-Signature: sha256=<hex>`, the HMAC-SHA256 (RFC 2104) of the exact body
 *   bytes under the shared secret. The body carries its `deliveryId` and `createdAt`, so a receiver
 *   can refuse replays; a retry sends the same bytes (same id), so a receiver can de-duplicate.
 * - Each try has `timeoutMs` (5 s) for everything, connection to answer. A 2xx answer delivers. A
 *   network error, a timeout, a 5xx, 408 or 429 is tried again, up to `attempts` (3) in all, after
 *   `backoffMs`, then four times that; other answers (a 4xx: the receiver refuses this body; a 3xx:
 *   redirects are not followed, the URL is the one configured) give up at once.
 * - Deliveries wait in a bounded queue (`maxQueue`); one that does not fit is dropped and counted.
 *   Nothing here throws into the pipeline: failures are counted, logged and emitted.
 * - `close()` stops taking deliveries and waits for those queued and under way, up to a bound; what
 *   is left then is cut off and counted as dropped.
 *
 * @example
 *   const webhook = new WebhookSender(settings.webhook, { log });
 *   webhook.send(hit, { alertId: alert.id, count: 1, group: decision.group });
 *   // → POST { deliveryId, createdAt, rule: { id, title, level, kind }, time, group, count, events, alertId }
 *   await webhook.close(10_000);
 */
import { createHmac, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RempartError } from '@rempart/core';
import type { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { WatchHit } from '../detector.js';
import type { FieldValue, LogSource } from '../event.js';
import { selects as isSelected, WebhookConfig } from './config.js';

export type WebhookSettings = z.output<typeof WebhookConfig>;

/** What the service knows of the alert a hit became. */
export interface HitContext {
  /** The stored alert's id. */
  alertId?: string;
  /** Hits the alert holds so far (1 for a new one). */
  count?: number;
  /** The alert's group (the throttle's); the hit's correlation group when absent. */
  group?: Record<string, unknown>;
  /** Hits of the rule suppressed before this alert (the throttle's `suppressedBefore`). */
  suppressedBefore?: number;
}

/** The JSON body of a delivery. */
export interface WebhookPayload {
  /** The same on every try of one delivery. */
  deliveryId: string;
  /** When the delivery was queued, ISO 8601. */
  createdAt: string;
  rule: { id: string; title: string; level: string | null; kind: 'detection' | 'correlation' };
  /** The hit's time, ISO 8601. */
  time: string;
  group: Record<string, unknown>;
  count: number;
  suppressedBefore?: number;
  alertId?: string;
  /** The last events, capped; each `raw` line cut at `maxRawChars` (`truncated` then says so). */
  events: {
    time: string;
    logsource: LogSource;
    fields: Record<string, FieldValue>;
    raw: string;
    truncated?: true;
    source?: string;
  }[];
}

export type SendOutcome =
  { queued: true; deliveryId: string } | { queued: false; reason: 'not-selected' | 'full' | 'closed' };

export interface WebhookStats {
  /** Waiting for a try (backing-off ones included). */
  queued: number;
  inFlight: number;
  delivered: number;
  /** Deliveries given up after their last try or a final answer. */
  failed: number;
  /** Deliveries that did not fit in the queue, or were cut off by `close()`. */
  dropped: number;
  /** Tries beyond the first. */
  retries: number;
  /** Why the last try failed, if one did. */
  lastError?: string;
}

interface WebhookEvents {
  delivered: [{ deliveryId: string; status: number; attempts: number }];
  failed: [{ deliveryId: string; attempts: number; error: string }];
}

export interface WebhookDependencies {
  log?: Logger;
  /** Unix ms (default: `Date.now`), for `createdAt`. */
  now?: () => number;
}

interface Delivery {
  id: string;
  body: Buffer;
  signature: string;
  attempts: number;
}

type TryResult = { ok: true; status: number } | { ok: false; retry: boolean; error: string };

// An answer's body is read only to free the connection; more than this is not waited for.
const MAX_ANSWER = 64 * 1024;

export class WebhookSender extends EventEmitter<WebhookEvents> {
  readonly settings: WebhookSettings;
  private readonly url: URL;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly queue: Delivery[] = [];
  private readonly requests = new Set<ClientRequest>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private active = 0;
  private closing = false;
  private cutOff = false;
  private closed: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private lastError: string | undefined;

  constructor(settings: WebhookConfig | WebhookSettings, dependencies: WebhookDependencies = {}) {
    super();
    const parsed = WebhookConfig.safeParse(settings);
    if (!parsed.success)
      throw RempartError.validation('Invalid webhook settings.', {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
      });
    this.settings = parsed.data;
    this.url = new URL(this.settings.url);
    this.log = dependencies.log;
    this.now = dependencies.now ?? Date.now;
  }

  /** Whether a hit of this rule is sent. */
  selects(hit: Pick<WatchHit, 'rule'>): boolean {
    return isSelected(this.settings, hit.rule.id, hit.rule.level);
  }

  /** Queues the delivery of `hit` if its rule is selected; returns at once. */
  send(hit: WatchHit, context: HitContext = {}): SendOutcome {
    if (this.closing) return { queued: false, reason: 'closed' };
    if (!this.selects(hit)) return { queued: false, reason: 'not-selected' };
    return this.enqueue(this.payload(hit, context));
  }

  /** Queues `payload` as it is (its id and time made here). */
  enqueue(payload: Omit<WebhookPayload, 'deliveryId' | 'createdAt'>): SendOutcome {
    if (this.closing) return { queued: false, reason: 'closed' };
    if (this.queue.length >= this.settings.maxQueue) {
      this.counts.dropped++;
      this.log?.warn({ webhook: this.url.origin }, 'server watch: webhook queue full, one delivery dropped');
      return { queued: false, reason: 'full' };
    }
    const deliveryId = randomUUID();
    const body = Buffer.from(
      JSON.stringify({ deliveryId, createdAt: new Date(this.now()).toISOString(), ...payload }),
      'utf8',
    );
    this.queue.push({ id: deliveryId, body, signature: sign(this.settings.secret, body), attempts: 0 });
    this.pump();
    return { queued: true, deliveryId };
  }

  /** The body `send` posts for `hit`, without its id and time. */
  payload(hit: WatchHit, context: HitContext = {}): Omit<WebhookPayload, 'deliveryId' | 'createdAt'> {
    const { maxEvents, maxRawChars } = this.settings;
    const events = maxEvents === 0 ? [] : hit.events.slice(-maxEvents);
    return {
      rule: { id: hit.rule.id, title: hit.rule.title, level: hit.rule.level ?? null, kind: hit.rule.kind },
      time: isoTime(hit.time),
      group: context.group ?? hit.group ?? {},
      count: context.count ?? 1,
      ...(context.suppressedBefore ? { suppressedBefore: context.suppressedBefore } : {}),
      ...(context.alertId === undefined ? {} : { alertId: context.alertId }),
      events: events.map((event) => ({
        time: isoTime(event.time),
        logsource: event.logsource,
        fields: event.fields,
        raw: event.raw.length > maxRawChars ? event.raw.slice(0, maxRawChars) : event.raw,
        ...(event.raw.length > maxRawChars ? { truncated: true as const } : {}),
        ...(event.source === undefined ? {} : { source: event.source }),
      })),
    };
  }

  stats(): WebhookStats {
    return {
      queued: this.queue.length + this.sleeps.size,
      inFlight: this.requests.size,
      ...this.counts,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Resolves once nothing is queued or under way. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Takes no more deliveries and waits up to `waitMs` for those queued and under way; then cuts off
   * what is left (counted as dropped). Idempotent.
   */
  close(waitMs = 10_000): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      });
      await Promise.race([this.idle(), bound]);
      clearTimeout(timer);
      if (this.queue.length > 0 || this.active > 0) {
        this.cutOff = true;
        this.counts.dropped += this.queue.length;
        this.queue.length = 0;
        for (const sleep of this.sleeps) sleep.wake();
        for (const request of this.requests) request.destroy(new Error('the watch is stopping'));
        await this.idle();
      }
    })();
    return this.closed;
  }

  private pump(): void {
    while (this.active < this.settings.concurrency && this.queue.length > 0) {
      const delivery = this.queue.shift()!;
      this.active++;
      const done = () => {
        this.active--;
        this.pump();
        if (this.queue.length === 0 && this.active === 0) {
          const waiting = this.idleWaiters;
          this.idleWaiters = [];
          for (const wake of waiting) wake();
        }
      };
      this.deliver(delivery).then(done, (error: unknown) => {
        // Only a listener of our events can throw here; the delivery itself is over either way.
        this.log?.error({ err: error }, 'server watch: a webhook listener failed');
        done();
      });
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    for (;;) {
      delivery.attempts++;
      if (delivery.attempts > 1) this.counts.retries++;
      let result: TryResult;
      try {
        result = await this.try(delivery);
      } catch (error) {
        // A request that cannot even be made will not be made by trying again.
        result = { ok: false, retry: false, error: error instanceof Error ? error.message : String(error) };
      }
      if (result.ok) {
        this.counts.delivered++;
        this.emit('delivered', {
          deliveryId: delivery.id,
          status: result.status,
          attempts: delivery.attempts,
        });
        return;
      }
      this.lastError = result.error;
      if (this.cutOff) {
        this.counts.dropped++;
        return;
      }
      if (!result.retry || delivery.attempts >= this.settings.attempts) {
        this.counts.failed++;
        this.log?.error(
          {
            webhook: this.url.origin,
            deliveryId: delivery.id,
            attempts: delivery.attempts,
            error: result.error,
          },
          'server watch: webhook delivery given up',
        );
        this.emit('failed', { deliveryId: delivery.id, attempts: delivery.attempts, error: result.error });
        return;
      }
      this.log?.warn(
        {
          webhook: this.url.origin,
          deliveryId: delivery.id,
          attempt: delivery.attempts,
          error: result.error,
        },
        'server watch: webhook delivery failed, will retry',
      );
      await this.sleep(this.settings.backoffMs * 4 ** (delivery.attempts - 1));
      if (this.cutOff) {
        this.counts.dropped++;
        return;
      }
    }
  }

  private try(delivery: Delivery): Promise<TryResult> {
    return new Promise((resolve) => {
      const post = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (result: TryResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.requests.delete(request);
        resolve(result);
      };
      const request = post(this.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': delivery.body.length,
          'User-Agent': 'Rempart-Watch',
          'X-Rempart-Signature': delivery.signature,
          'X-Rempart-Delivery': delivery.id,
          // One delivery, one connection: nothing lingers to hold `close()` up.
          Connection: 'close',
        },
      });
      this.requests.add(request);
      const timer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, retry: true, error: `no answer within ${this.settings.timeoutMs} ms` });
      }, this.settings.timeoutMs);
      request.on('error', (error) => finish({ ok: false, retry: true, error: error.message }));
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER) response.destroy();
        });
        response.on('error', () => undefined);
        const done = () => {
          if (status >= 200 && status < 300) finish({ ok: true, status });
          else
            finish({
              ok: false,
              retry: status >= 500 || status === 408 || status === 429,
              error: `HTTP ${status}`,
            });
        };
        response.on('end', done);
        response.on('close', done);
      });
      request.end(delivery.body);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.wake(), ms),
        wake: () => {
          clearTimeout(entry.timer);
          this.sleeps.delete(entry);
          resolve();
        },
      };
      this.sleeps.add(entry);
    });
  }
}

/** The `X-Rempart-Signature` value of `body` under `secret`. */
export function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}
