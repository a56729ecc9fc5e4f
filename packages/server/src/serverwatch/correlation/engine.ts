/**
 * Runs Sigma correlation rules (see `correlation.ts`) over a live stream: it is fed every event in
 * time order with the ids of the detection rules that matched it, keeps one sliding window per
 * correlation and `group-by` value, and answers with the correlations that hold.
 *
 * When a hit is raised. Sigma's specification describes queries over stored logs; a live engine
 * must also say when it speaks, and these are its choices:
 * - A condition that only sets a floor (`gt`, `gte`, the implicit "all rules" of `temporal`, and
 *   any condition of `temporal_ordered`, which must mean all of its rules) holds as soon as the
 *   events within the last `timespan` (both ends included) pass it: the hit is raised on the event
 *   that makes it, without waiting. The events that made it are then consumed — the group starts
 *   again empty — so that a hundred failed logins with `gte: 10` raise ten hits, not ninety-one.
 * - A condition with a ceiling (`lt`, `lte`, `eq`, `neq`, or a range such as `gt: 100, lte: 200`)
 *   cannot be judged before the window is over, since more events could still come. Such a window
 *   opens at a group's first event, closes `timespan` later (an event exactly then is in it), and
 *   is judged when the stream's time passes its end: the next event, `advance(now)` from a live
 *   service's timer, or `flush()` at the end of a scan.
 *
 * Groups and fields. `group-by` fields are read from each event (aliases resolved per rule, spec
 * § Field Name Aliases). The specification does not say what a missing field is: here it is a
 * value of its own, distinct from `null` and from the empty string, so that events lacking it are
 * still correlated among themselves rather than silently left out. `value_count` counts nothing
 * for an event lacking `condition.field` (it has no value to count). `temporal` counts one event
 * for every rule it matched; `temporal_ordered` needs one event per rule, each pushed after the
 * previous one, so that one event never follows itself.
 *
 * Chains (spec § Related rules): a correlation may use another's hits; each such hit reaches it as
 * an event at the hit's last time (or, for a window judged later, the time it was judged), with
 * the fields of its last event and its group values, and brings along the events that made it.
 *
 * Memory stays bounded: a group whose events are all older than the timespan is dropped, counting
 * stops where the condition's answer can no longer change, only the events a hit may show are
 * kept, and each correlation holds at most `maxGroups` groups — past it the least recently seen
 * group is dropped and counted in `stats()`.
 */
import { z } from 'zod';
import type { FieldValue, WatchEvent } from '../event.js';
import {
  conditionHolds,
  isFloorOnly,
  saturation,
  SigmaCorrelationError,
  type CorrelationRule,
} from './correlation.js';
import { GroupIndex, groupKey, keyOf, type Grouped } from './groups.js';

/**
 * What the correlation engine needs of a detection rule: the detection engine's own type has more,
 * and this module does not depend on it. Events arrive with the `id`s of the rules they matched;
 * correlations may name a rule by `id` or by `name`.
 */
export interface RuleRef {
  id: string;
  name?: string;
  title: string;
  level?: string;
}

/** A correlation that holds for one group. */
export interface CorrelationHit {
  rule: CorrelationRule;
  /** The group, as one stable string (the same group always gives the same key). */
  groupKey: string;
  /** The group: each `group-by` name and its value; a name whose field the events lack is absent. */
  group: Record<string, FieldValue>;
  /** The events that made the hit, in time order; only the last `maxEventsPerHit` when there are more. */
  events: WatchEvent[];
  /** How many events made the hit, `events` capped or not. */
  eventCount: number;
  firstTime: number;
  lastTime: number;
  /** The count the condition was judged on: events, distinct values or rules, by type. */
  value: number;
  /** Set when counting stopped at `value` because the answer could no longer change past it. */
  atLeast?: true;
}

export interface CorrelationStats {
  /** Groups held now, over every correlation. */
  groups: number;
  /** Groups dropped because a correlation held `maxGroups` already: their events were forgotten. */
  droppedGroups: number;
  /** Events older than one already seen, or without a usable time, counted at the latest time seen. */
  lateEvents: number;
  byRule: { rule: string; groups: number; droppedGroups: number }[];
}

const Options = z
  .object({
    /** The detection rules correlations refer to (by id or name). */
    rules: z.array(z.custom<RuleRef>((r) => typeof (r as RuleRef | null)?.id === 'string')).default([]),
    /** Groups held per correlation before the least recently seen is dropped. */
    maxGroups: z.number().int().positive().default(10_000),
    /** Events attached to a hit, at most (the most recent are kept). */
    maxEventsPerHit: z.number().int().positive().default(100),
    /**
     * Also return the hits of correlations that others use without `generate: true` (spec
     * § Generate: by default only the outermost correlation is reported).
     */
    reportReferenced: z.boolean().default(false),
  })
  .strict();
