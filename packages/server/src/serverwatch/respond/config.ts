/**
 * The responders' configuration: which hits get a response, blocking their source address, and a
 * webhook. Parsed once at start-up; every default is the safe one (blocking only records what it
 * would do, the webhook is off), so a watch with no configuration blocks nothing.
 *
 * @example
 *   const config = parseRespondersConfig({
 *     block: { mode: 'apply', backend: 'nftables', durationSeconds: 3600, allow: ['10.0.0.0/8'] },
 *     webhook: { url: 'https://soc.example/hooks/rempart', secret: process.env.HOOK_SECRET },
 *   });
 */
import { RempartError } from '@rempart/core';
import { z } from 'zod';
import { parseAddress, parseCidr } from './address.js';

/** Sigma's levels, lowest first (Sigma spec § level). */
export const ruleLevels = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const RuleLevel = z.enum(ruleLevels);
export type RuleLevel = z.infer<typeof RuleLevel>;

/** The rank of a rule's level; -1 for a rule without one (or one Sigma does not name). */
export function levelRank(level: string | undefined): number {
  return level === undefined ? -1 : (ruleLevels as readonly string[]).indexOf(level);
}

const RuleId = z.string().min(1).max(512);

/**
 * Which hits a response takes: those of rules at `minLevel` or above, those of the rules listed in
 * `rules` whatever their level, never those of `exceptRules`.
 */
const selector = {
  minLevel: RuleLevel.default('high'),
  rules: z.array(RuleId).max(10_000).default([]),
  exceptRules: z.array(RuleId).max(10_000).default([]),
};

const CidrText = z
  .string()
  .trim()
  .refine((text) => parseCidr(text) !== undefined, { message: 'not an IP address or CIDR range' });
const AddressText = z
  .string()
  .trim()
  .refine((text) => parseAddress(text) !== undefined, { message: 'not an IP address' });

// nftables names and fail2ban jails go into a command's arguments: letters, digits and a few
// separators only, so that no value can read as another word of the command.
const Identifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and - only');
const JailName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _, . and - only');
const Program = z
  .string()
  .min(1)
  .max(4096)
  .refine((text) => !/[\0\n]/.test(text), { message: 'not a program name' });

export const BlockConfig = z.object({
  /**
   * `dry-run` records the command it would run and runs nothing (the default: blocking is turned
   * on on purpose); `apply` runs it; `off` does neither.
   */
  mode: z.enum(['off', 'dry-run', 'apply']).default('dry-run'),
  /** `nftables`: a set with timeouts in `table inet rempart`; `fail2ban`: a jail's `banip`. */
  backend: z.enum(['nftables', 'fail2ban']).default('nftables'),
  ...selector,
  /** How long an address stays blocked; a new hit from it extends the block to this from then. */
  durationSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  /** Ranges never blocked (the institution's own networks, its partners). */
  allow: z.array(CidrText).max(10_000).default([]),
  /**
   * The server's own addresses, never blocked; the machine's interfaces' addresses are added at
   * start (a NAT'd public address is not among them: list it here).
   */
  ownAddresses: z.array(AddressText).max(10_000).default([]),
  /** The event fields read for the source address, first present wins. */
  addressFields: z.array(z.string().min(1)).min(1).max(16).default(['src_ip', 'c-ip', 'IpAddress']),
  nftables: z
    .object({
      command: Program.default('nft'),
      table: Identifier.default('rempart'),
      set4: Identifier.default('blocked4'),
      set6: Identifier.default('blocked6'),
      chain: Identifier.default('input'),
    })
    .prefault({}),
  fail2ban: z
    .object({
      command: Program.default('fail2ban-client'),
      jail: JailName.default('rempart'),
    })
    .prefault({}),
  /** A command still running after this is killed and reported failed. */
  commandTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Blocks remembered at once (the list the console shows); past it, the soonest to expire goes. */
  maxBlocks: z.number().int().min(1).max(1_000_000).default(100_000),
  /** Blocks waiting for their command at once; past it, new ones are dropped and counted. */
  maxPending: z.number().int().min(1).max(100_000).default(1000),
});
export type BlockConfig = z.input<typeof BlockConfig>;

export const WebhookConfig = z.object({
  /** Where to POST: an http:// or https:// URL. */
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  /** The HMAC-SHA256 key of the `X-Rempart-Signature` header; the receiver holds it too. */
  secret: z.string().min(16, 'at least 16 characters').max(1024),
  ...selector,
  /** One try's limit, connection and answer included. */
  timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  /** Tries per delivery, the first included. */
  attempts: z.number().int().min(1).max(10).default(3),
  /** The wait before the second try; each later one waits four times the one before. */
  backoffMs: z.number().int().min(0).max(600_000).default(1000),
  /** Deliveries waiting at once; past it, new ones are dropped and counted. */
  maxQueue: z.number().int().min(1).max(100_000).default(100),
  /** Deliveries sent at once. */
  concurrency: z.number().int().min(1).max(16).default(2),
  /** Events sent with a hit, the last ones. */
  maxEvents: z.number().int().min(0).max(1000).default(10),
  /** An event's `raw` line is cut to this many characters in the body. */
  maxRawChars: z.number().int().min(0).max(1_048_576).default(4096),
});
export type WebhookConfig = z.input<typeof WebhookConfig>;

export const RespondersConfig = z.object({
  block: BlockConfig.prefault({}),
  /** Off when absent. */
  webhook: WebhookConfig.optional(),
});
export type RespondersConfig = z.input<typeof RespondersConfig>;
export type RespondersSettings = z.output<typeof RespondersConfig>;

/** Parses `input`; throws a `validation_failed` error naming every bad setting. */
export function parseRespondersConfig(input: unknown): RespondersSettings {
  const parsed = RespondersConfig.safeParse(input ?? {});
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw RempartError.validation(`Invalid watch responder settings: ${names.join('; ')}.`, {
      issues: parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
    });
  }
  return parsed.data;
}

/** Whether a rule with `id` and `level` takes a response with `selector`'s settings. */
export function selects(
  settings: { minLevel: RuleLevel; rules: readonly string[]; exceptRules: readonly string[] },
  id: string,
  level: string | undefined,
): boolean {
  if (settings.exceptRules.includes(id)) return false;
  if (settings.rules.includes(id)) return true;
  return levelRank(level) >= levelRank(settings.minLevel);
}
