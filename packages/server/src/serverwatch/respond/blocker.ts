/**
 * Blocking a hit's source address: through an nftables set or a fail2ban jail (backends.ts), in
 * dry-run unless told to apply. In dry-run nothing runs: each block records exactly the command
 * that would have run, so that an administrator can read what blocking would do before turning it
 * on.
 *
 * Never blocked: what is not a valid address, loopback, the unspecified address, the server's own
 * addresses (its interfaces' and `ownAddresses`), and the `allow` ranges. An address blocked already
 * is not blocked twice: its expiry moves to `durationSeconds` from now (the command that refreshes
 * the kernel's timeout runs at most every half duration or minute, so a flood of hits from one
 * address is not a flood of commands).
 *
 * Nothing here throws into the pipeline: a refused address, a failed or timed-out command is an
 * outcome, returned and logged. Commands run one at a time, at most `commandTimeoutMs` each.
 *
 * @example
 *   const blocker = new AddressBlocker(parseRespondersConfig({ block: { mode: 'apply' } }).block, { log });
 *   await blocker.start(); // creates table inet rempart, its sets and chain (idempotent)
 *   const outcome = await blocker.blockHit(hit); // { outcome: 'blocked', entry: { address, expiresAt, command, … } }
 *   blocker.list(); // the current blocks
 *   await blocker.unblock('203.0.113.5');
 *   await blocker.close();
 */
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { RempartError } from '@rempart/core';
import type { Logger } from '../../logger.js';
import type { WatchHit } from '../detector.js';
import { isLoopback, isUnspecified, parseAddress, parseCidr, type Cidr, type IpAddress } from './address.js';
import { fail2banBackend, nftablesBackend, type BlockBackend } from './backends.js';
import { execFileRunner, formatCommand, type CommandResult, type CommandRunner } from './commands.js';
import { BlockConfig, selects as isSelected } from './config.js';
import type { z } from 'zod';

export type BlockSettings = z.output<typeof BlockConfig>;

/** Why an address is never blocked. */
export type RefusalReason = 'invalid' | 'loopback' | 'unspecified' | 'own' | 'allowed';

/** Why a hit got no block attempt. */
export type SkipReason = 'off' | 'not-selected' | 'no-address' | 'ambiguous';

/** Who asked for a block: the rule of a hit, or a person. */
export interface BlockOrigin {
  ruleId: string;
  ruleTitle: string;
  level?: string;
}

/** One address blocked now (or, in dry-run, that would be). */
export interface BlockEntry {
  address: string;
  family: 4 | 6;
  ruleId: string;
  ruleTitle: string;
  level?: string;
  /** When it was first blocked, and when the block ends (Unix ms). */
  blockedAt: number;
  expiresAt: number;
  /** `dry-run`: the command was recorded, not run; `applied`: it ran and succeeded. */
  mode: 'dry-run' | 'applied';
  backend: 'nftables' | 'fail2ban';
  /** The command that blocked it (or would have), as argv. */
  command: string[];
  /** Hits that asked for this block, the first included. */
  hits: number;
  /** When a command last set its expiry in the firewall. */
  refreshedAt: number;
}

export type BlockOutcome =
  | { outcome: 'blocked'; entry: BlockEntry }
  /** Blocked already: the expiry moved to `durationSeconds` from now (with `command`, when one ran). */
  | { outcome: 'extended'; entry: BlockEntry; command?: string[] }
  /** Blocked already, its expiry set in the firewall moments ago: counted, nothing run. */
  | { outcome: 'already'; entry: BlockEntry }
  | { outcome: 'refused'; address: string; reason: RefusalReason }
  | { outcome: 'skipped'; reason: SkipReason }
  | { outcome: 'dropped'; address: string }
  | { outcome: 'failed'; address: string; command: string[]; error: string };

export type UnblockOutcome =
  | {
      outcome: 'unblocked';
      address: string;
      mode: 'dry-run' | 'applied';
      command: string[];
      entry?: BlockEntry;
    }
  | { outcome: 'failed'; address: string; command: string[]; error: string };

