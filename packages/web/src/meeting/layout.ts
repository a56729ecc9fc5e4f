/**
 * How the meeting stage is laid out: which tile is shown large, and how many columns the
 * others take. A screen share is what people need to read, so it is always the large tile;
 * without one, the active speaker is, once there are enough people that a plain grid makes
 * every face small.
 */
import type { Participant } from '@rempart/core';

export interface StageTile {
  participantId: string;
  source: 'camera' | 'screen';
}

export interface StageLayout {
  /** The large tile: a screen share, else the active speaker in a larger meeting; none in a plain grid. */
  featured: StageTile | undefined;
  /** Every other tile, in the roster's order: each camera once, then other screen shares. */
  tiles: StageTile[];
  /** Columns of the plain grid (unused beside a featured tile, where the others form a strip). */
  columns: number;
}

/** From this many people, the active speaker gets the large tile. */
export const FEATURE_SPEAKER_FROM = 3;
export const MAX_COLUMNS = 5;

/** A near-square grid: 1 → 1 column, 2–4 → 2, 5–9 → 3, 10–16 → 4, beyond → 5 (rows scroll). */
export function gridColumns(count: number): number {
  return Math.min(MAX_COLUMNS, Math.max(1, Math.ceil(Math.sqrt(count))));
}

/**
 * @example
 *   stageLayout([{ id: 'a', screen: false }, { id: 'b', screen: true }], 'a', undefined)
 *   // → featured: b's screen; tiles: a's and b's cameras
 */
export function stageLayout(
  roster: readonly Pick<Participant, 'id' | 'screen'>[],
  selfId: string | undefined,
  speaker: string | undefined,
): StageLayout {
  const cameras = roster.map((p): StageTile => ({ participantId: p.id, source: 'camera' }));
  const sharing = roster.filter((p) => p.screen);
  // The speaker's share first, then someone else's: one's own screen is the least useful to see large.
  const shown = sharing.find((p) => p.id === speaker) ?? sharing.find((p) => p.id !== selfId) ?? sharing[0];
  if (shown) {
    const otherScreens = sharing
      .filter((p) => p.id !== shown.id)
      .map((p): StageTile => ({ participantId: p.id, source: 'screen' }));
    const tiles = [...cameras, ...otherScreens];
    return {
      featured: { participantId: shown.id, source: 'screen' },
      tiles,
      columns: gridColumns(tiles.length),
    };
  }
  const speakerPresent = speaker !== undefined && speaker !== selfId && roster.some((p) => p.id === speaker);
  if (roster.length >= FEATURE_SPEAKER_FROM && speakerPresent) {
    const tiles = cameras.filter((tile) => tile.participantId !== speaker);
    return {
      featured: { participantId: speaker, source: 'camera' },
      tiles,
      columns: gridColumns(tiles.length),
    };
  }
  return { featured: undefined, tiles: cameras, columns: gridColumns(cameras.length) };
}