export type CorrelationEngineOptions = z.input<typeof Options>;

/** A base event, or another correlation's hit, as a correlation sees it. */
interface Item {
  time: number;
  /** The earliest time of what it stands for (a hit's `firstTime`). */
  first: number;
  /** Push order: what "in order" means for `temporal_ordered`, whatever the clock says. */
  seq: number;
  /** Whose fields the group-by and value fields are read from. */
  event: WatchEvent;
  /** The events it brings to a hit (none once stripped: see `strip`). */
  events: WatchEvent[];
  /** How many events it stands for. */
  count: number;
}

const STRIPPED: WatchEvent = { time: 0, logsource: {}, fields: {}, raw: '', parsed: false };

/**
 * An item that will never be shown (a hit shows the latest `maxEventsPerHit` events) keeps only
 * its time and count, so that a window of a large threshold holds numbers, not log lines.
 */
function strip(item: Item): Item {
  return {
    time: item.time,
    first: item.first,
    seq: item.seq,
    event: STRIPPED,
    events: [],
    count: item.count,
  };
}

/** A group as its correlation's `GroupIndex` holds it (`live` false once a window's group is dropped). */
interface GroupBase extends Grouped {
  group: Record<string, FieldValue>;
  /** When it last took an event: a floor group untouched for a timespan holds nothing any more. */
  last: number;
}
/** event_count with a floor: the window's items, oldest first, from `head`. */
interface CountState extends GroupBase {
  kind: 'count';
  items: Item[];
  head: number;
}
/** value_count / temporal with a floor: the latest item of each value / rule, oldest first. */
interface LatestState extends GroupBase {
  kind: 'latest';
  latest: Map<string | number, Item>;
  /** The key set last: the last of `latest` while it is there. */
  newest: string | number | undefined;
  /**
   * No item of `latest` is older than this (a lower bound: items only give way to later ones), so
   * that most events need not look at the oldest.
   */
  since: number;
}
/** temporal_ordered: for each prefix of the rules, the chain seen so far that started latest. */
interface OrderedState extends GroupBase {
  kind: 'ordered';
  chains: (Item[] | undefined)[];
}
/** A condition with a ceiling: one window from the group's first event, judged when it is over. */
interface WindowState extends GroupBase {
  kind: 'window';
  closeAt: number;
  count: number;
  values: Set<string | number>;
  /** The most recent items (the hit shows only so many) and how many events they all held. */
  items: Item[];
  added: number;
  eventCount: number;
  first: number;
}
type GroupState = CountState | LatestState | OrderedState | WindowState;

interface Compiled {
  rule: CorrelationRule;
  name: string;
  /** Per index of `rule.rules`: the fields `group-by` reads, aliases resolved. */
  groupFields: string[][];
  /** Per index of `rule.rules`: the fields `value_count` counts, aliases resolved. */
  valueFields: string[][];
  floor: boolean;
  limit: number;
  groups: GroupIndex<GroupState>;
  /** The `group-by` values of the event being fed (one event updates one group at a time). */
  scratch: (FieldValue | undefined)[];
  /** The one counted value of the event being fed (value_count, one rule: the usual case). */
  oneValue: string[];
  /** Ceiling windows in the order they close (all have the same length, so in opening order). */
  closing: WindowState[];
  closingHead: number;
  dropped: number;
  clock: number;
  /**
   * No window closes and no group expires before this time (a lower bound): most events need
   * not look at this correlation's groups at all.
   */
  due: number;
  reported: boolean;
  /** The correlations that use this one's hits, and where it stands in their `rules`. */
  consumers: { index: number; ruleIndex: number }[];
}

/**
 * A stateful correlation engine.
 *
 * @example
 *   const engine = new CorrelationEngine([loadCorrelation(doc, 'mr_brute_force.yml')], {
 *     rules: [{ id: '53ba33fd-…', name: 'failed_login', title: 'Single failed login' }],
 *   });
 *   for (const { event, matched } of stream) for (const hit of engine.push(event, matched)) alert(hit);
 *   for (const hit of engine.flush()) alert(hit); // at the end of a scan
 */