/** A command as it ran, or would have: the last ones are kept for the console and the tests. */
export interface CommandRecord {
  time: number;
  purpose: 'setup' | 'block' | 'extend' | 'unblock' | 'expire';
  mode: 'dry-run' | 'applied';
  command: string[];
  ok: boolean;
  error?: string;
}

export interface BlockerStats {
  mode: BlockSettings['mode'];
  backend: BlockSettings['backend'];
  active: number;
  blocked: number;
  extended: number;
  already: number;
  refused: number;
  skipped: number;
  dropped: number;
  failed: number;
  unblocked: number;
  expired: number;
  pending: number;
}

export interface BlockerDependencies {
  log?: Logger;
  /** Runs the commands (default: `execFile`, no prefix). */
  runner?: CommandRunner;
  /** Unix ms (default: `Date.now`). */
  now?: () => number;
  /** The machine's own addresses (default: every interface's, read at construction and start). */
  interfaceAddresses?: () => string[];
  /** How often blocks past their expiry are forgotten (and lifted, for fail2ban); 0: never by itself. */
  sweepIntervalMs?: number;
}

interface BlockerEvents {
  blocked: [BlockEntry];
  unblocked: [UnblockOutcome];
  failed: [{ address: string; command: string[]; error: string }];
}

const HISTORY = 200;

export class AddressBlocker extends EventEmitter<BlockerEvents> {
  readonly settings: BlockSettings;
  private readonly backend: BlockBackend;
  private readonly runner: CommandRunner;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly readInterfaces: () => string[];
  private readonly allow: Cidr[];
  private own = new Set<string>();
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly pending = new Map<string, Promise<BlockOutcome>>();
  private readonly history: CommandRecord[] = [];
  /** Commands run one after another: the chain's tail. */
  private tail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly sweepIntervalMs: number;
  private closed = false;
  private sweeping: Promise<number> | undefined;
  private counts = {
    blocked: 0,
    extended: 0,
    already: 0,
    refused: 0,
    skipped: 0,
    dropped: 0,
    failed: 0,
    unblocked: 0,
    expired: 0,
  };

  constructor(settings: BlockConfig | BlockSettings, dependencies: BlockerDependencies = {}) {
    super();
    const parsed = BlockConfig.safeParse(settings);
    if (!parsed.success)
      throw RempartError.validation('Invalid address blocking settings.', { issues: parsed.error.issues });
    this.settings = parsed.data;
    this.backend =
      this.settings.backend === 'nftables'
        ? nftablesBackend(this.settings.nftables)
        : fail2banBackend(this.settings.fail2ban);
    this.runner = dependencies.runner ?? execFileRunner();
    this.now = dependencies.now ?? Date.now;
    this.log = dependencies.log;
    this.readInterfaces = dependencies.interfaceAddresses ?? machineAddresses;
    this.sweepIntervalMs = dependencies.sweepIntervalMs ?? 30_000;
    this.allow = this.settings.allow.map((text) => parseCidr(text)!);
    this.refreshOwnAddresses();
  }

  /** Whether blocks record commands (`dry-run`) or run them (`apply`). */
  get dryRun(): boolean {
    return this.settings.mode !== 'apply';
  }

  /**
   * Creates what the backend needs (nftables: the table, sets and chain), or records the command in
   * dry-run, and starts forgetting expired blocks. A failure is returned and logged, not thrown:
   * the watch still runs, and each block will report its own failure.
   */
  async start(): Promise<{ ok: boolean; command?: string[]; error?: string }> {
    this.refreshOwnAddresses();
    if (this.sweepIntervalMs > 0 && this.timer === undefined && this.settings.mode !== 'off') {
      this.timer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
      this.timer.unref();
    }
    const command = this.settings.mode === 'off' ? undefined : this.backend.setup();
    if (command === undefined) return { ok: true };
    const result = await this.execute('setup', command);
    if (!result.ok) {
      this.log?.error(
        { command: formatCommand(command), error: result.error },
        'server watch: the firewall could not be prepared for blocking',
      );
      return { ok: false, command, error: result.error ?? 'failed' };
    }
    this.log?.info({ backend: this.backend.name, mode: this.settings.mode }, 'server watch: blocking ready');
    return { ok: true, command };
  }

