/**
 * The server watch's stored events and hits as the HTTP API returns them, and the query of its
 * search: the routes, the CLI and the console share these.
 *
 * @example
 *   const query = WatchSearchQuery.parse({ q: 'src_ip:203.0.113.0/24 -outcome:success', limit: '50' });
 *   const page: WatchEventPage = await api.get('/api/watch/events', query);
 *   // page.next is the `before` of the following (older) page, null after the last one
 */
import { z } from 'zod';

/** The formats the server watch's parsers read (`--format`, `REMPART_WATCH_FILES`). */
export const watchLogFormats = [
  'syslog',
  'postfix',
  'dovecot',
  'sshd',
  'iis',
  'combined',
  'audit',
  'windows',
  'jsonl',
] as const;

export type WatchLogFormat = (typeof watchLogFormats)[number];

/** The formats a stored event was read as; `raw` for a line no parser understood. */
export const watchEventFormats = [...watchLogFormats, 'raw'] as const;
export const WatchEventFormat = z.enum(watchEventFormats);
export type WatchEventFormat = z.infer<typeof WatchEventFormat>;

/** The largest page of a search or a hit listing. */
export const WATCH_PAGE_MAX = 500;

/**
 * Where a page ends, as `<time in ms>_<id>` of its last row: the next page starts strictly after
 * it (keyset pagination: rows written meanwhile neither repeat nor shift a page).
 */
export const WatchCursor = z
  .string()
  .regex(/^-?\d{1,16}_\d{1,16}$/, 'must be the `next` of an earlier page, e.g. 1796266606985_42');
export type WatchCursor = z.infer<typeof WatchCursor>;

const LogSourceView = z.object({
  product: z.string().optional(),
  service: z.string().optional(),
  category: z.string().optional(),
});

export const WatchEventView = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    receivedAt: z.iso.datetime(),
    source: z.string(),
    format: WatchEventFormat,
    logsource: LogSourceView,
    host: z.string().nullable(),
    /** The normalised fields, under Sigma's names. */
    fields: z.record(z.string(), z.unknown()),
    /** The line as received (cut at 8 KiB). */
    raw: z.string(),
    parsed: z.boolean(),
  })
  .meta({ id: 'WatchEvent' });
export type WatchEventView = z.infer<typeof WatchEventView>;

export const WatchRuleKind = z.enum(['detection', 'correlation']);
export type WatchRuleKind = z.infer<typeof WatchRuleKind>;

export const WatchHitView = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    rule: z.object({
      id: z.string(),
      title: z.string(),
      level: z.string().nullable(),
      kind: WatchRuleKind,
      file: z.string(),
    }),
    /** A correlation's group-by fields and values. */
    group: z.record(z.string(), z.unknown()).nullable(),
    /** The count a correlation was judged on. */
    value: z.number().nullable(),
    /** Hits merged into this one as duplicates, itself included. */
    count: z.number().int().positive(),
    /** The stored events that made it (some may have been purged since). */
    eventIds: z.array(z.string()),
    /** The alert it raised or was merged into. */
    alertId: z.uuid().nullable(),
    /** The retro-hunt that found it; null for a hit of the live watch. */
    hunt: z.string().nullable(),
  })
  .meta({ id: 'WatchHit' });
export type WatchHitView = z.infer<typeof WatchHitView>;

/** One rule's hits over a window: what the console's rule table shows. */
export const RuleCount = z
  .object({
    ruleId: z.string(),
    title: z.string(),
    level: z.string().nullable(),
    kind: WatchRuleKind,
    /** Hits, merged duplicates included. */
    hits: z.number().int().nonnegative(),
    lastHitAt: z.iso.datetime(),
  })
  .meta({ id: 'WatchRuleCount' });
export type RuleCount = z.infer<typeof RuleCount>;

const Limit = z.coerce.number().int().min(1).max(WATCH_PAGE_MAX).default(100);

/** A search of the stored events; the language of `q` is described in the server's `search.ts`. */
export const WatchSearchQuery = z.object({
  /** e.g. `src_ip:203.0.113.0/24 user:"a b" -outcome:success "password mismatch"`. */
  q: z.string().max(1000).default(''),
  /** From this time, included. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Up to this time, excluded. */
  to: z.iso.datetime({ offset: true }).optional(),
  limit: Limit,
  /** The `next` of the page before: the following, older events. */
  before: WatchCursor.optional(),
});
export type WatchSearchQuery = z.infer<typeof WatchSearchQuery>;

export const WatchEventPage = z
  .object({ events: z.array(WatchEventView), next: WatchCursor.nullable() })
  .meta({ id: 'WatchEventPage' });
export type WatchEventPage = z.infer<typeof WatchEventPage>;

/** A listing of hits, newest first. */
export const WatchHitsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  ruleId: z.string().min(1).max(500).optional(),
  /** Only this retro-hunt's hits; without it, only the live watch's. */
  hunt: z.string().min(1).max(200).optional(),
  limit: Limit,
  before: WatchCursor.optional(),
});
export type WatchHitsQuery = z.infer<typeof WatchHitsQuery>;

export const WatchHitPage = z
  .object({ hits: z.array(WatchHitView), next: WatchCursor.nullable() })
  .meta({ id: 'WatchHitPage' });
export type WatchHitPage = z.infer<typeof WatchHitPage>;
