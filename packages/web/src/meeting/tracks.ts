/**
 * Which media track belongs to whom. The engine's subscribe offer says, for each transceiver
 * (by its `mid`, RFC 8843 §2), whose camera, microphone or screen it carries; the browser's
 * receivers give the tracks. These helpers join the two and know nothing of WebRTC objects,
 * so the tracks may be anything (a `MediaStreamTrack`, or a string in a test).
 */
import type { MediaSource, TrackInfo } from '@rempart/core';

export type SourceTracks<T> = Partial<Record<MediaSource, T>>;

/** A receiving transceiver: its mid (null until negotiated) and its track. */
export interface Receiving<T> {
  mid: string | null;
  track: T;
}

/**
 * Each participant's received tracks, by source. A mid the offer does not describe is ignored
 * (a transceiver the engine stopped), as is a described mid without a transceiver yet.
 *
 * @example
 *   tracksByParticipant([{ mid: '0', participantId: 'p', source: 'camera' }], [{ mid: '0', track: t }])
 *   // → Map { 'p' → { camera: t } }
 */
export function tracksByParticipant<T>(
  tracks: readonly TrackInfo[],
  receivers: Iterable<Receiving<T>>,
): Map<string, SourceTracks<T>> {
  const byMid = new Map<string, T>();
  for (const receiver of receivers) if (receiver.mid !== null) byMid.set(receiver.mid, receiver.track);
  const result = new Map<string, SourceTracks<T>>();
  for (const info of tracks) {
    const track = byMid.get(info.mid);
    if (track === undefined) continue;
    const entry = result.get(info.participantId) ?? {};
    entry[info.source] = track;
    result.set(info.participantId, entry);
  }
  return result;
}

/** The participant and source a mid carries, per the latest subscribe offer. */
export function describeMid(tracks: readonly TrackInfo[], mid: string): TrackInfo | undefined {
  return tracks.find((info) => info.mid === mid);
}

/** A sending transceiver: its mid and what it carries; stopped ones are left out of a publish. */
export interface Sending {
  mid: string | null;
  source: MediaSource;
  stopped: boolean;
}

/** The `sources` of a `publish` message: each live sendonly transceiver's mid and what it carries. */
export function publishSources(sending: Iterable<Sending>): Record<string, MediaSource> {
  const sources: Record<string, MediaSource> = {};
  for (const { mid, source, stopped } of sending) if (mid !== null && !stopped) sources[mid] = source;
  return sources;
}

/** True when two track maps hold the same tracks for the same people (no re-render needed). */
export function sameTracks<T>(a: Map<string, SourceTracks<T>>, b: Map<string, SourceTracks<T>>): boolean {
  if (a.size !== b.size) return false;
  for (const [participantId, sources] of a) {
    const other = b.get(participantId);
    if (!other) return false;
    if (other.camera !== sources.camera || other.microphone !== sources.microphone) return false;
    if (other.screen !== sources.screen) return false;
  }
  return true;
}