  /** Whether a hit of this rule asks for a block (mode on, level or rule selected). */
  selects(hit: Pick<WatchHit, 'rule'>): boolean {
    return this.settings.mode !== 'off' && isSelected(this.settings, hit.rule.id, hit.rule.level);
  }

  /** Blocks the source address of `hit` if its rule is selected; see the file's head. */
  async blockHit(hit: WatchHit): Promise<BlockOutcome> {
    if (this.settings.mode === 'off') return this.skip('off');
    if (!this.selects(hit)) return this.skip('not-selected');
    const source = sourceAddress(hit, this.settings.addressFields);
    if ('reason' in source) return this.skip(source.reason);
    return this.blockAddress(source.address, {
      ruleId: hit.rule.id,
      ruleTitle: hit.rule.title,
      ...(hit.rule.level === undefined ? {} : { level: hit.rule.level }),
    });
  }

  /** Blocks `text` for `origin` (a hit's rule, or a person from the console). */
  blockAddress(text: string, origin: BlockOrigin): Promise<BlockOutcome> {
    if (this.closed || this.settings.mode === 'off') return Promise.resolve(this.skip('off'));
    const address = parseAddress(text.trim());
    if (address === undefined) return Promise.resolve(this.refuse(text, 'invalid'));
    const refusal = this.refusal(address);
    if (refusal !== undefined) return Promise.resolve(this.refuse(address.address, refusal));
    const inFlight = this.pending.get(address.address);
    if (inFlight !== undefined) return inFlight;
    const now = this.now();
    const found = this.blocks.get(address.address);
    const current = found !== undefined && found.expiresAt > now ? found : undefined;
    let command: string[] | undefined;
    if (current === undefined) command = this.backend.block(address, this.settings.durationSeconds);
    else {
      current.hits++;
      command = this.backend.extend(address, this.settings.durationSeconds);
      if (command === undefined) {
        // Nothing to run (fail2ban): the expiry is Rempart's own.
        current.expiresAt = Math.max(current.expiresAt, now + this.settings.durationSeconds * 1000);
        this.counts.extended++;
        return Promise.resolve({ outcome: 'extended', entry: { ...current } });
      }
      const refreshAfter = Math.min(60_000, (this.settings.durationSeconds * 1000) / 2);
      if (now - current.refreshedAt < refreshAfter) {
        this.counts.already++;
        return Promise.resolve({ outcome: 'already', entry: { ...current } });
      }
    }
    if (this.pending.size >= this.settings.maxPending) {
      this.counts.dropped++;
      this.log?.warn({ address: address.address }, 'server watch: too many blocks waiting, one dropped');
      return Promise.resolve({ outcome: 'dropped', address: address.address });
    }
    const outcome = this.apply(address, origin, command, current);
    this.pending.set(address.address, outcome);
    const settled = () => void this.pending.delete(address.address);
    outcome.then(settled, settled);
    return outcome;
  }

  /**
   * Lifts the block of `text` (it runs even when Rempart has no record of one: the firewall may
   * hold a block from before a restart). Throws `validation_failed` for what is not an address.
   */
  async unblock(text: string): Promise<UnblockOutcome> {
    const address = parseAddress(text.trim());
    if (address === undefined) throw RempartError.validation(`Not an IP address: ${text.slice(0, 64)}`);
    const pending = this.pending.get(address.address);
    if (pending !== undefined) await pending;
    const entry = this.blocks.get(address.address);
    const command = this.backend.unblock(address);
    const result = await this.execute('unblock', command);
    if (!result.ok) {
      const failure = { address: address.address, command, error: result.error ?? 'failed' };
      this.counts.failed++;
      this.log?.error({ ...failure, command: formatCommand(command) }, 'server watch: unblocking failed');
      this.tell('failed', failure);
      return { outcome: 'failed', ...failure };
    }
    this.blocks.delete(address.address);
    this.counts.unblocked++;
    const outcome: UnblockOutcome = {
      outcome: 'unblocked',
      address: address.address,
      mode: this.dryRun ? 'dry-run' : 'applied',
      command,
      ...(entry === undefined ? {} : { entry }),
    };
    this.log?.info({ address: address.address, mode: outcome.mode }, 'server watch: address unblocked');
    this.tell('unblocked', outcome);
    return outcome;
  }

