/**
 * The responses to hits, together: blocking the source address (blocker.ts) and the webhook
 * (webhook.ts), each with its own choice of rules (a minimum level, rules always or never taken).
 *
 * Call `respond()` with every hit the throttle saw, and its decision: a block is asked for by every
 * hit (blocking is per address and cheap to repeat: a new address of a botnet is blocked even while
 * the rule's alerts are suppressed), the webhook is sent once per alert (`notify: true` only for a
 * raise), so that a brute force is one message, not thousands.
 *
 * @example
 *   const responders = new Responders(parseRespondersConfig(env), { log });
 *   await responders.start();
 *   const decision = throttle.offer(hit, Date.now());
 *   if (decision.action === 'raise') {
 *     const alert = await alerts.raise(…);
 *     await responders.respond(hit, { notify: true, alertId: alert.id, group: decision.group,
 *       suppressedBefore: decision.suppressedBefore });
 *   } else await responders.respond(hit, { notify: false });
 *   responders.blocker.list(); // the current blocks
 *   await responders.close();
 */
import type { Logger } from '../../logger.js';
import type { WatchHit } from '../detector.js';
import { AddressBlocker, type BlockerDependencies, type BlockOutcome } from './blocker.js';
import { parseRespondersConfig, type RespondersSettings } from './config.js';
import { WebhookSender, type HitContext, type SendOutcome, type WebhookStats } from './webhook.js';

export interface RespondContext extends HitContext {
  /** Whether the webhook is sent for this hit: true for the hit that raised an alert. */
  notify: boolean;
}

export interface ResponseReport {
  block: BlockOutcome;
  /** Absent when no webhook is configured or `notify` was false. */
  webhook?: SendOutcome;
}

export interface RespondersDependencies extends Omit<BlockerDependencies, 'log'> {
  log?: Logger;
}

export class Responders {
  readonly settings: RespondersSettings;
  readonly blocker: AddressBlocker;
  /** Absent when no webhook is configured. */
  readonly webhook: WebhookSender | undefined;
  private closed: Promise<void> | undefined;

  /** `config` as `RespondersConfig` takes it; throws `validation_failed` naming every bad setting. */
  constructor(config: unknown, dependencies: RespondersDependencies = {}) {
    this.settings = parseRespondersConfig(config);
    const log = dependencies.log?.child({ subsystem: 'watch-respond' });
    this.blocker = new AddressBlocker(this.settings.block, { ...dependencies, ...(log ? { log } : {}) });
    this.webhook =
      this.settings.webhook === undefined
        ? undefined
        : new WebhookSender(this.settings.webhook, {
            ...(log ? { log } : {}),
            ...(dependencies.now ? { now: dependencies.now } : {}),
          });
  }

  /** Prepares the firewall (or records how, in dry-run); a failure is returned, not thrown. */
  start(): ReturnType<AddressBlocker['start']> {
    return this.blocker.start();
  }

  /** The responses `hit` takes; never throws. */
  async respond(hit: WatchHit, context: RespondContext): Promise<ResponseReport> {
    const webhook =
      context.notify && this.webhook !== undefined ? this.webhook.send(hit, context) : undefined;
    const block = await this.blocker.blockHit(hit);
    return webhook === undefined ? { block } : { block, webhook };
  }

  stats(): { block: ReturnType<AddressBlocker['stats']>; webhook?: WebhookStats } {
    const block = this.blocker.stats();
    return this.webhook === undefined ? { block } : { block, webhook: this.webhook.stats() };
  }

  /** Waits for the blocks under way and up to `waitMs` for the webhook's deliveries. Idempotent. */
  close(waitMs = 10_000): Promise<void> {
    this.closed ??= (async () => {
      await Promise.all([this.blocker.close(), this.webhook?.close(waitMs)]);
    })();
    return this.closed;
  }
}
