import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectImage } from './image.js';
import { padded, redact } from './redact.js';

const page = () =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } }).withExif({
    IFD0: { Make: 'Apple', Model: 'iPhone 15', Artist: 'Claire Martin' },
    IFD3: {
      GPSLatitudeRef: 'N',
      GPSLatitude: '50/1 50/1 0/1',
      GPSLongitudeRef: 'E',
      GPSLongitude: '4/1 21/1 0/1',
    },
  });

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

describe('redaction', () => {
  it.each(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'] as const)(
    'masks the boxes of a %s image, keeps its format and drops every metadata',
    async (format) => {
      const original = await page().toFormat(format).toBuffer();
      const header = await inspectImage(original);
      const out = await redact(original, header, [{ x: 100, y: 50, width: 60, height: 20 }]);
      const meta = await sharp(out).metadata();
      expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([300, 200]);
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      const [r = 0, g = 0, b = 0] = await pixel(out, 130, 60);
      expect(Math.max(r, g, b)).toBeLessThan(40); // inside: black
      const [r2 = 0] = await pixel(out, 20, 150);
      expect(r2).toBeGreaterThan(215); // far outside: untouched
    },
  );

  it('covers a margin around the box, and stays within the image', () => {
    expect(padded({ x: 100, y: 50, width: 60, height: 20 }, 300, 200)).toEqual({
      x: 96,
      y: 46,
      width: 68,
      height: 28,
    });
    expect(padded({ x: 0, y: 190, width: 300, height: 10 }, 300, 200)).toEqual({
      x: 0,
      y: 187,
      width: 300,
      height: 13,
    });
  });

  it('masks in the upright picture when the EXIF orientation turns it', async () => {
    // Stored 300×200 with orientation 6 (turn right): displayed 200×300.
    const stored = await page().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const header = await inspectImage(stored);
    const out = await redact(stored, header, [{ x: 10, y: 250, width: 50, height: 30 }]);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([200, 300, undefined]);
    expect(Math.max(...(await pixel(out, 30, 265)))).toBeLessThan(40);
  });
});