export class CorrelationEngine {
  private readonly compiled: Compiled[];
  /** Detection rule id → the correlations that refer to it, and where. */
  private readonly routes = new Map<string, { index: number; ruleIndex: number }[]>();
  /** Where each correlation comes when an event reaches several: users of others first. */
  private readonly rank: number[] = [];
  private readonly maxGroups: number;
  private readonly maxEvents: number;
  /**
   * Detection rule id → the correlations that refer to it as `feed` takes them, in `rank` order:
   * what `push` would work out for an event that matched this rule alone (the usual case).
   */
  private readonly targets = new Map<string, { index: number; ruleIndexes: number[] }[]>();
  private clock = -Infinity;
  /**
   * The latest time every correlation was moved to without looking at it, because none was due
   * then (see `advanceAll`); a correlation's own `clock` is read as at least this.
   */
  private passedClock = -Infinity;
  /** No correlation is due before this time (a lower bound of every `Compiled.due`). */
  private due = Infinity;
  private seq = 0;
  /** What `pass` fills, empty between calls. */
  private readonly passing: CorrelationHit[] = [];
  private late = 0;
  /** Detection rules whose own hits should not be reported (spec § Generate). */
  readonly silencedRules: ReadonlySet<string>;

  constructor(rules: readonly CorrelationRule[], options: CorrelationEngineOptions = {}) {
    const parsed = Options.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SigmaCorrelationError('engine options', issue.path.join('.') || 'options', issue.message);
    }
    const { rules: base, maxGroups, maxEventsPerHit, reportReferenced } = parsed.data;
    this.maxGroups = maxGroups;
    this.maxEvents = maxEventsPerHit;

    const baseById = new Map(base.map((r) => [r.id, r]));
    const baseByName = new Map(base.flatMap((r) => (r.name === undefined ? [] : [[r.name, r] as const])));
    const corrById = new Map<string, number>();
    const corrByName = new Map<string, number>();
    rules.forEach((rule, index) => {
      for (const [label, map, value] of [
        ['id', corrById, rule.id],
        ['name', corrByName, rule.name],
      ] as const) {
        if (value === undefined) continue;
        const other = map.get(value);
        if (other !== undefined) {
          throw new SigmaCorrelationError(
            rule.file,
            label,
            `${value} is also the ${label} of "${rules[other]!.title}"`,
          );
        }
        map.set(value, index);
      }
    });

    type Resolved = { kind: 'rule'; id: string } | { kind: 'correlation'; index: number };
    const resolve = (rule: CorrelationRule, ref: string): Resolved => {
      // Spec § Related rules: a rule is referred to by its id or its name.
      const byId = corrById.get(ref);
      if (byId !== undefined) return { kind: 'correlation', index: byId };
      const baseRule = baseById.get(ref) ?? baseByName.get(ref);
      if (baseRule) return { kind: 'rule', id: baseRule.id };
      const byName = corrByName.get(ref);
      if (byName !== undefined) return { kind: 'correlation', index: byName };
      throw new SigmaCorrelationError(rule.file, 'correlation.rules', `no rule has the id or name ${ref}`);
    };

    const resolved = rules.map((rule) => {
      const refs = rule.rules.map((ref) => resolve(rule, ref));
      const targets = refs.map((r) => (r.kind === 'rule' ? `rule ${r.id}` : `correlation ${r.index}`));
      const twice = targets.findIndex((t, i) => targets.indexOf(t) !== i);
      if (twice >= 0) {
        const first = rule.rules[targets.indexOf(targets[twice]!)]!;
        throw new SigmaCorrelationError(
          rule.file,
          'correlation.rules',
          `${first} and ${rule.rules[twice]!} are the same rule`,
        );
      }
      return refs;
    });
    this.compiled = rules.map((rule, index) => {
      const ruleKeys = rule.rules.map((ref, i) => {
        // Aliases are keyed by the reference as written; accept the rule's other identifier too.
        const r = resolved[index]![i]!;
        const other =
          r.kind === 'rule' ? [r.id, baseById.get(r.id)?.name] : [rules[r.index]!.id, rules[r.index]!.name];
        return [ref, ...other].filter((k): k is string => k !== undefined);
      });
      const fieldFor = (name: string, i: number): string => {
        if (!Object.hasOwn(rule.aliases, name)) return name;
        const alias = rule.aliases[name]!;
        // An alias without an entry for this rule reads the field of that name as it is.
        for (const k of ruleKeys[i]!) if (Object.hasOwn(alias, k)) return alias[k]!;
        return name;
      };
      return {
        rule,
        name: rule.id ?? rule.name ?? rule.title,
        groupFields: rule.rules.map((_, i) => rule.groupBy.map((g) => fieldFor(g, i))),
        valueFields: rule.rules.map((_, i) => (rule.field ?? []).map((f) => fieldFor(f, i))),
        // temporal_ordered only runs a condition that means all its rules (the loader sees to it):
        // complete, the chain can only stay complete.
        floor: rule.type === 'temporal_ordered' || isFloorOnly(rule.condition),
        limit: saturation(rule.condition),
        groups: new GroupIndex<GroupState>(),
        scratch: rule.groupBy.map(() => undefined),
        oneValue: [''],
        closing: [],
        closingHead: 0,
        dropped: 0,
        clock: -Infinity,
        due: Infinity,
        reported: true,
        consumers: [],
      };
    });

