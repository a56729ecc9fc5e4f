/**
 * The correlation engine against itself without its shortcuts: the engine as it was first written,
 * kept here word for word in its behaviour (one Map of groups re-ordered on every event, keys
 * written as JSON, every correlation moved on every event, per-event lists). The engine's shortcuts
 * (groups looked up by their string values, recency kept in typed arrays, correlations skipped
 * when none is due, no allocation for events that matched nothing) must change nothing a user sees:
 * the same hits, in the same order, with the same events, and the same stats.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue, WatchEvent } from '../event.js';
import {
  conditionHolds,
  isFloorOnly,
  loadCorrelation,
  saturation,
  SigmaCorrelationError,
  type CorrelationRule,
} from './correlation.js';
import {
  CorrelationEngine,
  readField,
  type CorrelationHit,
  type CorrelationStats,
  type RuleRef,
} from './engine.js';

interface Item {
  time: number;
  first: number;
  seq: number;
  event: WatchEvent;
  events: WatchEvent[];
  count: number;
}

const STRIPPED: WatchEvent = { time: 0, logsource: {}, fields: {}, raw: '', parsed: false };

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

interface GroupBase {
  key: string;
  group: Record<string, FieldValue>;
  last: number;
}
interface CountState extends GroupBase {
  kind: 'count';
  items: Item[];
  head: number;
}
interface LatestState extends GroupBase {
  kind: 'latest';
  latest: Map<string | number, Item>;
}
interface OrderedState extends GroupBase {
  kind: 'ordered';
  chains: (Item[] | undefined)[];
}
interface WindowState extends GroupBase {
  kind: 'window';
  closeAt: number;
  count: number;
  values: Set<string | number>;
  items: Item[];
  added: number;
  eventCount: number;
  first: number;
}
type GroupState = CountState | LatestState | OrderedState | WindowState;

interface Compiled {
  rule: CorrelationRule;
  name: string;
  groupFields: string[][];
  valueFields: string[][];
  floor: boolean;
  limit: number;
  groups: Map<string, GroupState>;
  closing: WindowState[];
  closingHead: number;
  dropped: number;
  clock: number;
  due: number;
  reported: boolean;
  consumers: { index: number; ruleIndex: number }[];
}

class CorrelationEngineWithoutShortcuts {
  private readonly compiled: Compiled[];
  private readonly routes = new Map<string, { index: number; ruleIndex: number }[]>();
  private readonly rank: number[] = [];
  private readonly maxGroups: number;
  private readonly maxEvents: number;
  private clock = -Infinity;
  private seq = 0;
  private late = 0;
  readonly silencedRules: ReadonlySet<string>;

  constructor(
    rules: readonly CorrelationRule[],
    options: { rules: RuleRef[]; maxGroups: number; maxEventsPerHit: number; reportReferenced: boolean },
  ) {
    const { rules: base, maxGroups, maxEventsPerHit, reportReferenced } = options;
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
        const r = resolved[index]![i]!;
        const other =
          r.kind === 'rule' ? [r.id, baseById.get(r.id)?.name] : [rules[r.index]!.id, rules[r.index]!.name];
        return [ref, ...other].filter((k): k is string => k !== undefined);
      });
      const fieldFor = (name: string, i: number): string => {
        if (!Object.hasOwn(rule.aliases, name)) return name;
        const alias = rule.aliases[name]!;
        for (const k of ruleKeys[i]!) if (Object.hasOwn(alias, k)) return alias[k]!;
        return name;
      };
      return {
        rule,
        name: rule.id ?? rule.name ?? rule.title,
        groupFields: rule.rules.map((_, i) => rule.groupBy.map((g) => fieldFor(g, i))),
        valueFields: rule.rules.map((_, i) => (rule.field ?? []).map((f) => fieldFor(f, i))),
        floor: rule.type === 'temporal_ordered' || isFloorOnly(rule.condition),
        limit: saturation(rule.condition),
        groups: new Map<string, GroupState>(),
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
      if (c.consumers.some(({ index }) => rules[index]!.generate)) c.reported = true;
    }

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
    producersFirst.forEach((index, position) => (this.rank[index] = rules.length - position));
  }

  push(event: WatchEvent, matchedRuleIds: readonly string[]): CorrelationHit[] {
    const out: CorrelationHit[] = [];
    const usable = Number.isFinite(event.time);
    if (!usable || event.time < this.clock) this.late++;
    const time = usable ? Math.max(event.time, this.clock) : Number.isFinite(this.clock) ? this.clock : 0;
    this.advanceAll(time, out);
    const seq = 2 * this.seq++;
    if (matchedRuleIds.length === 0) return out;
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

  advance(now: number): CorrelationHit[] {
    const out: CorrelationHit[] = [];
    if (now > this.clock) this.advanceAll(now, out);
    return out;
  }

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
    if (time !== Infinity) this.clock = time;
    for (let index = 0; index < this.compiled.length; index++) this.advanceTo(index, time, out);
  }

  private advanceTo(index: number, time: number, out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    const span = c.rule.timespanMs;
    if (time !== Infinity) c.clock = Math.max(c.clock, time);
    if (!(time > c.due)) return;
    while (c.closingHead < c.closing.length && c.closing[c.closingHead]!.closeAt < time) {
      const window = c.closing[c.closingHead++]!;
      if (c.groups.get(window.key) !== window) continue;
      c.groups.delete(window.key);
      const value = c.rule.type === 'event_count' ? window.count : window.values.size;
      if (conditionHolds(c.rule.condition, value)) {
        const saturated = c.rule.type !== 'event_count' && value >= c.limit;
        const hit = this.hit(c, window, window.items, value, window.first, window.closeAt, saturated);
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
      for (const [key, group] of c.groups) {
        if (group.last >= time - span) {
          c.due = group.last + span;
          break;
        }
        c.groups.delete(key);
      }
    }
  }

  private feed(index: number, item: Item, ruleIndexes: number[], out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    const time = Math.max(item.time, c.clock);
    c.clock = time;
    const at = time === item.time ? item : { ...item, time };
    this.advanceTo(index, time, out);

    const read = (ruleIndex: number) => {
      const values = c.groupFields[ruleIndex]!.map((f) => readField(at.event.fields, f));
      let key = '[';
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        key += `${i === 0 ? '' : ','}${v === undefined ? '0' : `[${JSON.stringify(v)}]`}`;
      }
      return { values, key: `${key}]` };
    };
    if (ruleIndexes.length === 1) {
      const { values, key } = read(ruleIndexes[0]!);
      this.update(index, key, values, at, ruleIndexes, out);
      return;
    }
    const byGroup = new Map<string, { values: (FieldValue | undefined)[]; ruleIndexes: number[] }>();
    for (const ruleIndex of ruleIndexes) {
      const { values, key } = read(ruleIndex);
      const entry = byGroup.get(key);
      if (entry) entry.ruleIndexes.push(ruleIndex);
      else byGroup.set(key, { values, ruleIndexes: [ruleIndex] });
    }
    for (const [key, { values, ruleIndexes: inGroup }] of byGroup) {
      this.update(index, key, values, at, inGroup, out);
    }
  }

  private update(
    index: number,
    key: string,
    groupValues: (FieldValue | undefined)[],
    item: Item,
    ruleIndexes: number[],
    out: CorrelationHit[],
  ): void {
    const c = this.compiled[index]!;
    const { rule } = c;
    const t = item.time;
    const oldest = t - rule.timespanMs;

    let values: string[] = [];
    if (rule.type === 'value_count') {
      const valueOf = (i: number): string | undefined => {
        const found = c.valueFields[i]!.map((f) => readField(item.event.fields, f));
        return found.some((v) => v === undefined) ? undefined : JSON.stringify(found);
      };
      if (ruleIndexes.length === 1) {
        const value = valueOf(ruleIndexes[0]!);
        if (value !== undefined) values = [value];
      } else
        values = [
          ...new Set(
            ruleIndexes.flatMap((i) => {
              const value = valueOf(i);
              return value === undefined ? [] : [value];
            }),
          ),
        ];
      if (values.length === 0) return;
    }

    let state = c.groups.get(key);
    if (state) {
      c.groups.delete(key);
    } else if (rule.type === 'temporal_ordered' && !ruleIndexes.includes(0)) {
      // Only the first rule starts a chain: a group is made by it alone.
      return;
    } else {
      if (c.groups.size >= this.maxGroups) {
        const first = c.groups.keys().next();
        if (!first.done) c.groups.delete(first.value);
        c.dropped++;
      }
      const group: Record<string, FieldValue> = {};
      rule.groupBy.forEach((name, i) => {
        if (groupValues[i] !== undefined) group[name] = groupValues[i];
      });
      state = this.newState(c, key, group, t);
    }
    c.groups.set(key, state);
    state.last = t;
    c.due = Math.min(c.due, t + rule.timespanMs);

    switch (state.kind) {
      case 'window': {
        if (rule.type === 'event_count') state.count++;
        const adds: (string | number)[] = rule.type === 'value_count' ? values : ruleIndexes;
        for (const v of adds) if (state.values.size < c.limit) state.values.add(v);
        state.items.push(item);
        state.added++;
        state.eventCount += item.count;
        if (state.items.length > 2 * this.maxEvents)
          state.items.splice(0, state.items.length - this.maxEvents);
        return;
      }
      case 'count': {
        while (state.head < state.items.length && state.items[state.head]!.time < oldest) state.head++;
        state.items.push(item);
        const shown = state.items.length - 1 - this.maxEvents;
        if (shown >= state.head && state.items[shown]!.events.length > 0) {
          state.items[shown] = strip(state.items[shown]!);
        }
        const count = state.items.length - state.head;
        if (conditionHolds(rule.condition, count)) {
          c.groups.delete(key);
          const items = state.items.slice(state.head);
          this.emit(index, this.hit(c, state, items, count, items[0]!.first, t), out);
        } else if (state.head > 64 && state.head * 2 > state.items.length) {
          state.items.splice(0, state.head);
          state.head = 0;
        }
        return;
      }
      case 'latest': {
        for (const [k, old] of state.latest) {
          if (old.time >= oldest) break;
          state.latest.delete(k);
        }
        const keys: (string | number)[] = rule.type === 'value_count' ? values : ruleIndexes;
        for (const k of keys) {
          state.latest.delete(k);
          state.latest.set(k, item);
        }
        const count = state.latest.size;
        if (conditionHolds(rule.condition, count)) {
          c.groups.delete(key);
          const items = [...new Set(state.latest.values())];
          this.emit(index, this.hit(c, state, items, count, t, t), out);
        }
        return;
      }
      case 'ordered': {
        const { chains } = state;
        chains.forEach((chain, i) => {
          if (chain && chain[0]!.time < oldest) chains[i] = undefined;
        });
        for (const i of [...ruleIndexes].sort((a, b) => b - a)) {
          if (i === 0) {
            chains[0] = [item];
            continue;
          }
          const before = chains[i - 1];
          if (!before || before.at(-1)!.seq >= item.seq) continue;
          const current = chains[i];
          if (!current || before[0]!.time >= current[0]!.time) chains[i] = [...before, item];
        }
        const done = chains[rule.rules.length - 1];
        if (done && done.at(-1) === item) {
          c.groups.delete(key);
          this.emit(index, this.hit(c, state, done, rule.rules.length, done[0]!.first, t), out);
        }
        return;
      }
    }
  }

  private newState(c: Compiled, key: string, group: Record<string, FieldValue>, t: number): GroupState {
    const base = { key, group, last: t };
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
        c.closing = c.closing.slice(c.closingHead).filter((w) => w === window || c.groups.get(w.key) === w);
        c.closingHead = 0;
      }
      return window;
    }
    switch (c.rule.type) {
      case 'event_count':
        return { ...base, kind: 'count', items: [], head: 0 };
      case 'value_count':
      case 'temporal':
        return { ...base, kind: 'latest', latest: new Map() };
      case 'temporal_ordered':
        return { ...base, kind: 'ordered', chains: c.rule.rules.map(() => undefined) };
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
      const unique = [...new Set(events)];
      eventCount -= events.length - unique.length;
      events = unique.sort((a, b) => a.time - b.time);
    }
    let firstTime = first;
    let lastTime = items.length === 0 ? last : -Infinity;
    for (const i of items) {
      if (i.first < firstTime) firstTime = i.first;
      if (i.time > lastTime) lastTime = i.time;
    }
    return {
      rule: c.rule,
      groupKey: state.key,
      group: state.group,
      events: events.length > this.maxEvents ? events.slice(-this.maxEvents) : events,
      eventCount,
      firstTime,
      lastTime,
      value,
      ...(atLeast ? { atLeast: true as const } : {}),
    };
  }

  private emit(index: number, hit: CorrelationHit, out: CorrelationHit[]): void {
    const c = this.compiled[index]!;
    if (c.reported) out.push(hit);
    if (c.consumers.length === 0) return;
    const last = hit.events.at(-1);
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
      seq: 2 * (this.seq - 1) + 1,
      event,
      events: hit.events,
      count: hit.eventCount,
    };
    for (const consumer of c.consumers) this.feed(consumer.index, item, [consumer.ruleIndex], out);
  }
}

const DETECTIONS: RuleRef[] = ['A', 'B', 'C'].map((id) => ({
  id,
  name: id.toLowerCase(),
  title: `rule ${id}`,
}));

/** Values that tell apart what the engine's keys must tell apart: types, null, a missing field. */
const fieldValue: fc.Arbitrary<FieldValue | undefined> = fc.constantFrom<FieldValue | undefined>(
  'alice',
  'bob',
  '1:a',
  '1:ab',
  'a',
  '',
  '\u0001x',
  '\u0001[1]',
  '["x"]',
  '1',
  1,
  0,
  -0,
  Number.NaN,
  null,
  true,
  ['x'],
  { x: 'y' },
  undefined,
);

