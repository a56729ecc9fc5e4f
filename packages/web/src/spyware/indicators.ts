/**
 * The indicator store as the console handles it: a bundle's name read with the API's schema and
 * suggested from its file name, the shipped and imported sets apart, and a refused bundle's
 * reason (the server names the STIX object it could not read).
 */
import { IndicatorSetName, type IndicatorSet, type RetroHunt } from '@rempart/core';
import { ApiError } from '../api';

/**
 * A name the store accepts, made from a file's name: accents dropped, every other character the
 * store refuses turned into a dash; '' when nothing usable is left.
 *
 * @example
 *   setNameFromFile('pegasus 2024.stix2') // → 'pegasus-2024.stix2'
 */
export function setNameFromFile(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\w.+-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 120)
    .replace(/^[-.]+|-+$/g, '');
  return IndicatorSetName.safeParse(cleaned).success ? cleaned : '';
}

export type SetNameResult =
  { ok: true; name: string } | { ok: false; problem: 'required' | 'tooLong' | 'invalid' };

export function readSetName(name: string): SetNameResult {
  const trimmed = name.trim();
  if (trimmed === '') return { ok: false, problem: 'required' };
  if (trimmed.length > 120) return { ok: false, problem: 'tooLong' };
  const parsed = IndicatorSetName.safeParse(trimmed);
  return parsed.success ? { ok: true, name: parsed.data } : { ok: false, problem: 'invalid' };
}

/** The sets that came with the install, then those an administrator added; each by name. */
export function splitSets(sets: readonly IndicatorSet[]): {
  shipped: IndicatorSet[];
  imported: IndicatorSet[];
} {
  const byName = (a: IndicatorSet, b: IndicatorSet) =>
    a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  return {
    shipped: sets.filter((set) => set.origin === 'shipped').sort(byName),
    imported: sets.filter((set) => set.origin !== 'shipped').sort(byName),
  };
}

/** Only sets added through the console or the CLI can be removed; a watched folder's come back. */
export function isRemovable(set: Pick<IndicatorSet, 'origin'>): boolean {
  return set.origin === 'upload' || set.origin === 'cli';
}

/** The indicator types of a set, most numerous first: `domain 1,204 · process 37`. */
export function typeCounts(byType: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(byType)
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

export function huntsNewestFirst(hunts: readonly RetroHunt[]): RetroHunt[] {
  return [...hunts].sort(
    (a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.id.localeCompare(b.id),
  );
}

/** Why a bundle was refused, when the server said it: its words and the STIX object they name. */
export interface StixRefusal {
  message: string;
  object: string | undefined;
}

/**
 * A bundle refused for its content: `stix_invalid`, or a validation failure whose details name the
 * object (the reader of bundles says which one it could not read).
 */
export function stixRefusal(error: unknown): StixRefusal | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const object = objectOf(error.details);
  if (error.code === 'stix_invalid' || (error.code === 'validation_failed' && object !== undefined))
    return { message: error.message, object };
  return undefined;
}

function objectOf(details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  for (const key of ['object', 'objectId', 'id']) {
    const value = (details as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
