import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inverse, prepareLanguageData, stretchContrast, tsvLines } from './ocr.js';

/** The centre of the dark pixels of a grey image. */
function darkCentre(data: Buffer, width: number): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if ((data[i] ?? 255) < 128) {
      sx += i % width;
      sy += Math.floor(i / width);
      n += 1;
    }
  }
  return [sx / n + 0.5, sy / n + 0.5];
}

describe('OCR views', () => {
  it.each([
    [1, 0],
    [2, 0],
    [1, 90],
    [1, 180],
    [1, 270],
    [1.6, -4.5],
    [0.5, 7],
  ])('maps a point of a view (scale %s, turned %s°) back to the original', async (scale, angle) => {
    const width = 400;
    const height = 240;
    const square = { x: 300, y: 40, size: 20 };
    const original = Buffer.alloc(width * height, 255);
    for (let y = square.y; y < square.y + square.size; y++)
      original.fill(0, y * width + square.x, y * width + square.x + square.size);
    let view = sharp(original, { raw: { width, height, channels: 1 } }).resize(
      Math.round(width * scale),
      Math.round(height * scale),
    );
    if (angle !== 0) view = view.rotate(angle, { background: '#ffffff' });
    const { data, info } = await view.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const back = inverse(width, height, info.width, info.height, { scale, angle });
    const [x, y] = back(darkCentre(data, info.width));
    expect(x).toBeCloseTo(square.x + square.size / 2, -0.5); // within 1.5 px
    expect(y).toBeCloseTo(square.y + square.size / 2, -0.5);
  });
});

describe('contrast stretch', () => {
  it('spreads a faint grey text over the whole range, clipping the outliers', () => {
    // 1,000 pixels: background 150, text 110, one speck of 0 and one of 255 (0.1% each).
    const data = new Uint8Array(1000).fill(150);
    data.fill(110, 0, 300);
    data[500] = 0;
    data[501] = 255;
    stretchContrast(data, 0.001);
    expect(data[0]).toBe(0);
    expect(data[999]).toBe(255);
    expect(data[500]).toBe(0);
    expect(data[501]).toBe(255);
  });

  it('leaves a one-grey image alone', () => {
    const data = new Uint8Array(100).fill(77);
    stretchContrast(data, 0.001);
    expect([...new Set(data)]).toEqual([77]);
  });

  it('keeps the order of grey levels, and spans black to white when nothing is clipped (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (input) => {
        const data = Uint8Array.from(input);
        stretchContrast(data, 0.001);
        const order = [...input.keys()].sort((a, b) => input[a]! - input[b]!);
        for (let i = 1; i < order.length; i++)
          expect(data[order[i - 1]!]).toBeLessThanOrEqual(data[order[i]!]!);
        // Under 1,000 pixels 0.1% is no pixel at all: the darkest become black, the lightest white.
        if (input.length < 1000 && new Set(input).size > 1) {
          expect(Math.min(...data)).toBe(0);
          expect(Math.max(...data)).toBe(255);
        }
      }),
    );
  });
});

describe("Tesseract's TSV", () => {
  it('gives the words line by line, with their boxes and confidences, and nothing else', () => {
    const tsv = [
      '1\t1\t0\t0\t0\t0\t0\t0\t800\t300\t-1\t',
      '4\t1\t1\t1\t1\t0\t9\t18\t189\t18\t-1\t',
      '5\t1\t1\t1\t1\t1\t9\t18\t38\t18\t95.8\tMeeting',
      '5\t1\t1\t1\t1\t2\t55\t19\t55\t13\t91.5\tID:',
      '5\t1\t1\t1\t1\t3\t119\t18\t79\t18\t12.0\t ',
      '4\t1\t1\t1\t2\t0\t12\t52\t771\t18\t-1\t',
      '5\t1\t1\t1\t2\t1\t12\t52\t90\t18\t88.9\t949',
      '5\t1\t2\t1\t1\t1\t400\t52\t60\t18\t70.0\tPasscode:',
      '',
    ].join('\n');
    expect(tsvLines(tsv)).toEqual([
      [
        { text: 'Meeting', x: 9, y: 18, width: 38, height: 18, confidence: 95.8 },
        { text: 'ID:', x: 55, y: 19, width: 55, height: 13, confidence: 91.5 },
      ],
      [{ text: '949', x: 12, y: 52, width: 90, height: 18, confidence: 88.9 }],
      [{ text: 'Passcode:', x: 400, y: 52, width: 60, height: 18, confidence: 70 }],
    ]);
  });
});

describe('language data folder', () => {
  it('links each language to this install, replacing a link left by an install since removed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rempart-ocr-test-'));
    try {
      mkdirSync(join(dir, 'lang'));
      // What a previous install, since removed, left behind: a link to a file that is gone.
      symlinkSync('/nonexistent/rempart/fra.traineddata.gz', join(dir, 'lang', 'fra.traineddata.gz'));
      const { langPath } = prepareLanguageData(dir, ['fra', 'eng']);
      for (const lang of ['fra', 'eng']) {
        const target = join(langPath, `${lang}.traineddata.gz`);
        expect(readlinkSync(target)).toMatch(new RegExp(`@tesseract\\.js-data/${lang}/`));
        expect(statSync(target).size).toBeGreaterThan(100_000); // the link leads to the data
      }
      // Again, as every start does: nothing left over from making the links.
      prepareLanguageData(dir, ['fra', 'eng']);
      expect(readdirSync(langPath).sort()).toEqual(['eng.traineddata.gz', 'fra.traineddata.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
