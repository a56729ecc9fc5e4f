import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inverse } from './ocr.js';

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