const condition = fc.oneof(
  fc.record({ gte: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ gt: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ eq: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ lt: fc.integer({ min: 2, max: 4 }) }),
  fc.record({ lte: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ neq: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ gte: fc.integer({ min: 1, max: 2 }), lte: fc.integer({ min: 2, max: 4 }) }),
);

/** One correlation over detection rules and, when `earlier` names some, the correlations before it. */
const correlation = (index: number, earlier: string[]) =>
  fc
    .record({
      type: fc.constantFrom('event_count', 'value_count', 'temporal', 'temporal_ordered'),
      rules: fc.shuffledSubarray(['a', 'B', 'C', ...earlier], { minLength: 1, maxLength: 3 }),
      groupBy: fc.subarray(['user', 'ip', 'who']),
      aliased: fc.boolean(),
      seconds: fc.integer({ min: 1, max: 5 }),
      condition,
      counted: fc.constantFrom<string | string[]>('value', ['value', 'user']),
      generate: fc.boolean(),
    })
    .map(({ type, rules, groupBy, aliased, seconds, condition: floorOrCeiling, counted, generate }) => {
      const section = {
        type,
        rules,
        // `who` is a different field for each rule: one event may then fall in several groups.
        'group-by': groupBy.filter((g) => g !== 'who' || aliased),
        ...(aliased
          ? { aliases: { who: Object.fromEntries(rules.map((r, i) => [r, i === 0 ? 'user' : 'ip'])) } }
          : {}),
        timespan: `${seconds}s`,
        ...(type === 'temporal_ordered'
          ? {}
          : { condition: type === 'value_count' ? { ...floorOrCeiling, field: counted } : floorOrCeiling }),
        generate,
      };
      try {
        return loadCorrelation(
          { title: `c${index}`, name: `c${index}`, correlation: section },
          `c${index}.yml`,
        );
      } catch {
        // A condition the loader refuses (a temporal one no count of its rules passes).
        return undefined;
      }
    })
    .filter((rule): rule is CorrelationRule => rule !== undefined);

