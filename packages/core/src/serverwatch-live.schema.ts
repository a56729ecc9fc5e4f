/**
 * The live server watch as the HTTP API shows it: what it receives and runs (status), the
 * retro-hunts an analyst starts over stored events, and the addresses its responses blocked. The
 * stored events and hits themselves are in serverwatch.ts.
 */
import { z } from 'zod';
import { RuleCount } from './serverwatch.schema.js';

const Count = z.number().int().nonnegative();

export const WatchStatusView = z
  .object({
    running: z.boolean(),
    rules: z.object({
      detection: Count,
      correlation: Count,
      /** Rules set aside at load, with what they use that the engine does not support. */
      skipped: z.array(z.object({ file: z.string(), title: z.string(), unsupported: z.array(z.string()) })),
    }),
    /** The bounded queue between the receivers and the rules. */
    queue: z.object({
      capacity: Count,
      depth: Count,
      highWater: Count,
      accepted: Count,
      /** Times a sender that can wait (TCP, a file) was held back: back-pressure, not loss. */
      refused: Count,
      dropped: z.object({
        total: Count,
        byReason: z.record(z.string(), Count),
        bySource: z.record(z.string(), Count),
      }),
    }),
    /** The syslog receiver, when configured: its ports and what it received by transport. */
    syslog: z
      .object({
        port: z.number().int(),
        tlsPort: z.number().int().optional(),
        messages: z.record(z.string(), Count),
        truncated: Count,
        connections: Count,
      })
      .nullable(),
    files: z.array(
      z.object({
        path: z.string(),
        format: z.string(),
        lines: Count,
        rotations: Count,
        waiting: z.boolean(),
      }),
    ),
    /** Whether `POST /api/watch/ingest` takes lines (a token is configured). */
    httpIngest: z.boolean(),
    events: z.object({ received: Count, unparsed: Count, stored: Count, failedBatches: Count }),
    hits: z.object({ total: Count, alerts: Count, merged: Count, suppressed: Count }),
    responses: z.object({
      block: z.enum(['off', 'dry-run', 'nftables', 'fail2ban']),
      webhook: z.boolean(),
    }),
  })
  .meta({ id: 'WatchStatus' });
export type WatchStatusView = z.infer<typeof WatchStatusView>;

/** A retro-hunt: rules run over the stored events of a time range. */
export const WatchHuntRequest = z.object({
  /**
   * Sigma rules (YAML, documents separated by `---`) to run; without them, the rules the watch
   * runs now (after they were edited on disk, for instance).
   */
  rules: z.string().min(1).max(1_000_000).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});
export type WatchHuntRequest = z.infer<typeof WatchHuntRequest>;

export const WatchHuntResult = z
  .object({
    /** The hunt's id: its hits are listed by `GET /api/watch/hits?hunt=<id>`. */
    id: z.string(),
    from: z.iso.datetime().nullable(),
    to: z.iso.datetime().nullable(),
    events: Count,
    hits: Count,
    rules: z.object({ detection: Count, correlation: Count }),
    byRule: z.array(RuleCount),
    ms: z.number().nonnegative(),
  })
  .meta({ id: 'WatchHuntResult' });
export type WatchHuntResult = z.infer<typeof WatchHuntResult>;

/** An address a response blocked (or would have, in dry-run). */
export const WatchBlockView = z
  .object({
    address: z.string(),
    ruleId: z.string(),
    ruleTitle: z.string(),
    at: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    /** `dry-run`: the command was recorded, not run. */
    mode: z.enum(['dry-run', 'applied', 'failed']),
    /** The command run, or that would have been, as argv. */
    command: z.array(z.string()),
    error: z.string().nullable(),
  })
  .meta({ id: 'WatchBlock' });
export type WatchBlockView = z.infer<typeof WatchBlockView>;

/** What `POST /api/watch/ingest` answers. */
export const WatchIngestResult = z
  .object({
    accepted: Count,
    rejected: Count,
    errors: z.array(z.object({ line: z.number().int().positive(), message: z.string() })),
  })
  .meta({ id: 'WatchIngestResult' });
export type WatchIngestResult = z.infer<typeof WatchIngestResult>;