  /** The current blocks, the soonest to expire first. */
  list(): BlockEntry[] {
    const now = this.now();
    return [...this.blocks.values()]
      .filter((entry) => entry.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .map((entry) => ({ ...entry }));
  }

  /** The last commands run or recorded, oldest first. */
  commands(): CommandRecord[] {
    return this.history.map((record) => ({ ...record }));
  }

  /**
   * Forgets the blocks past their expiry; with a backend whose blocks do not expire by themselves
   * (fail2ban), lifts them first. Returns how many ended.
   */
  sweep(): Promise<number> {
    // One sweep at a time: a slow one still running when the timer fires again is joined.
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    const now = this.now();
    let ended = 0;
    for (const entry of [...this.blocks.values()]) {
      if (entry.expiresAt > now || this.pending.has(entry.address)) continue;
      // Forgotten before the lifting command runs: a hit meanwhile is a new block, whose command
      // runs after this one (commands run in order), so it is not lifted by mistake.
      this.blocks.delete(entry.address);
      if (!this.backend.expiresByItself) {
        const command = this.backend.unblock(parseAddress(entry.address)!);
        const result = await this.execute('expire', command);
        if (!result.ok) {
          this.counts.failed++;
          this.log?.error(
            { address: entry.address, command: formatCommand(command), error: result.error },
            'server watch: lifting an expired block failed, will try again',
          );
          if (!this.blocks.has(entry.address)) this.blocks.set(entry.address, entry);
          continue;
        }
      }
      this.counts.expired++;
      ended++;
    }
    return ended;
  }

  stats(): BlockerStats {
    const now = this.now();
    let active = 0;
    for (const entry of this.blocks.values()) if (entry.expiresAt > now) active++;
    return {
      mode: this.settings.mode,
      backend: this.settings.backend,
      active,
      pending: this.pending.size,
      ...this.counts,
    };
  }

  /** Stops the sweep and waits for the commands under way. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pending.values(), this.sweeping]);
  }

  private async apply(
    address: IpAddress,
    origin: BlockOrigin,
    command: string[],
    current: BlockEntry | undefined,
  ): Promise<BlockOutcome> {
    const seconds = this.settings.durationSeconds;
    const result = await this.execute(current === undefined ? 'block' : 'extend', command);
    if (!result.ok) {
      const failure = { address: address.address, command, error: result.error ?? 'failed' };
      this.counts.failed++;
      this.log?.error(
        { ...failure, command: formatCommand(command), rule: origin.ruleId },
        'server watch: blocking failed',
      );
      this.tell('failed', failure);
      return { outcome: 'failed', ...failure };
    }
    // Time read after the command: the firewall's timeout started when it ran.
    const now = this.now();
    const expiresAt = now + seconds * 1000;
    if (current !== undefined) {
      current.expiresAt = Math.max(current.expiresAt, expiresAt);
      current.refreshedAt = now;
      this.counts.extended++;
      return { outcome: 'extended', entry: { ...current }, command };
    }
    const entry: BlockEntry = {
      address: address.address,
      family: address.family,
      ruleId: origin.ruleId,
      ruleTitle: origin.ruleTitle,
      ...(origin.level === undefined ? {} : { level: origin.level }),
      blockedAt: now,
      expiresAt,
      mode: this.dryRun ? 'dry-run' : 'applied',
      backend: this.backend.name,
      command,
      hits: 1,
      refreshedAt: now,
    };
    this.blocks.delete(entry.address);
    this.blocks.set(entry.address, entry);
    this.keepWithinBound();
    this.counts.blocked++;
    this.log?.info(
      {
        address: entry.address,
        rule: origin.ruleId,
        mode: entry.mode,
        until: new Date(expiresAt).toISOString(),
      },
      entry.mode === 'applied'
        ? 'server watch: address blocked'
        : 'server watch: address would be blocked (dry-run)',
    );
    this.tell('blocked', { ...entry });
    return { outcome: 'blocked', entry: { ...entry } };
  }

  /** Emits to the listeners; one that throws is logged, never let into the pipeline. */
  private tell<K extends keyof BlockerEvents>(event: K, ...args: BlockerEvents[K]): void {
    try {
      // TypeScript cannot relate a generic key to EventEmitter's conditional argument type.
      (this.emit as (event: K, ...args: BlockerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log?.error({ err: error, event }, 'server watch: a blocking listener failed');
    }
  }

  /** Runs `command` after those before it, or records it in dry-run. */
  private execute(
    purpose: CommandRecord['purpose'],
    command: string[],
  ): Promise<{ ok: boolean; error?: string }> {
    if (this.dryRun) {
      this.remember({ time: this.now(), purpose, mode: 'dry-run', command, ok: true });
      return Promise.resolve({ ok: true });
    }
    const run = this.tail.then(async () => {
      let result: CommandResult;
      try {
        result = await this.runner(command, { timeoutMs: this.settings.commandTimeoutMs });
      } catch (error) {
        // A runner is not meant to throw; one that does is a failed command, not a broken pipeline.
        result = { ok: false, code: null, stdout: '', stderr: '', error: String(error) };
      }
      this.remember({
        time: this.now(),
        purpose,
        mode: 'applied',
        command,
        ok: result.ok,
        ...(result.ok ? {} : { error: result.error ?? 'failed' }),
      });
      return result.ok ? { ok: true } : { ok: false, error: result.error ?? 'failed' };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private remember(record: CommandRecord): void {
    this.history.push(record);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
  }

  private refusal(address: IpAddress): RefusalReason | undefined {
    if (isLoopback(address)) return 'loopback';
    if (isUnspecified(address)) return 'unspecified';
    if (this.own.has(address.address)) return 'own';
    if (this.allow.some((range) => range.contains(address))) return 'allowed';
    return undefined;
  }

  private refuse(address: string, reason: RefusalReason): BlockOutcome {
    this.counts.refused++;
    this.log?.debug({ address: address.slice(0, 64), reason }, 'server watch: address not blocked');
    return { outcome: 'refused', address: address.slice(0, 64), reason };
  }

  private skip(reason: SkipReason): BlockOutcome {
    this.counts.skipped++;
    return { outcome: 'skipped', reason };
  }

  private refreshOwnAddresses(): void {
    const own = new Set<string>();
    for (const text of [...this.settings.ownAddresses, ...this.readInterfaces()]) {
      const address = parseAddress(text);
      if (address !== undefined) own.add(address.address);
    }
    this.own = own;
  }

  /** Past `maxBlocks`, the blocks that end soonest are forgotten first (they still end in the firewall). */
  private keepWithinBound(): void {
    if (this.blocks.size <= this.settings.maxBlocks) return;
    const byExpiry = [...this.blocks.values()].sort((a, b) => a.expiresAt - b.expiresAt);
    for (const entry of byExpiry.slice(0, this.blocks.size - this.settings.maxBlocks))
      this.blocks.delete(entry.address);
  }
}

/**
 * The address a hit is about: a correlation's group's, else the one address its events share.
 * Events with different addresses (a spraying grouped by user) name no one to block.
 */
export function sourceAddress(
  hit: Pick<WatchHit, 'group' | 'events'>,
  fields: readonly string[],
): { address: string } | { reason: 'no-address' | 'ambiguous' } {
  for (const name of fields) {
    const value = hit.group?.[name];
    if (typeof value === 'string' && present(value)) return { address: value };
  }
  const seen = new Set<string>();
  for (const event of hit.events) {
    for (const name of fields) {
      const value = event.fields[name];
      if (typeof value === 'string' && present(value)) {
        seen.add(parseAddress(value.trim())?.address ?? value);
        break;
      }
    }
  }
  if (seen.size === 0) return { reason: 'no-address' };
  if (seen.size > 1) return { reason: 'ambiguous' };
  return { address: [...seen][0]! };
}

/** Windows writes `-` where it has no address; IIS too. */
function present(value: string): boolean {
  const trimmed = value.trim();
  return trimmed !== '' && trimmed !== '-';
}

function machineAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const info of list ?? []) out.push(info.address);
  return out;
}