    const silenced = new Set<string>();
    const generated = new Set<string>();
    resolved.forEach((refs, index) => {
      const rule = rules[index]!;
      refs.forEach((r, ruleIndex) => {
        if (r.kind === 'rule') {
          const routes = this.routes.get(r.id) ?? [];
          routes.push({ index, ruleIndex });
          this.routes.set(r.id, routes);
          (rule.generate ? generated : silenced).add(r.id);
        } else {
          this.compiled[r.index]!.consumers.push({ index, ruleIndex });
          if (!rule.generate && !reportReferenced) this.compiled[r.index]!.reported = false;
        }
      });
    });
    for (const id of generated) silenced.delete(id);
    this.silencedRules = silenced;
    for (const c of this.compiled) {
      // Reported when any user generates it, or nobody uses it.
      if (c.consumers.some(({ index }) => rules[index]!.generate)) c.reported = true;
    }

    // Spec § Related rules allows chains; a cycle would feed a correlation its own hits forever.
    const state = new Array<0 | 1 | 2>(rules.length).fill(0);
    const visit = (index: number, path: number[]): void => {
      if (state[index] === 2) return;
      if (state[index] === 1) {
        const names = [...path.slice(path.indexOf(index)), index].map((i) => this.compiled[i]!.name);
        throw new SigmaCorrelationError(
          rules[index]!.file,
          'correlation.rules',
          `a cycle: ${names.join(' → ')}`,
        );
      }
      state[index] = 1;
      for (const r of resolved[index]!) if (r.kind === 'correlation') visit(r.index, [...path, index]);
      state[index] = 2;
      producersFirst.push(index);
    };
    const producersFirst: number[] = [];
    rules.forEach((_, i) => visit(i, []));
    // An event reaches the correlations using others before those others: then a hit it raises
    // reaches them after the event itself, as its order (`seq`) says.
    producersFirst.forEach((index, position) => (this.rank[index] = rules.length - position));
    for (const [id, routes] of this.routes) {
      const sorted = [...routes].sort((a, b) => this.rank[a.index]! - this.rank[b.index]!);
      this.targets.set(
        id,
        sorted.map(({ index, ruleIndex }) => ({ index, ruleIndexes: [ruleIndex] })),
      );
    }
  }

  /**
   * Feeds one event and the ids of the detection rules it matched; returns the hits it raised,
   * including windows it closed by moving time on. Events should come in time order: one older
   * than the latest seen is counted at the latest time seen (see `stats().lateEvents`).
   */
  push(event: WatchEvent, matchedRuleIds: readonly string[]): CorrelationHit[] {
    const out: CorrelationHit[] = [];
    const time = this.moveTo(event.time, out);
    const seq = 2 * this.seq++;
    if (matchedRuleIds.length === 0) return out;
    if (matchedRuleIds.length === 1) {
      // A correlation refers to a detection rule once at most (the constructor sees to it): one
      // rule index per correlation, already in rank order.
      const targets = this.targets.get(matchedRuleIds[0]!);
      if (targets === undefined) return out;
      const item: Item = { time, first: time, seq, event, events: [event], count: 1 };
      for (const { index, ruleIndexes } of targets) this.feed(index, item, ruleIndexes, out);
      return out;
    }
    const pending = new Map<number, number[]>();
    for (const id of matchedRuleIds) {
      for (const { index, ruleIndex } of this.routes.get(id) ?? []) {
        const ruleIndexes = pending.get(index);
        if (!ruleIndexes) pending.set(index, [ruleIndex]);
        else if (!ruleIndexes.includes(ruleIndex)) ruleIndexes.push(ruleIndex);
      }
    }
    if (pending.size === 0) return out;
    const item: Item = { time, first: time, seq, event, events: [event], count: 1 };
    const order = [...pending].sort(([a], [b]) => this.rank[a]! - this.rank[b]!);
    for (const [index, ruleIndexes] of order) this.feed(index, item, ruleIndexes, out);
    return out;
  }

  /** `push` of an event at `time` that matched no rule, without the event: time moves on. */
  pass(time: number): readonly CorrelationHit[] {
    // Most events close no window: the list they fill is kept, and handed out only when it holds some.
    const out = this.passing;
    this.moveTo(time, out);
    this.seq++;
    return out.length === 0 ? NO_HITS : out.splice(0);
  }

  /** An event's time, as the engine counts it (the latest seen when it is older), and time moved on to it. */
  private moveTo(eventTime: number, out: CorrelationHit[]): number {
    const usable = Number.isFinite(eventTime);
    if (!usable || eventTime < this.clock) this.late++;
    const time = usable ? Math.max(eventTime, this.clock) : Number.isFinite(this.clock) ? this.clock : 0;
    this.advanceAll(time, out);
    return time;
  }

  /** Moves time on without an event (a live service's timer): closes windows that are over. */
  advance(now: number): CorrelationHit[] {
    const out: CorrelationHit[] = [];
    if (now > this.clock) this.advanceAll(now, out);
    return out;
  }

  /** The end of the stream (an offline scan): judges every window still open, then forgets them. */
  flush(): CorrelationHit[] {
    const out: CorrelationHit[] = [];
    this.advanceAll(Infinity, out);
    return out;
  }

  stats(): CorrelationStats {
    const byRule = this.compiled.map((c) => ({
      rule: c.name,
      groups: c.groups.size,
      droppedGroups: c.dropped,
    }));
    return {
      groups: byRule.reduce((n, r) => n + r.groups, 0),
      droppedGroups: byRule.reduce((n, r) => n + r.droppedGroups, 0),
      lateEvents: this.late,
      byRule,
    };
  }

  private advanceAll(time: number, out: CorrelationHit[]): void {
    if (time !== Infinity) {
      this.clock = time;
      if (time <= this.due) {
        // Nothing is due: all `advanceTo` would do is move each correlation's clock, which
        // `passedClock` does for all of them at once.
        this.passedClock = time;
        return;
      }
    }
    for (let index = 0; index < this.compiled.length; index++) this.advanceTo(index, time, out);
    // After every one has moved: a hit raised by one may have fed a group of another already moved.
    let due = Infinity;
    for (const c of this.compiled) due = Math.min(due, c.due);
    this.due = due;
  }

  /** Closes the ceiling windows over before `time` and drops floor groups that hold nothing. */
  private advanceTo(index: number, time: number, out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    const span = c.rule.timespanMs;
    if (c.clock < this.passedClock) c.clock = this.passedClock;
    // What happens from now on happens now: a hit raised by closing a window reaches the
    // correlations using it at this time, never before windows already judged.
    if (time !== Infinity) c.clock = Math.max(c.clock, time);
    if (!(time > c.due)) return;
    while (c.closingHead < c.closing.length && c.closing[c.closingHead]!.closeAt < time) {
      const window = c.closing[c.closingHead++]!;
      // A window dropped by the group cap, or already judged, is no longer the group's.
      if (!window.live) continue;
      c.groups.delete(window);
      const value = c.rule.type === 'event_count' ? window.count : window.values.size;
      if (conditionHolds(c.rule.condition, value)) {
        const saturated = c.rule.type !== 'event_count' && value >= c.limit;
        const hit = this.hit(c, window, window.items, value, window.first, window.closeAt, saturated);
        // Past `2 * maxEventsPerHit` items the window kept only the latest: count them all.
        const trimmed = window.added > window.items.length;
        this.emit(index, trimmed ? { ...hit, eventCount: window.eventCount } : hit, out);
      }
    }
    if (c.closingHead > 1024 && c.closingHead * 2 > c.closing.length) {
      c.closing.splice(0, c.closingHead);
      c.closingHead = 0;
    }
    c.due = c.closing[c.closingHead]?.closeAt ?? Infinity;
    if (c.floor) {
      // The least recently fed groups are the stale ones.
      for (let group = c.groups.leastRecent; group !== undefined; group = c.groups.leastRecent) {
        if (group.last >= time - span) {
          c.due = group.last + span;
          break;
        }
        c.groups.delete(group);
      }
    }
  }

  private feed(index: number, item: Item, ruleIndexes: number[], out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    if (c.clock < this.passedClock) c.clock = this.passedClock;
    // Hits of other correlations may reach a correlation a little out of time order.
    const time = Math.max(item.time, c.clock);
    c.clock = time;
    const at = time === item.time ? item : { ...item, time };
    this.advanceTo(index, time, out);

    const { fields } = at.event;
    if (ruleIndexes.length === 1) {
      // The usual case: one group, its values read into the correlation's scratch list.
      readFields(fields, c.groupFields[ruleIndexes[0]!]!, c.scratch);
      this.update(index, c.scratch, at, ruleIndexes, out);
      return;
    }
    // One event may fall in several groups when aliases read different fields for different rules.
    const byGroup = new Map<string, { values: (FieldValue | undefined)[]; ruleIndexes: number[] }>();
    for (const ruleIndex of ruleIndexes) {
      const values = readFields(fields, c.groupFields[ruleIndex]!, []);
      const key = keyOf(values);
      const entry = byGroup.get(key);
      if (entry) entry.ruleIndexes.push(ruleIndex);
      else byGroup.set(key, { values, ruleIndexes: [ruleIndex] });
    }
    for (const { values, ruleIndexes: inGroup } of byGroup.values()) {
      this.update(index, values, at, inGroup, out);
    }
  }

  private update(
    index: number,
    groupValues: (FieldValue | undefined)[],
    item: Item,
    ruleIndexes: number[],
    out: CorrelationHit[],
  ): void {
    const c = this.compiled[index]!;
    const { rule } = c;
    const t = item.time;

    // value_count: an event lacking the counted field has no value to count (spec § Value Count).
    // With one rule (the usual case) its one value, else the distinct values of all. What the
    // event adds to its group: those values, or (other types) the rules it matched.
    let keys: readonly (string | number)[] = ruleIndexes;
    if (rule.type === 'value_count') {
      if (ruleIndexes.length === 1) {
        const value = valueOf(c.valueFields[ruleIndexes[0]!]!, item.event.fields);
        if (value === undefined) return;
        c.oneValue[0] = value;
        keys = c.oneValue;
      } else {
        const distinct = new Set<string>();
        for (const i of ruleIndexes) {
          const found = valueOf(c.valueFields[i]!, item.event.fields);
          if (found !== undefined) distinct.add(found);
        }
        if (distinct.size === 0) return;
        keys = [...distinct];
      }
    }

    let state = c.groups.get(groupValues);
    if (state) {
      c.groups.touch(state);
    } else if (rule.type === 'temporal_ordered' && !ruleIndexes.includes(0)) {
      // Only the first rule starts a chain: any other finds nothing to follow in a new group, which
      // is then not made (most successful logins, in the rule of a login after many failures).
      return;
    } else {
      state = this.newGroup(c, groupValues, t);
    }
    state.last = t;
    if (t + rule.timespanMs < c.due) {
      c.due = t + rule.timespanMs;
      if (c.due < this.due) this.due = c.due;
    }
    // Each kind on its own: a path taken for the first time (a first hit, a new kind of group)
    // sends only its own small function back to be compiled again, not all of them.
    switch (state.kind) {
      case 'window':
        this.addToWindow(c, state, keys, item);
        return;
      case 'count':
        this.addToCount(index, c, state, item, out);
        return;
      case 'latest':
        this.addToLatest(index, c, state, keys, item, out);
        return;
      case 'ordered':
        this.addToOrdered(index, c, state, ruleIndexes, item, out);
        return;
    }
  }

  /** A group for `groupValues`, made and indexed (the least recently fed one dropped at the cap). */
  private newGroup(c: Compiled, groupValues: (FieldValue | undefined)[], t: number): GroupState {
    if (c.groups.size >= this.maxGroups) {
      if (c.groups.leastRecent !== undefined) c.groups.delete(c.groups.leastRecent);
      c.dropped++;
    }
    const kept = groupValues.slice();
    const group: Record<string, FieldValue> = {};
    for (let i = 0; i < c.rule.groupBy.length; i++) {
      const v = kept[i];
      if (v !== undefined) group[c.rule.groupBy[i]!] = v;
    }
    const state = this.newState(c, kept, group, t);
    c.groups.add(state);
    return state;
  }

  private addToWindow(c: Compiled, state: WindowState, keys: readonly (string | number)[], item: Item): void {
    if (c.rule.type === 'event_count') state.count++;
    for (const v of keys) if (state.values.size < c.limit) state.values.add(v);
    state.items.push(item);
    state.added++;
    state.eventCount += item.count;
    if (state.items.length > 2 * this.maxEvents) state.items.splice(0, state.items.length - this.maxEvents);
  }

  private addToCount(index: number, c: Compiled, state: CountState, item: Item, out: CorrelationHit[]): void {
    const t = item.time;
    const oldest = t - c.rule.timespanMs;
    while (state.head < state.items.length && state.items[state.head]!.time < oldest) state.head++;
    state.items.push(item);
    const shown = state.items.length - 1 - this.maxEvents;
    if (shown >= state.head && state.items[shown]!.events.length > 0) {
      state.items[shown] = strip(state.items[shown]!);
    }
    const count = state.items.length - state.head;
    if (conditionHolds(c.rule.condition, count)) {
      c.groups.delete(state);
      const items = state.items.slice(state.head);
      this.emit(index, this.hit(c, state, items, count, items[0]!.first, t), out);
    } else if (state.head > 64 && state.head * 2 > state.items.length) {
      state.items.splice(0, state.head);
      state.head = 0;
    }
  }

  private addToLatest(
    index: number,
    c: Compiled,
    state: LatestState,
    keys: readonly (string | number)[],
    item: Item,
    out: CorrelationHit[],
  ): void {
    const t = item.time;
    const oldest = t - c.rule.timespanMs;
    const { latest } = state;
    if (state.since < oldest) {
      // Some may have expired: the oldest go; what is then oldest, or the item added below
      // when none is left (the time of every event to come), is the new bound.
      state.since = t;
      for (const [k, old] of latest) {
        if (old.time >= oldest) {
          state.since = old.time;
          break;
        }
        latest.delete(k);
      }
    }
    for (const k of keys) {
      // The newest already (the same user again and again from one address, most often): its
      // item replaced in place, where it is last (or added last, if it has expired). Moving it
      // to the end deletes and adds an entry, and the deleted entries pile up ahead of the live
      // ones until the map is rebuilt, each one walked past by the loop above.
      if (k === state.newest) latest.set(k, item);
      else {
        latest.delete(k);
        latest.set(k, item);
        state.newest = k;
      }
    }
    const count = latest.size;
    if (conditionHolds(c.rule.condition, count)) {
      c.groups.delete(state);
      const items = [...new Set(latest.values())];
      this.emit(index, this.hit(c, state, items, count, t, t), out);
    }
  }

  private addToOrdered(
    index: number,
    c: Compiled,
    state: OrderedState,
    ruleIndexes: number[],
    item: Item,
    out: CorrelationHit[],
  ): void {
    const t = item.time;
    const oldest = t - c.rule.timespanMs;
    const { chains } = state;
    // A chain that started before the window can never be completed within it.
    for (let i = 0; i < chains.length; i++) {
      const chain = chains[i];
      if (chain && chain[0]!.time < oldest) chains[i] = undefined;
    }
    // From the last rule down, so that one event never follows itself in a chain.
    if (ruleIndexes.length === 1) follow(chains, ruleIndexes[0]!, item);
    else for (const i of [...ruleIndexes].sort((a, b) => b - a)) follow(chains, i, item);
    const done = chains[c.rule.rules.length - 1];
    if (done && done[done.length - 1] === item) {
      c.groups.delete(state);
      this.emit(index, this.hit(c, state, done, c.rule.rules.length, done[0]!.first, t), out);
    }
  }

  private newState(
    c: Compiled,
    groupValues: (FieldValue | undefined)[],
    group: Record<string, FieldValue>,
    t: number,
  ): GroupState {
    const base = {
      groupValues,
      key: undefined,
      group,
      last: t,
      live: false,
      slot: -1,
    };
    if (!c.floor) {
      const window: WindowState = {
        ...base,
        kind: 'window',
        closeAt: t + c.rule.timespanMs,
        count: 0,
        values: new Set(),
        items: [],
        added: 0,
        eventCount: 0,
        first: t,
      };
      c.closing.push(window);
      if (c.closing.length - c.closingHead > 2 * this.maxGroups + 1024) {
        // Windows of groups dropped by the cap wait in the queue until their end: past twice the
        // cap, forget them now, or a flood of new groups would hold them all for a timespan.
        c.closing = c.closing.slice(c.closingHead).filter((w) => w === window || w.live);
        c.closingHead = 0;
      }
      return window;
    }
    switch (c.rule.type) {
      case 'event_count':
        return { ...base, kind: 'count', items: [], head: 0 };
      case 'value_count':
      case 'temporal':
        return { ...base, kind: 'latest', latest: new Map(), newest: undefined, since: t };
      case 'temporal_ordered':
        return { ...base, kind: 'ordered', chains: new Array<Item[] | undefined>(c.rule.rules.length) };
    }
  }

  private hit(
    c: Compiled,
    state: GroupBase,
    items: Item[],
    value: number,
    first: number,
    last: number,
    atLeast = false,
  ): CorrelationHit {
    let events = items.flatMap((i) => i.events);
    let eventCount = 0;
    for (const i of items) eventCount += i.count;
    if (items.some((i) => i.events.length > 1)) {
      // Hits of other correlations bring their events along: one event may come twice (a match of
      // its own and inside a hit), and not in time order.
      const unique = [...new Set(events)];
      eventCount -= events.length - unique.length;
      events = unique.sort((a, b) => a.time - b.time);
    }
    // A loop, not Math.min(...): a window may hold more items than a call takes arguments.
    let firstTime = first;
    let lastTime = items.length === 0 ? last : -Infinity;
    for (const i of items) {
      if (i.first < firstTime) firstTime = i.first;
      if (i.time > lastTime) lastTime = i.time;
    }
    return {
      rule: c.rule,
      groupKey: groupKey(state),
      group: state.group,
      events: events.length > this.maxEvents ? events.slice(-this.maxEvents) : events,
      eventCount,
      firstTime,
      lastTime,
      value,
      ...(atLeast ? { atLeast: true as const } : {}),
    };
  }

  /** Reports a hit if its correlation is reported, and feeds it to the correlations that use it. */
  private emit(index: number, hit: CorrelationHit, out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    if (c.reported) out.push(hit);
    if (c.consumers.length === 0) return;
    const last = hit.events.at(-1);
    // The correlations using this one read the group it found, over the fields of its last event.
    const event: WatchEvent = {
      time: hit.lastTime,
      logsource: last?.logsource ?? {},
      fields: { ...last?.fields, ...hit.group },
      raw: last?.raw ?? '',
      parsed: true,
      ...(last?.source === undefined ? {} : { source: last.source }),
    };
    const item: Item = {
      time: hit.lastTime,
      first: hit.firstTime,
      // After the event that raised it: ordered after that event's own matches.
      seq: 2 * (this.seq - 1) + 1,
      event,
      events: hit.events,
      count: hit.eventCount,
    };
    for (const consumer of c.consumers) this.feed(consumer.index, item, [consumer.ruleIndex], out);
  }
}

