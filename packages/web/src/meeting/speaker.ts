/**
 * The active speaker: the loudest participant over a short window, measured in the browser
 * from the audio it receives (the `audioLevel` of inbound RTP statistics, W3C webrtc-stats
 * §7.4: 0 is silence, 1 is 0 dBov, linear). A window and a margin keep the highlight from
 * jumping at every cough; the last speaker stays on screen through a silence.
 */
import type { TrackInfo } from '@rempart/core';
import { describeMid } from './tracks';

export interface SpeakerOptions {
  /** How far back levels count, in milliseconds. */
  windowMs: number;
  /** The average level below which nobody counts as speaking (about −34 dBov). */
  threshold: number;
  /** How much louder than the current speaker another must be to take over. */
  switchRatio: number;
}

const defaults: SpeakerOptions = { windowMs: 1500, threshold: 0.02, switchRatio: 1.5 };

interface Round {
  at: number;
  levels: ReadonlyMap<string, number>;
}

export class ActiveSpeaker {
  private readonly options: SpeakerOptions;
  private rounds: Round[] = [];
  private speaker: string | undefined;

  constructor(options: Partial<SpeakerOptions> = {}) {
    this.options = { ...defaults, ...options };
  }

  /** The last participant who was the loudest speaker, even if silent since. */
  get current(): string | undefined {
    return this.speaker;
  }

  /**
   * Takes one round of levels measured at `at` (ms); someone absent from a round was silent.
   * Returns the active speaker after it.
   */
  update(at: number, levels: ReadonlyMap<string, number>): string | undefined {
    this.rounds.push({ at, levels });
    const from = at - this.options.windowMs;
    this.rounds = this.rounds.filter((round) => round.at > from);

    const averages = this.averages();
    let loudest: string | undefined;
    let loudestLevel = 0;
    for (const [participantId, level] of [...averages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (level > loudestLevel) {
        loudest = participantId;
        loudestLevel = level;
      }
    }
    if (loudest === undefined || loudestLevel < this.options.threshold) return this.speaker;
    const currentLevel = this.speaker === undefined ? 0 : (averages.get(this.speaker) ?? 0);
    if (
      this.speaker === undefined ||
      currentLevel < this.options.threshold ||
      loudestLevel > currentLevel * this.options.switchRatio
    ) {
      this.speaker = loudest;
    }
    return this.speaker;
  }

  /** Participants whose average level over the window is above the threshold now. */
  speaking(): Set<string> {
    const result = new Set<string>();
    for (const [participantId, level] of this.averages())
      if (level >= this.options.threshold) result.add(participantId);
    return result;
  }

  /** Someone left: they are no longer the speaker, and their levels no longer count. */
  forget(participantId: string): void {
    if (this.speaker === participantId) this.speaker = undefined;
    this.rounds = this.rounds.map((round) => {
      if (!round.levels.has(participantId)) return round;
      const levels = new Map(round.levels);
      levels.delete(participantId);
      return { at: round.at, levels };
    });
  }

  private averages(): Map<string, number> {
    const sums = new Map<string, number>();
    for (const round of this.rounds)
      for (const [participantId, level] of round.levels)
        sums.set(participantId, (sums.get(participantId) ?? 0) + clampLevel(level));
    const count = Math.max(1, this.rounds.length);
    return new Map([...sums].map(([participantId, sum]) => [participantId, sum / count]));
  }
}

function clampLevel(level: number): number {
  return Number.isFinite(level) ? Math.min(1, Math.max(0, level)) : 0;
}

/** One entry of an `RTCStatsReport`, as far as audio levels go. */
export interface AudioStat {
  type: string;
  kind?: string;
  mid?: string;
  trackIdentifier?: string;
  audioLevel?: number;
}

/** One statistics entry as far as audio levels go, or undefined when it is not an object with a type. */
export function toAudioStat(value: unknown): AudioStat | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  if (typeof entry['type'] !== 'string') return undefined;
  const text = (key: string) => (typeof entry[key] === 'string' ? entry[key] : undefined);
  const level = entry['audioLevel'];
  return {
    type: entry['type'],
    kind: text('kind'),
    mid: text('mid'),
    trackIdentifier: text('trackIdentifier'),
    audioLevel: typeof level === 'number' ? level : undefined,
  };
}

/**
 * The received audio level of each participant, from the subscribe connection's statistics.
 * `inbound-rtp` entries name their transceiver by `mid`; where a browser leaves it out, the
 * receiving track's id (`trackIdentifier`) is looked up in `midOfTrack`.
 */
export function audioLevelsFromStats(
  stats: Iterable<AudioStat>,
  tracks: readonly TrackInfo[],
  midOfTrack: ReadonlyMap<string, string> = new Map(),
): Map<string, number> {
  const levels = new Map<string, number>();
  for (const stat of stats) {
    if (stat.type !== 'inbound-rtp' || stat.kind !== 'audio' || typeof stat.audioLevel !== 'number') continue;
    const mid =
      stat.mid ?? (stat.trackIdentifier === undefined ? undefined : midOfTrack.get(stat.trackIdentifier));
    if (mid === undefined) continue;
    const info = describeMid(tracks, mid);
    if (info?.source !== 'microphone') continue;
    levels.set(
      info.participantId,
      Math.max(levels.get(info.participantId) ?? 0, clampLevel(stat.audioLevel)),
    );
  }
  return levels;
}

/** The level of one's own microphone, from the publish connection's `media-source` statistics. */
export function localAudioLevel(stats: Iterable<AudioStat>): number {
  let level = 0;
  for (const stat of stats)
    if (stat.type === 'media-source' && stat.kind === 'audio' && typeof stat.audioLevel === 'number')
      level = Math.max(level, clampLevel(stat.audioLevel));
  return level;
}
