/**
 * The redacted copy: the upright image with every finding's area painted black, written in the
 * upload's own format, with no metadata at all (no EXIF, XMP, ICC profile or text chunk).
 */
import type { LeakBox, LeakcheckFormat } from '@rempart/core';
import sharp from 'sharp';
import { decodeOptions } from './image.js';

/** A margin around each box, so that the edges of the letters do not show. */
export function padded(box: LeakBox, width: number, height: number): LeakBox {
  const margin = Math.max(3, Math.round(Math.min(box.width, box.height) * 0.2));
  const x = Math.max(0, box.x - margin);
  const y = Math.max(0, box.y - margin);
  return {
    x,
    y,
    width: Math.min(width, box.x + box.width + margin) - x,
    height: Math.min(height, box.y + box.height + margin) - y,
  };
}

/** `image` is the upload's header: its format and its upright size. */
export async function redact(
  file: Buffer,
  image: { format: LeakcheckFormat; width: number; height: number },
  boxes: readonly LeakBox[],
): Promise<Buffer> {
  const { format, width, height } = image;
  const upright = sharp(file, decodeOptions).rotate();
  const masks = boxes
    .map((b) => padded(b, width, height))
    .filter((b) => b.width > 0 && b.height > 0)
    .map((b) => ({
      input: { create: { width: b.width, height: b.height, channels: 3 as const, background: '#000000' } },
      left: b.x,
      top: b.y,
    }));
  const painted = upright.composite(masks);
  switch (format) {
    case 'jpeg':
      return painted.jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return painted.png().toBuffer();
    case 'webp':
      return painted.webp({ quality: 90 }).toBuffer();
    case 'gif':
      return painted.gif().toBuffer();
    case 'tiff':
      return painted.tiff({ compression: 'lzw' }).toBuffer();
    case 'avif':
      return painted.avif({ quality: 70 }).toBuffer();
  }
}
