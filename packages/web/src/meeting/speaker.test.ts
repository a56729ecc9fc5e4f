import { describe, expect, it } from 'vitest';
import { ActiveSpeaker, audioLevelsFromStats, localAudioLevel, toAudioStat } from './speaker';

const levels = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('active speaker', () => {
  it('is nobody until someone speaks above the threshold', () => {
    const speaker = new ActiveSpeaker();
    expect(speaker.update(0, levels({ a: 0.001, b: 0.005 }))).toBeUndefined();
    expect(speaker.speaking()).toEqual(new Set());
  });

  it('is the loudest participant over the window', () => {
    const speaker = new ActiveSpeaker({ windowMs: 1000 });
    speaker.update(0, levels({ a: 0.1, b: 0.3 }));
    expect(speaker.update(250, levels({ a: 0.1, b: 0.3 }))).toBe('b');
    expect(speaker.speaking()).toEqual(new Set(['a', 'b']));
  });

  it('does not switch for a single loud moment of someone else', () => {
    const speaker = new ActiveSpeaker({ windowMs: 1000 });
    for (let t = 0; t < 1000; t += 250) speaker.update(t, levels({ a: 0.2 }));
    // One loud sample from b: over the window b averages 0.1 against a's 0.2.
    expect(speaker.update(1000, levels({ a: 0.2, b: 0.5 }))).toBe('a');
  });

  it('switches once another has been clearly louder for the window', () => {
    const speaker = new ActiveSpeaker({ windowMs: 1000 });
    for (let t = 0; t < 1000; t += 250) speaker.update(t, levels({ a: 0.2 }));
    let current: string | undefined;
    for (let t = 1000; t <= 2000; t += 250) current = speaker.update(t, levels({ a: 0.05, b: 0.3 }));
    expect(current).toBe('b');
  });

  it('keeps the last speaker through a silence, without calling them speaking', () => {
    const speaker = new ActiveSpeaker({ windowMs: 500 });
    speaker.update(0, levels({ a: 0.3 }));
    expect(speaker.update(2000, levels({}))).toBe('a');
    expect(speaker.speaking()).toEqual(new Set());
  });

  it('forgets someone who left', () => {
    const speaker = new ActiveSpeaker();
    speaker.update(0, levels({ a: 0.3, b: 0.1 }));
    speaker.forget('a');
    expect(speaker.current).toBeUndefined();
    expect(speaker.update(100, levels({ b: 0.1 }))).toBe('b');
  });

  it('ignores levels that are not numbers between 0 and 1', () => {
    const speaker = new ActiveSpeaker();
    expect(speaker.update(0, levels({ a: Number.NaN, b: 0.05 }))).toBe('b');
  });
});

describe('audio levels from WebRTC statistics', () => {
  const alice = '0b7c6a4e-52a1-4c1e-9f43-1d3b1b0d2a01';
  const bruno = '6f1e2d3c-4b5a-4c69-8877-665544332211';
  const tracks = [
    { mid: '0', participantId: alice, source: 'microphone' as const },
    { mid: '1', participantId: alice, source: 'camera' as const },
    { mid: '2', participantId: bruno, source: 'microphone' as const },
  ];

  it('reads inbound audio levels and names whose microphone they come from', () => {
    const stats = [
      { type: 'inbound-rtp', kind: 'audio', mid: '0', audioLevel: 0.25 },
      { type: 'inbound-rtp', kind: 'video', mid: '1' },
      { type: 'inbound-rtp', kind: 'audio', mid: '2', audioLevel: 0.01 },
      { type: 'transport', audioLevel: 0.9 },
    ];
    expect(audioLevelsFromStats(stats, tracks)).toEqual(
      new Map([
        [alice, 0.25],
        [bruno, 0.01],
      ]),
    );
  });

  it('finds the mid through the track id when the browser leaves it out', () => {
    const stats = [{ type: 'inbound-rtp', kind: 'audio', trackIdentifier: 'track-b', audioLevel: 0.4 }];
    expect(audioLevelsFromStats(stats, tracks, new Map([['track-b', '2']]))).toEqual(new Map([[bruno, 0.4]]));
  });

  it('reads one’s own microphone level from the media source', () => {
    expect(
      localAudioLevel([
        { type: 'media-source', kind: 'video' },
        { type: 'media-source', kind: 'audio', audioLevel: 0.12 },
      ]),
    ).toBe(0.12);
    expect(localAudioLevel([])).toBe(0);
  });

  it('takes only well-formed entries from a statistics report', () => {
    expect(toAudioStat(null)).toBeUndefined();
    expect(toAudioStat({ kind: 'audio' })).toBeUndefined();
    expect(toAudioStat({ type: 'inbound-rtp', kind: 'audio', mid: 3, audioLevel: '0.5' })).toEqual({
      type: 'inbound-rtp',
      kind: 'audio',
      mid: undefined,
      trackIdentifier: undefined,
      audioLevel: undefined,
    });
  });
});
