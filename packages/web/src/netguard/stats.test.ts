import { describe, expect, it } from 'vitest';
import { barLengths, blockSource, isStatsWindow, share, statsWindows, timeScale } from './stats';

describe('the overview’s figures', () => {
  it('offers the last hour, day and week, and nothing else', () => {
    expect(statsWindows).toEqual([1, 24, 168]);
    expect(isStatsWindow(24)).toBe(true);
    expect(isStatsWindow(48)).toBe(false);
  });

  it('labels a plot of a day or less by time of day, a longer one by date', () => {
    expect(timeScale(1)).toBe('time');
    expect(timeScale(24)).toBe('time');
    expect(timeScale(168)).toBe('dateTime');
  });

  it('gives the blocked share of the queries, and 0 when there were none', () => {
    expect(share(25, 200)).toBe(0.125);
    expect(share(0, 0)).toBe(0);
    expect(share(5, 4)).toBe(1);
  });

  it('makes the first bar of a ranked list fill its row and the others in proportion', () => {
    expect(barLengths([40, 10, 0])).toEqual([100, 25, 0]);
    expect(barLengths([3, 1])).toEqual([100, 33.3]);
    expect(barLengths([])).toEqual([]);
    expect(barLengths([0, 0])).toEqual([0, 0]);
  });

  it('draws a part against the whole list’s largest value, never past a full row', () => {
    expect(barLengths([5, 1], 40)).toEqual([12.5, 2.5]);
    expect(barLengths([50], 40)).toEqual([100]);
  });

  it('tells a shipped category from a stored list by the name the query log gives', () => {
    expect(blockSource('spyware')).toEqual({ kind: 'category', id: 'spyware' });
    expect(blockSource('tiktok-bytedance')).toEqual({ kind: 'category', id: 'tiktok-bytedance' });
    expect(blockSource('ads-network')).toEqual({ kind: 'list', name: 'ads-network' });
  });

  it('takes the category a rule names over the list’s name', () => {
    expect(blockSource('Pegasus indicators', 'spyware')).toEqual({ kind: 'category', id: 'spyware' });
  });
});
