import { describe, expect, it } from 'vitest';
import { gridColumns, stageLayout } from './layout';

const person = (id: string, screen = false) => ({ id, screen });

describe('the meeting stage', () => {
  it('shows two or fewer people side by side, without a large tile', () => {
    const layout = stageLayout([person('me'), person('b')], 'me', 'b');
    expect(layout.featured).toBeUndefined();
    expect(layout.tiles.map((t) => t.participantId)).toEqual(['me', 'b']);
    expect(layout.columns).toBe(2);
  });

  it('gives the active speaker the large tile from three people on', () => {
    const layout = stageLayout([person('me'), person('b'), person('c')], 'me', 'c');
    expect(layout.featured).toEqual({ participantId: 'c', source: 'camera' });
    expect(layout.tiles.map((t) => t.participantId)).toEqual(['me', 'b']);
  });

  it('never shows oneself large as the speaker', () => {
    const layout = stageLayout([person('me'), person('b'), person('c')], 'me', 'me');
    expect(layout.featured).toBeUndefined();
    expect(layout.tiles).toHaveLength(3);
  });

  it('ignores a speaker who has left', () => {
    expect(stageLayout([person('me'), person('b'), person('c')], 'me', 'gone').featured).toBeUndefined();
  });

  it('shows a screen share large, and everyone’s camera beside it', () => {
    const layout = stageLayout([person('me'), person('b', true), person('c')], 'me', 'c');
    expect(layout.featured).toEqual({ participantId: 'b', source: 'screen' });
    expect(layout.tiles).toEqual([
      { participantId: 'me', source: 'camera' },
      { participantId: 'b', source: 'camera' },
      { participantId: 'c', source: 'camera' },
    ]);
  });

  it('prefers the speaker’s share, then someone else’s to one’s own', () => {
    expect(
      stageLayout([person('me', true), person('b', true)], 'me', undefined).featured?.participantId,
    ).toBe('b');
    expect(stageLayout([person('me', true), person('b', true)], 'me', 'me').featured?.participantId).toBe(
      'me',
    );
    expect(stageLayout([person('me', true)], 'me', undefined).featured).toEqual({
      participantId: 'me',
      source: 'screen',
    });
  });

  it('keeps a second screen share on the stage as a small tile', () => {
    const layout = stageLayout([person('me'), person('b', true), person('c', true)], 'me', 'c');
    expect(layout.featured).toEqual({ participantId: 'c', source: 'screen' });
    expect(layout.tiles).toContainEqual({ participantId: 'b', source: 'screen' });
  });

  it('arranges a plain grid near-square, five columns at most', () => {
    expect([0, 1, 2, 4, 5, 9, 10, 16, 17, 40].map(gridColumns)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });
});