const correlations = fc.integer({ min: 1, max: 3 }).chain((count) =>
  fc.tuple(
    ...Array.from({ length: count }, (_, i) =>
      correlation(
        i,
        Array.from({ length: i }, (__, j) => `c${j}`),
      ),
    ),
  ),
);

const streams = fc.array(
  fc.record({
    // Whole seconds mostly, so that events often fall exactly at a window's edge; ±1 ms, and late.
    gap: fc.constantFrom(0, 0, 1, 999, 1000, 1000, 1001, 2000, 3000, 6000, -1500),
    user: fieldValue,
    ip: fieldValue,
    // Fewer values to count, so that look-alikes often meet in one window.
    value: fc.constantFrom<FieldValue | undefined>(
      'x',
      'y',
      '1',
      1,
      '\u0001[1]',
      ['x'],
      '\u0001["x"]',
      null,
      undefined,
    ),
    matched: fc.subarray(['A', 'B', 'C']),
    /** A live service's timer moving time on before the event, by this much. */
    advance: fc.option(fc.integer({ min: 0, max: 7000 }), { freq: 5 }),
  }),
  { maxLength: 80 },
);

const options = fc.record({
  maxGroups: fc.integer({ min: 1, max: 5 }),
  maxEventsPerHit: fc.integer({ min: 1, max: 4 }),
  reportReferenced: fc.boolean(),
});

