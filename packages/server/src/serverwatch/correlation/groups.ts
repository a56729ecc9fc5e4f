/**
 * The groups of one correlation (one per `group-by` value list), found from an event's values and
 * kept in the order they last took an event, as the engine needs them: the least recently fed
 * group is the one dropped past the cap, and a floor group's events expire in that order.
 *
 * Why not one Map keyed by a string of the values, re-ordered by `delete` then `set` on every
 * event: building that string (JSON, so that distinct values stay distinct) costs more than the
 * rest of the engine's work on an event, and re-ordering leaves deleted entries that every later
 * lookup walks over until the table is rebuilt. Here values that are all strings, the usual case
 * (`src_ip`, `user`), are looked up one Map level per value, with no string built. The order is a
 * list whose links are numbers in typed arrays, indexed by a slot number each group holds: moving a
 * group to the end is then a few number writes, where links between the group objects themselves
 * would cost the garbage collector's write barrier on every store.
 */
import type { FieldValue } from '../event.js';

/** What the index needs of a group. */
export interface Grouped {
  /** The `group-by` values, in order; `undefined` for a missing field. */
  readonly groupValues: readonly (FieldValue | undefined)[];
  /** The group as one stable string (see `groupKey`), written when first needed. */
  key: string | undefined;
  /** Whether the index holds it: false once deleted, even if another group of its values came since. */
  live: boolean;
  /** Where the index keeps its place in the order (while `live`). */
  slot: number;
}

/** One level of the index of string values: the next value's level, or at the last, the group. */
type Level<G> = Map<string, Level<G> | G>;

/**
 * The group as one stable string: `0` for a missing field, `[value]` for a present one, so that
 * the two are never confused, even with null (the JSON of that list, written without building it).
 */
export function keyOf(values: readonly (FieldValue | undefined)[]): string {
  let key = '[';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    key += `${i === 0 ? '' : ','}${v === undefined ? '0' : `[${JSON.stringify(v)}]`}`;
  }
  return `${key}]`;
}

export function groupKey(group: Grouped): string {
  return (group.key ??= keyOf(group.groupValues));
}

/** Whether a group's values go by string levels: all strings (and at least one). */
function allStrings(values: readonly (FieldValue | undefined)[]): values is readonly string[] {
  if (values.length === 0) return false;
  for (const v of values) if (typeof v !== 'string') return false;
  return true;
}

/** No slot: the end of the list. */
const NONE = -1;

export class GroupIndex<G extends Grouped> {
  /** Groups whose values are all strings, one level per value. */
  private readonly byStrings: Level<G> = new Map();
  /** The others (a missing field, a number…, or no `group-by` at all), by `groupKey`. */
  private readonly byKey = new Map<string, G>();
  size = 0;
  /** The group in each slot, and the slots free for new groups. */
  private bySlot: (G | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Per slot, the next older and newer groups' slots in the order groups last took an event. */
  private older: Int32Array = new Int32Array(16);
  private newer: Int32Array = new Int32Array(16);
  private oldest = NONE;
  private newest = NONE;

  /** The group fed least recently. */
  get leastRecent(): G | undefined {
    return this.oldest === NONE ? undefined : this.bySlot[this.oldest];
  }

  /** The group of these values, if held. */
  get(values: readonly (FieldValue | undefined)[]): G | undefined {
    if (!allStrings(values)) return this.byKey.get(keyOf(values));
    let level = this.byStrings;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const next = level.get(values[i]!);
      if (next === undefined) return undefined;
      level = next as Level<G>;
    }
    return level.get(values[last]!) as G | undefined;
  }

  /** Adds a group none of whose values is held, as the most recently fed. */
  add(group: G): void {
    const values = group.groupValues;
    if (allStrings(values)) {
      let level = this.byStrings;
      const last = values.length - 1;
      for (let i = 0; i < last; i++) {
        let next = level.get(values[i]!) as Level<G> | undefined;
        if (next === undefined) {
          next = new Map();
          level.set(values[i]!, next);
        }
        level = next;
      }
      level.set(values[last]!, group);
    } else this.byKey.set(groupKey(group), group);
    this.size++;
    group.live = true;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.bySlot.length;
      if (slot === this.older.length) {
        this.older = grown(this.older);
        this.newer = grown(this.newer);
      }
    }
    this.bySlot[slot] = group;
    group.slot = slot;
    this.append(slot);
  }

  /** Marks a group as the most recently fed. */
  touch(group: G): void {
    const slot = group.slot;
    if (slot === this.newest) return;
    this.unlink(slot);
    this.append(slot);
  }

  delete(group: G): void {
    const values = group.groupValues;
    if (allStrings(values)) this.deleteFrom(this.byStrings, values, 0);
    else this.byKey.delete(groupKey(group));
    this.size--;
    group.live = false;
    this.unlink(group.slot);
    this.bySlot[group.slot] = undefined;
    this.freeSlots.push(group.slot);
  }

  /** Deletes the group under `values` from `level` (at `depth`), and the levels it leaves empty. */
  private deleteFrom(level: Level<G>, values: readonly string[], depth: number): void {
    const value = values[depth]!;
    if (depth < values.length - 1) {
      const next = level.get(value) as Level<G>;
      this.deleteFrom(next, values, depth + 1);
      if (next.size > 0) return;
    }
    level.delete(value);
  }

  private unlink(slot: number): void {
    const older = this.older[slot]!;
    const newer = this.newer[slot]!;
    if (older === NONE) this.oldest = newer;
    else this.newer[older] = newer;
    if (newer === NONE) this.newest = older;
    else this.older[newer] = older;
  }

  private append(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.newer[this.newest] = slot;
    this.newest = slot;
  }
}

function grown(links: Int32Array): Int32Array {
  const more = new Int32Array(links.length * 2);
  more.set(links);
  return more;
}
