import { describe, expect, it } from 'vitest';
import { boxAround, mergeFindings, overlap, type Finding } from './findings.js';

const finding = (over: Partial<Finding>): Finding => ({
  kind: 'passcode',
  source: 'text',
  text: '482135',
  box: { x: 10, y: 10, width: 60, height: 12 },
  reason: 'r',
  severity: 'high',
  ...over,
});

describe('findings', () => {
  it('boxes points, rounding outwards and clipping to the image', () => {
    expect(
      boxAround(
        [
          [-3.2, 4.7],
          [10.1, 20.2],
        ],
        8,
        100,
      ),
    ).toEqual({ x: 0, y: 4, width: 8, height: 17 });
  });

  it('measures overlap against the smaller box', () => {
    expect(overlap({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBe(0.5);
    expect(overlap({ x: 0, y: 0, width: 10, height: 10 }, { x: 20, y: 0, width: 5, height: 5 })).toBe(0);
  });

  it('merges the same secret read twice at the same place, keeping the longer reading and both areas', () => {
    const merged = mergeFindings([
      finding({ text: '48213', details: { digits: '48213' } }),
      finding({
        text: '482135',
        box: { x: 12, y: 11, width: 66, height: 12 },
        details: { digits: '482135' },
      }),
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.text).toBe('482135');
    expect(merged[0]?.box).toEqual({ x: 10, y: 10, width: 68, height: 13 });
  });

  it('keeps every reading of a meeting link id, the first one leading', () => {
    const link = (linkId: string, width: number) =>
      finding({
        kind: 'rempart_meeting_link',
        text: `https://r.example/m/${linkId}`,
        box: { x: 10, y: 10, width, height: 12 },
        details: { linkId },
      });
    const merged = mergeFindings([
      link('Le3{TQTi7ISFalnKaZgFhA', 300),
      link('Le3jTQTi7lSFa1nKaZqFhA', 310),
      link('Le3{TQTi7ISFalnKaZgFhA', 300),
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.details).toEqual({
      linkId: 'Le3{TQTi7ISFalnKaZgFhA',
      otherLinkIds: ['Le3jTQTi7lSFa1nKaZqFhA'],
    });
  });

  it('keeps different kinds, different places and metadata apart, sorted top to bottom', () => {
    const merged = mergeFindings([
      finding({ kind: 'owner', source: 'metadata', box: null, text: 'C. Martin' }),
      finding({ box: { x: 10, y: 300, width: 60, height: 12 } }),
      finding({ kind: 'meeting_id', text: '845 2231 9087' }),
      finding({}),
    ]);
    expect(merged.map((f) => [f.kind, f.box?.y ?? null])).toEqual([
      ['meeting_id', 10], // same place: the order they were read in
      ['passcode', 10],
      ['passcode', 300],
      ['owner', null],
    ]);
  });
});
