/**
 * De-duplication and throttling of hits before they become alerts, so that a brute force of ten
 * thousand attempts is one alert that counts them, not ten thousand alerts.
 *
 * - A hit's **key** is its rule and its group: a correlation's group (`src_ip`, `user`… as the rule
 *   groups by), or for a detection the event's `groupFields` that are present (its source address
 *   and account by default). A hit whose key has an alert open is **merged** into it (its count
 *   grows and its last events are kept, capped) instead of raising another.
 * - An alert stays open for `windowMs` from when it was raised, not from its last hit: an attack
 *   that goes on for an hour then gives one alert per window, each a reminder that it still goes
 *   on, rather than one alert that went quiet in the console an hour ago.
 * - At most `maxAlertsPerMinute` alerts are raised per rule in any 60 s; the hits beyond are
 *   **suppressed**, counted, and the count is reported with the rule's next alert
 *   (`suppressedBefore`), so that a rule firing on a whole botnet cannot flood the alert stream,
 *   and its silence is never mistaken for quiet.
 * - Memory is bounded: at most `maxKeys` open alerts (the least recently hit is forgotten first)
 *   and `maxRules` rules' counters, each alert holding at most `maxEventsPerAlert` events.
 *
 * Time is given, never read: `now` is Unix milliseconds (the service passes its clock's time,
 * tests pass numbers).
 *
 * @example
 *   const throttle = new HitThrottle({ windowMs: 600_000, maxAlertsPerMinute: 10 });
 *   for (const hit of detector.push(event)) {
 *     const decision = throttle.offer(hit, Date.now());
 *     if (decision.action === 'raise') {
 *       const alert = await alerts.raise({ ...describe(hit), suppressed: decision.suppressedBefore });
 *       throttle.attach(decision.key, alert.id); // later merges name it
 *     } else if (decision.action === 'merge') {
 *       // decision.alert: { alertId, count, events, firstTime, lastTime, … } to update the alert
 *     } // 'suppress': counted, reported with the rule's next 'raise'
 *   }
 */
import { RempartError } from '@rempart/core';
import { z } from 'zod';
import type { FieldValue, WatchEvent } from '../event.js';
import type { WatchHit } from '../detector.js';

export const ThrottleOptions = z.object({
  /** How long an alert stays open to merge the hits of its key, from when it was raised. */
  windowMs: z
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000)
    .default(600_000),
  /** Alerts raised per rule in any 60 s, at most. */
  maxAlertsPerMinute: z.number().int().min(1).max(10_000).default(10),
  /** Open alerts remembered at once; past it, the least recently hit one is forgotten. */
  maxKeys: z.number().int().min(1).max(10_000_000).default(10_000),
  /** Rules whose raise times and suppressed counts are remembered at once. */
  maxRules: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Events an open alert keeps (the last ones). */
  maxEventsPerAlert: z.number().int().min(0).max(10_000).default(20),
  /**
   * The fields of a detection's event that make its group, those present: the source address and
   * the account, under the names the mail parsers give them (`src_ip`, `user`) and those of the web
   * server logs (`c-ip`, `cs-username`) and of Windows (`IpAddress`, `TargetUserName`).
   */
  groupFields: z
    .array(z.string().min(1))
    .max(16)
    .default(['src_ip', 'c-ip', 'IpAddress', 'user', 'cs-username', 'TargetUserName']),
});
export type ThrottleOptions = z.input<typeof ThrottleOptions>;

/** What an open alert holds: what a merge tells the service, to update the alert it raised. */
export interface OpenAlert {
  key: string;
  ruleId: string;
  /** The group the key was made of (a correlation's, or the detection's fields). */
  group: Record<string, FieldValue>;
  /** The id `attach()` gave it, once the alert was stored. */
  alertId?: string;
  raisedAt: number;
  /** Until when hits of the key are merged into it. */
  openUntil: number;
  /** Hits in it, the one that raised it included. */
  count: number;
  /** The hits' times: the first and the last. */
  firstTime: number;
  lastTime: number;
  /** The last events, capped at `maxEventsPerAlert`, oldest first. */
  events: WatchEvent[];
}

export type ThrottleDecision =
  | {
      action: 'raise';
      key: string;
      group: Record<string, FieldValue>;
      /** Hits of this rule suppressed since its previous alert, to report with this one. */
      suppressedBefore: number;
    }
  | { action: 'merge'; key: string; count: number; alert: Readonly<OpenAlert> }
  | { action: 'suppress'; key: string };

export interface ThrottleStats {
  offered: number;
  raised: number;
  merged: number;
  suppressed: number;
  /** Suppressed hits not yet reported with an alert of their rule. */
  suppressedPending: number;
  /** Open alerts remembered now. */
  openAlerts: number;
  /** Open alerts forgotten to keep within `maxKeys` (a later hit of theirs raises anew). */
  evicted: number;
  /** Rules with counters remembered now. */
  rules: number;
}

interface RuleState {
  /** When the rule's alerts of the last 60 s were raised, oldest first; at most the cap. */
  raises: number[];
  /** Suppressed since the rule's last alert. */
  suppressed: number;
}

const MINUTE = 60_000;