/** Reads `names` of an event's fields into `values`. */
function readFields(
  fields: Record<string, FieldValue>,
  names: readonly string[],
  values: (FieldValue | undefined)[],
): (FieldValue | undefined)[] {
  for (let i = 0; i < names.length; i++) values[i] = readField(fields, names[i]!);
  return values;
}

/**
 * What `value_count` counts of an event: undefined when it lacks a field. Distinct values give
 * distinct strings: a string value as it is (the usual case), anything else as the JSON of the
 * values after U+0001 (which no string value kept as it is starts with).
 */
function valueOf(valueFields: readonly string[], fields: Record<string, FieldValue>): string | undefined {
  if (valueFields.length === 1) {
    const v = readField(fields, valueFields[0]!);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && v.charCodeAt(0) !== 1) return v;
    return `\u0001${JSON.stringify([v])}`;
  }
  const found: FieldValue[] = [];
  for (const f of valueFields) {
    const v = readField(fields, f);
    if (v === undefined) return undefined;
    found.push(v);
  }
  return `\u0001${JSON.stringify(found)}`;
}

/**
 * temporal_ordered: an event of rule `i` extends the chain of the rules before it, if that chain
 * ended with an earlier event.
 */
function follow(chains: (Item[] | undefined)[], i: number, item: Item): void {
  if (i === 0) {
    chains[0] = [item];
    return;
  }
  const before = chains[i - 1];
  if (!before || before[before.length - 1]!.seq >= item.seq) return;
  const current = chains[i];
  // Keep the chain that started latest: it stays in the window longest. Ties: the newer.
  if (!current || before[0]!.time >= current[0]!.time) chains[i] = [...before, item];
}

/**
 * A field of an event: the key as it is first (taxonomies use dotted names such as `source.ip`
 * as flat keys), then a walk through nested objects (Windows events as JSON).
 */
export function readField(fields: Record<string, FieldValue>, name: string): FieldValue | undefined {
  if (Object.hasOwn(fields, name)) return fields[name];
  let current: FieldValue | undefined = fields;
  for (const part of name.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

const NO_HITS: readonly CorrelationHit[] = Object.freeze([]);
