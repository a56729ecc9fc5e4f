import { describe, expect, it } from 'vitest';
import { describeMid, publishSources, sameTracks, tracksByParticipant } from './tracks';

const alice = '0b7c6a4e-52a1-4c1e-9f43-1d3b1b0d2a01';
const bruno = '6f1e2d3c-4b5a-4c69-8877-665544332211';

describe('mapping received tracks to participants', () => {
  const tracks = [
    { mid: '0', participantId: alice, source: 'microphone' as const },
    { mid: '1', participantId: alice, source: 'camera' as const },
    { mid: '2', participantId: bruno, source: 'microphone' as const },
    { mid: '3', participantId: bruno, source: 'screen' as const },
  ];

  it('gives each participant their tracks by source, through the mids of the offer', () => {
    const map = tracksByParticipant(tracks, [
      { mid: '0', track: 'a-mic' },
      { mid: '1', track: 'a-cam' },
      { mid: '2', track: 'b-mic' },
      { mid: '3', track: 'b-screen' },
    ]);
    expect(map.get(alice)).toEqual({ microphone: 'a-mic', camera: 'a-cam' });
    expect(map.get(bruno)).toEqual({ microphone: 'b-mic', screen: 'b-screen' });
  });

  it('ignores transceivers the offer does not describe and mids without a transceiver yet', () => {
    const map = tracksByParticipant(tracks.slice(0, 2), [
      { mid: '1', track: 'a-cam' },
      { mid: '7', track: 'stray' },
      { mid: null, track: 'unnegotiated' },
    ]);
    expect([...map]).toEqual([[alice, { camera: 'a-cam' }]]);
  });

  it('follows a renegotiation that moves a source to another mid', () => {
    const moved = [{ mid: '4', participantId: alice, source: 'camera' as const }];
    const map = tracksByParticipant(moved, [
      { mid: '1', track: 'old' },
      { mid: '4', track: 'new' },
    ]);
    expect(map.get(alice)).toEqual({ camera: 'new' });
  });

  it('says whose source a mid carries', () => {
    expect(describeMid(tracks, '3')).toEqual({ mid: '3', participantId: bruno, source: 'screen' });
    expect(describeMid(tracks, '9')).toBeUndefined();
  });

  it('tells whether two mappings hold the same tracks', () => {
    const a = new Map([[alice, { camera: 'x' }]]);
    expect(sameTracks(a, new Map([[alice, { camera: 'x' }]]))).toBe(true);
    expect(sameTracks(a, new Map([[alice, { camera: 'y' }]]))).toBe(false);
    expect(sameTracks(a, new Map([[bruno, { camera: 'x' }]]))).toBe(false);
    expect(sameTracks(a, new Map())).toBe(false);
  });
});

describe('announcing what a publish offer carries', () => {
  it('maps each negotiated, live transceiver to its source', () => {
    expect(
      publishSources([
        { mid: '0', source: 'microphone', stopped: false },
        { mid: '1', source: 'camera', stopped: false },
        { mid: '2', source: 'screen', stopped: true },
        { mid: null, source: 'screen', stopped: false },
      ]),
    ).toEqual({ '0': 'microphone', '1': 'camera' });
  });
});