/** Everything a hit shows, its events by identity. */
function view(hit: CorrelationHit, events: WatchEvent[]) {
  return {
    ...hit,
    rule: hit.rule.title,
    events: hit.events.map((e) => events.indexOf(e)),
  };
}

describe('the correlation engine against itself without shortcuts', () => {
  it('raises the same hits in the same order, and holds the same groups', () => {
    fc.assert(
      fc.property(correlations, streams, options, (rules, stream, settings) => {
        const engine = new CorrelationEngine(rules, { rules: DETECTIONS, ...settings });
        const reference = new CorrelationEngineWithoutShortcuts(rules, { rules: DETECTIONS, ...settings });
        const events: WatchEvent[] = [];
        let time = 1_000_000;
        for (const { gap, user, ip, value, matched, advance } of stream) {
          time += gap;
          if (advance !== null) {
            const got = engine.advance(time + advance);
            expect(got.map((h) => view(h, events))).toEqual(
              reference.advance(time + advance).map((h) => view(h, events)),
            );
          }
          const fields: Record<string, FieldValue> = {};
          if (user !== undefined) fields.user = user;
          if (ip !== undefined) fields.ip = ip;
          if (value !== undefined) fields.value = value;
          const e: WatchEvent = { time, logsource: {}, fields, raw: `${events.length}`, parsed: true };
          events.push(e);
          expect(engine.push(e, matched).map((h) => view(h, events))).toEqual(
            reference.push(e, matched).map((h) => view(h, events)),
          );
          expect(engine.stats()).toEqual(reference.stats());
        }
        expect(engine.flush().map((h) => view(h, events))).toEqual(
          reference.flush().map((h) => view(h, events)),
        );
        expect(engine.stats()).toEqual(reference.stats());
      }),
      { numRuns: 2000 },
    );
  });
});
