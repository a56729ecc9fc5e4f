import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editDistance, foldLinkId, matchLinkId } from './leakcheck.service.js';

const newId = () => randomBytes(16).toString('base64url');

describe('matching a link id read from a picture', () => {
  it('folds the letters OCR confuses', () => {
    expect(foldLinkId('Ab3dEfGhIjKlMnOpQrStUv')).toBe(foldLinkId('Ab3dEfGhljK1MnOpQrStuv'));
    expect(foldLinkId('x0_O')).toBe(foldLinkId('XO-0'));
    expect(foldLinkId('x42;Bmm')).toBe(foldLinkId('x42jBmm'));
  });

  it('computes edit distances, stopping past the limit', () => {
    expect(editDistance('kitten', 'sitting', 5)).toBe(3);
    expect(editDistance('abc', 'abc', 0)).toBe(0);
    expect(editDistance('abcdef', 'zzzzzz', 2)).toBe(3);
  });

  it('finds the meeting despite case, l/I/1 and O/0 confusions and one lost character', () => {
    const open = Array.from({ length: 200 }, () => ({ id: newId(), linkId: newId() }));
    const target = { id: 'm1', linkId: 'Ab3dEfGhIjKlMnOpQrStUv' };
    open.push(target);
    expect(matchLinkId('Ab3dEfGhIjKlMnOpQrStUv', open)).toBe(target);
    expect(matchLinkId('Ab3dEfGhljK1MnOpQrStuv', open)).toBe(target);
    expect(matchLinkId('Ab3dEfGhIjKlMnOpQrStU', open)).toBe(target);
  });

  it('finds it through the misreadings measured on photos: g for q, an accent for a digit, a doubled letter', () => {
    const open = Array.from({ length: 200 }, () => ({ id: newId(), linkId: newId() }));
    const target = { id: 'm2', linkId: 'sK077Ae1jTvRhMAqr1UqZw' };
    const other = { id: 'm3', linkId: 'n4ghYltTidxv8SFc738m1Q' };
    open.push(target, other);
    expect(matchLinkId('SK077AeljTvRhMAgrl1UgZw', open)).toBe(target);
    expect(matchLinkId('néghYhTidxv8SFc738m1Q', open)).toBe(other);
    // Five edits away is too far.
    expect(matchLinkId('nXghYhTidXv8SFc7X8mXQ', open)).toBeUndefined();
  });

  it('never matches an unrelated id', () => {
    fc.assert(
      fc.property(fc.array(fc.constant(0), { minLength: 1, maxLength: 50 }), (slots) => {
        const open = slots.map(() => ({ id: newId(), linkId: newId() }));
        expect(matchLinkId(newId(), open)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});
