import { deflateSync } from 'node:zlib';
import { LEAKCHECK_MAX_BYTES, isRempartError } from '@rempart/core';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodePixels, inspectImage } from './image.js';

const plain = (format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif', width = 64, height = 32) =>
  sharp({ create: { width, height, channels: 3, background: '#3366aa' } })
    .toFormat(format)
    .toBuffer();

/** A PNG header claiming `width`×`height` with almost no pixel data: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (data: Buffer) => {
    let c = 0xffffffff;
    for (const byte of data) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), // one row; the rest would be zeros
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (isRempartError(error)) return error.code;
    throw error;
  }
  throw new Error('accepted');
}

describe('image intake', () => {
  it.each(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'] as const)(
    'reads the header of a %s image',
    async (format) => {
      const header = await inspectImage(await plain(format));
      expect(header).toMatchObject({ format, width: 64, height: 32 });
    },
  );

  it('swaps width and height when the EXIF orientation turns the picture', async () => {
    const turned = await sharp(await plain('jpeg'))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const header = await inspectImage(turned);
    expect([header.width, header.height]).toEqual([32, 64]);
    const pixels = await decodePixels(turned, 1);
    expect([pixels.width, pixels.height, pixels.channels]).toEqual([32, 64, 1]);
  });

  it('refuses what is not an image, an empty file and an SVG', async () => {
    expect(await refusal(inspectImage(Buffer.from('%PDF-1.7 not an image')))).toBe('image_unreadable');
    expect(await refusal(inspectImage(Buffer.alloc(0)))).toBe('image_unreadable');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect(await refusal(inspectImage(svg))).toBe('image_unreadable');
  });

  it('refuses a 30000×30000 decompression bomb from its header, and the decoder refuses it too', async () => {
    const bomb = pngClaiming(30_000, 30_000);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await refusal(inspectImage(bomb))).toBe('image_too_large');
    expect(await refusal(decodePixels(bomb, 1))).toBe('image_unreadable');
  });

  it('refuses a file larger than the upload limit', async () => {
    expect(await refusal(inspectImage(Buffer.alloc(LEAKCHECK_MAX_BYTES + 1)))).toBe('payload_too_large');
  });

  it('refuses a truncated JPEG and PNG when decoding', async () => {
    for (const format of ['jpeg', 'png'] as const) {
      const whole = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080' } })
        .composite([
          {
            input: Buffer.from(
              `<svg width="400" height="300"><text x="10" y="150" font-size="40">${format} text</text></svg>`,
            ),
          },
        ])
        .toFormat(format)
        .toBuffer();
      const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
      expect(await refusal(decodePixels(cut, 1))).toBe('image_unreadable');
    }
  });

  it('answers any byte string with a header or a stable refusal, never a crash', async () => {
    const seeds = await Promise.all([plain('png'), plain('jpeg'), plain('gif'), plain('webp')]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        fc.nat(),
        async (seed, flips, cut) => {
          const bytes = Buffer.from(seed.subarray(0, Math.max(1, seed.length - (cut % seed.length))));
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          for (const step of [() => inspectImage(bytes), () => decodePixels(bytes, 1)]) {
            try {
              await step();
            } catch (error) {
              expect(
                isRempartError(error) && ['image_unreadable', 'image_too_large'].includes(error.code),
              ).toBe(true);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
