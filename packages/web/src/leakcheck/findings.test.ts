import type { LeakFinding } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { arrangeFindings, boxWithin, percent } from './findings';

const image = { width: 1000, height: 500 };

function finding(overrides: Partial<LeakFinding>): LeakFinding {
  return {
    kind: 'email',
    source: 'text',
    text: 'claire.martin@example.org',
    box: { x: 10, y: 10, width: 100, height: 20 },
    reason: 'An email address lets anyone write to this person.',
    severity: 'low',
    ...overrides,
  };
}

describe('how findings are arranged', () => {
  it('keeps the metadata apart from what the picture shows', () => {
    const gps = finding({ kind: 'gps_position', source: 'metadata', box: null, severity: 'medium' });
    const email = finding({});
    const arranged = arrangeFindings({ image, findings: [gps, email] });
    expect(arranged.pictured.map((entry) => entry.finding)).toEqual([email]);
    expect(arranged.metadata).toEqual([gps]);
  });

  it('numbers the most severe first, then in reading order, and what was not located last', () => {
    const arranged = arrangeFindings({
      image,
      findings: [
        finding({ text: 'low, top', box: { x: 0, y: 0, width: 10, height: 10 } }),
        finding({ text: 'high, lower', severity: 'high', box: { x: 0, y: 300, width: 10, height: 10 } }),
        finding({ text: 'high, unlocated', severity: 'high', box: null }),
        finding({
          text: 'high, upper right',
          severity: 'high',
          box: { x: 500, y: 100, width: 10, height: 10 },
        }),
        finding({
          text: 'high, upper left',
          severity: 'high',
          box: { x: 20, y: 100, width: 10, height: 10 },
        }),
        finding({ text: 'medium', severity: 'medium', source: 'qr_code' }),
      ],
    });
    expect(arranged.pictured.map((entry) => [entry.number, entry.finding.text])).toEqual([
      [1, 'high, upper left'],
      [2, 'high, upper right'],
      [3, 'high, lower'],
      [4, 'high, unlocated'],
      [5, 'medium'],
      [6, 'low, top'],
    ]);
  });

  it('cuts a box that runs past the image, and drops one that lies outside it', () => {
    expect(boxWithin({ x: 900, y: 450, width: 300, height: 100 }, image)).toEqual({
      x: 900,
      y: 450,
      width: 100,
      height: 50,
    });
    expect(boxWithin({ x: 1000, y: 10, width: 5, height: 5 }, image)).toBeNull();
    const [entry] = arrangeFindings({
      image,
      findings: [finding({ box: { x: 1200, y: 0, width: 5, height: 5 } })],
    }).pictured;
    expect(entry?.box).toBeNull();
  });

  it('places a point as a percentage of the image', () => {
    expect(percent(250, 1000)).toBe('25%');
    expect(percent(1, 3)).toBe('33.333%');
    expect(percent(5, 0)).toBe('0%');
  });
});
