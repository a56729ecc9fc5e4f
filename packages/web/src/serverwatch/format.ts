/**
 * How the server watch's events, hits, alerts and blocks read in the console: the few fields a
 * row shows, a block's command as a shell would show it, the events an alert carries, and where a
 * broken rule's error points.
 */
import type { Alert, RuleCount, WatchEventView, WatchStatusView } from '@rempart/core';
import { z } from 'zod';

/** The fields a search result shows in columns; the rest are in the expanded row. */
export const keyFields = ['user', 'src_ip', 'action', 'outcome'] as const;
export type KeyField = (typeof keyFields)[number];

/**
 * A field's value as one line of text: strings as they are, numbers and booleans written out,
 * lists joined, anything else as JSON; undefined when absent or null.
 *
 * @example
 *   fieldText(['imap', 'pop3']) // → 'imap, pop3'
 */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return value.map((item) => fieldText(item) ?? '').join(', ');
  return JSON.stringify(value);
}

/** An event's key fields, as text. */
export function eventKeyFields(event: Pick<WatchEventView, 'fields'>): Record<KeyField, string | undefined> {
  return {
    user: fieldText(event.fields.user),
    src_ip: fieldText(event.fields.src_ip),
    action: fieldText(event.fields.action),
    outcome: fieldText(event.fields.outcome),
  };
}

/** Every field of an event, by name, as text: what its expanded row lists. */
export function fieldRows(fields: Readonly<Record<string, unknown>>): { name: string; value: string }[] {
  return Object.keys(fields)
    .sort((a, b) => a.localeCompare(b))
    .flatMap((name) => {
      const value = fieldText(fields[name]);
      return value === undefined ? [] : [{ name, value }];
    });
}

/**
 * A command's argv as a POSIX shell would take it: each argument bare when it holds only plain
 * characters, else in single quotes (a quote inside written `'\''`).
 *
 * @example
 *   commandLine(['nft', 'add', 'element', 'inet', 'rempart', 'blocked4', '{ 203.0.113.7 timeout 3600s }'])
 *   // → "nft add element inet rempart blocked4 '{ 203.0.113.7 timeout 3600s }'"
 */
export function commandLine(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** An event as a server watch alert carries it in its details. */
const AlertEvent = z.object({
  at: z.string(),
  raw: z.string(),
  fields: z.record(z.string(), z.unknown()).default({}),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

const WatchAlertDetails = z.object({
  ruleId: z.string().optional(),
  level: z.string().nullable().optional(),
  group: z.record(z.string(), z.unknown()).nullable().optional(),
  events: z.array(z.unknown()).optional(),
  eventIds: z.array(z.string()).optional(),
  count: z.number().optional(),
});

/**
 * The events a server watch alert carries (the last few that made its hit), those that can be
 * read; none for an alert of another source.
 */
export function alertEvents(alert: Pick<Alert, 'source' | 'details'>): AlertEvent[] {
  if (alert.source !== 'serverwatch') return [];
  const details = WatchAlertDetails.safeParse(alert.details);
  if (!details.success) return [];
  return (details.data.events ?? []).flatMap((event) => {
    const parsed = AlertEvent.safeParse(event);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The level and rule of a server watch alert, as far as its details say. */
export function alertRule(alert: Pick<Alert, 'details'>): {
  ruleId: string | undefined;
  level: string | null;
} {
  const details = WatchAlertDetails.safeParse(alert.details);
  return details.success
    ? { ruleId: details.data.ruleId, level: details.data.level ?? null }
    : { ruleId: undefined, level: null };
}

/**
 * Where a rule refused by the server went wrong, from its message (`file:line`, `line N`); undefined
 * when the message names no line.
 *
 * @example
 *   ruleErrorLine('pasted.yml:12: unknown modifier "contain"') // → 12
 */
export function ruleErrorLine(message: string): number | undefined {
  const match = /(?::(\d+)(?::\d+)?\b)|\bline (\d+)\b/i.exec(message);
  const line = Number(match?.[1] ?? match?.[2]);
  return Number.isInteger(line) && line > 0 ? line : undefined;
}

/** A duration in ms as the console writes it: ms under a second, seconds with one decimal above. */
export function durationParts(ms: number): { unit: 'ms' | 's'; value: number } {
  if (ms < 1000) return { unit: 'ms', value: Math.round(ms) };
  return { unit: 's', value: Math.round(ms / 100) / 10 };
}

/**
 * Each receiver of the status with what it received: the syslog transports, then the files; TLS
 * only when it is configured or received something.
 */
export function receiverRows(
  status: Pick<WatchStatusView, 'syslog' | 'files'>,
): { key: string; name: string; count: number }[] {
  const rows: { key: string; name: string; count: number }[] = [];
  const syslog = status.syslog;
  if (syslog !== null)
    for (const [transport, count] of Object.entries(syslog.messages).sort(([a], [b]) => a.localeCompare(b))) {
      // TLS is counted even when it is not configured: a line saying so would only confuse.
      if (transport === 'tls' && syslog.tlsPort === undefined && count === 0) continue;
      rows.push({ key: `syslog-${transport}`, name: transport, count });
    }
  for (const file of status.files)
    rows.push({ key: `file-${file.path}`, name: file.path, count: file.lines });
  return rows;
}

/** A count by name (drop reasons, sources), largest first. */
export function countsByName(counts: Readonly<Record<string, number>>): { name: string; count: number }[] {
  return Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** Rules by hits, most first (then by the latest hit); ties keep a stable order by title. */
export function rulesByHits(rules: readonly RuleCount[]): RuleCount[] {
  return [...rules].sort(
    (a, b) =>
      b.hits - a.hits || Date.parse(b.lastHitAt) - Date.parse(a.lastHitAt) || a.title.localeCompare(b.title),
  );
}

/**
 * Where line `line` (1-based) of `text` starts and ends, to put the caret on it; undefined when
 * the text has fewer lines.
 *
 * @example
 *   lineRange('a\nbc\n', 2) // → { start: 2, end: 4 }
 */
export function lineRange(text: string, line: number): { start: number; end: number } | undefined {
  if (!Number.isInteger(line) || line < 1) return undefined;
  let start = 0;
  for (let current = 1; current < line; current += 1) {
    const newline = text.indexOf('\n', start);
    if (newline === -1) return undefined;
    start = newline + 1;
  }
  const newline = text.indexOf('\n', start);
  return { start, end: newline === -1 ? text.length : newline };
}