export class HitThrottle {
  private readonly options: z.output<typeof ThrottleOptions>;
  // Maps iterate in insertion order: deleting and setting again on each use keeps the least
  // recently used first, which is all an LRU needs.
  private readonly open = new Map<string, OpenAlert>();
  private readonly rules = new Map<string, RuleState>();
  private counts = { offered: 0, raised: 0, merged: 0, suppressed: 0, evicted: 0 };

  constructor(options: ThrottleOptions = {}) {
    const parsed = ThrottleOptions.safeParse(options);
    if (!parsed.success)
      throw RempartError.validation('Invalid alert throttling options.', { issues: parsed.error.issues });
    this.options = parsed.data;
  }

  /** The key and group of `hit`: its rule and its correlation group or its event's group fields. */
  keyOf(hit: WatchHit): { key: string; group: Record<string, FieldValue> } {
    const group: Record<string, FieldValue> = {};
    if (hit.rule.kind === 'correlation' || hit.group !== undefined) {
      for (const [name, value] of Object.entries(hit.group ?? {})) group[name] = value as FieldValue;
    } else {
      const fields = hit.events[0]?.fields ?? {};
      for (const name of this.options.groupFields) {
        const value = fields[name];
        if (value !== undefined && value !== null && value !== '') group[name] = value;
      }
    }
    // Names sorted: the same group makes the same key whatever order its fields came in.
    const entries = Object.keys(group)
      .sort()
      .map((name) => [name, group[name]]);
    return { key: `${hit.rule.id}\n${JSON.stringify(entries)}`, group };
  }

  /** Decides what `hit`, seen at `now`, becomes; see the file's head. */
  offer(hit: WatchHit, now: number): ThrottleDecision {
    this.counts.offered++;
    const { key, group } = this.keyOf(hit);
    const current = this.open.get(key);
    if (current !== undefined) {
      if (now < current.openUntil) {
        this.open.delete(key);
        this.open.set(key, current);
        current.count++;
        current.firstTime = Math.min(current.firstTime, hit.time);
        current.lastTime = Math.max(current.lastTime, hit.time);
        this.keepEvents(current, hit.events);
        this.counts.merged++;
        return { action: 'merge', key, count: current.count, alert: current };
      }
      this.open.delete(key);
    }
    const rule = this.ruleState(hit.rule.id);
    while (rule.raises.length > 0 && rule.raises[0]! <= now - MINUTE) rule.raises.shift();
    if (rule.raises.length >= this.options.maxAlertsPerMinute) {
      rule.suppressed++;
      this.counts.suppressed++;
      return { action: 'suppress', key };
    }
    rule.raises.push(now);
    const suppressedBefore = rule.suppressed;
    rule.suppressed = 0;
    const alert: OpenAlert = {
      key,
      ruleId: hit.rule.id,
      group,
      raisedAt: now,
      openUntil: now + this.options.windowMs,
      count: 1,
      firstTime: hit.time,
      lastTime: hit.time,
      events: [],
    };
    this.keepEvents(alert, hit.events);
    this.open.set(key, alert);
    this.evictBeyond(this.open, this.options.maxKeys, () => this.counts.evicted++);
    this.counts.raised++;
    return { action: 'raise', key, group, suppressedBefore };
  }

  /** Names the stored alert of `key` (what `alerts.raise` returned); false when it is no longer open. */
  attach(key: string, alertId: string): boolean {
    const alert = this.open.get(key);
    if (alert === undefined) return false;
    alert.alertId = alertId;
    return true;
  }

  /** The open alert of `key`, if any and still open at `now`. */
  get(key: string, now: number): Readonly<OpenAlert> | undefined {
    const alert = this.open.get(key);
    return alert !== undefined && now < alert.openUntil ? alert : undefined;
  }

  /** Forgets the alerts closed by `now` (they are forgotten lazily anyway; this frees memory early). */
  sweep(now: number): number {
    let removed = 0;
    for (const [key, alert] of this.open)
      if (now >= alert.openUntil) {
        this.open.delete(key);
        removed++;
      }
    for (const [id, rule] of this.rules) {
      while (rule.raises.length > 0 && rule.raises[0]! <= now - MINUTE) rule.raises.shift();
      if (rule.raises.length === 0 && rule.suppressed === 0) this.rules.delete(id);
    }
    return removed;
  }

  stats(): ThrottleStats {
    let suppressedPending = 0;
    for (const rule of this.rules.values()) suppressedPending += rule.suppressed;
    return {
      ...this.counts,
      suppressedPending,
      openAlerts: this.open.size,
      rules: this.rules.size,
    };
  }

  private ruleState(id: string): RuleState {
    let rule = this.rules.get(id);
    if (rule === undefined) rule = { raises: [], suppressed: 0 };
    else this.rules.delete(id);
    this.rules.set(id, rule);
    this.evictBeyond(this.rules, this.options.maxRules);
    return rule;
  }

  private keepEvents(alert: OpenAlert, events: readonly WatchEvent[]): void {
    const max = this.options.maxEventsPerAlert;
    if (max === 0) return;
    const incoming = events.length > max ? events.slice(events.length - max) : events;
    alert.events.push(...incoming);
    if (alert.events.length > max) alert.events.splice(0, alert.events.length - max);
  }

  private evictBeyond<V>(map: Map<string, V>, max: number, onEvict?: () => void): void {
    while (map.size > max) {
      const oldest = map.keys().next();
      if (oldest.done === true) return;
      map.delete(oldest.value);
      onEvict?.();
    }
  }
}
