/**
 * Reading an uploaded image safely: its type and size are checked from the header before any
 * pixel is decoded (a 30000×30000 PNG of a few kilobytes is refused unread), a truncated or
 * damaged file is refused rather than half-read, and the pixels are turned the way the camera
 * says (EXIF orientation) so that every box refers to the image as people see it.
 */
import { LEAKCHECK_MAX_BYTES, LEAKCHECK_MAX_PIXELS, RempartError, LeakcheckFormat } from '@rempart/core';
import sharp, { type Metadata, type SharpOptions } from 'sharp';

export interface ImageHeader {
  format: LeakcheckFormat;
  /** As displayed: width and height swapped when the EXIF orientation turns the picture. */
  width: number;
  height: number;
  bytes: number;
  exif?: Buffer;
  xmp?: Buffer;
  /** PNG text chunks (Author, Comment…). */
  comments: { keyword: string; text: string }[];
}

export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 4;
}

const unreadable = (why: string) =>
  new RempartError('image_unreadable', `${why} Send a JPEG, PNG, WebP, GIF, TIFF or AVIF image.`);

/** Options for every decode: the pixel limit guards against decompression bombs, truncation fails. */
export const decodeOptions = {
  limitInputPixels: LEAKCHECK_MAX_PIXELS,
  failOn: 'truncated',
  sequentialRead: true,
} as const satisfies SharpOptions;

/** Reads the header only; throws `image_unreadable` or `image_too_large`. */
export async function inspectImage(file: Buffer): Promise<ImageHeader> {
  if (file.length === 0) throw unreadable('The file is empty.');
  if (file.length > LEAKCHECK_MAX_BYTES) {
    throw new RempartError(
      'payload_too_large',
      `The file is larger than ${LEAKCHECK_MAX_BYTES / 1024 / 1024} MB.`,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw unreadable('The file is not an image Rempart can read.');
  }
  const format = formatOf(meta);
  if (!format) throw unreadable(`Images of type “${meta.format}” are not accepted.`);
  const { width, height } = meta;
  if (!width || !height) throw unreadable('The image has no size.');
  if (width * height > LEAKCHECK_MAX_PIXELS) {
    throw new RempartError(
      'image_too_large',
      `The image is ${width}×${height} pixels; the limit is ${LEAKCHECK_MAX_PIXELS / 1e6} million pixels.`,
    );
  }
  const turned = (meta.orientation ?? 1) >= 5;
  return {
    format,
    width: turned ? height : width,
    height: turned ? width : height,
    bytes: file.length,
    ...(meta.exif ? { exif: meta.exif } : {}),
    ...(meta.xmp ? { xmp: meta.xmp } : {}),
    comments: meta.comments ?? [],
  };
}

function formatOf(meta: Metadata): LeakcheckFormat | undefined {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : undefined;
  const parsed = LeakcheckFormat.safeParse(meta.format);
  return parsed.success ? parsed.data : undefined;
}

/** The first frame, turned upright, as 8-bit grey or RGBA. Throws `image_unreadable` on a damaged file. */
export async function decodePixels(file: Buffer, channels: 1 | 4): Promise<Pixels> {
  try {
    let pipeline = sharp(file, decodeOptions).rotate();
    pipeline = channels === 1 ? pipeline.greyscale() : pipeline.ensureAlpha();
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels };
  } catch (error) {
    if (error instanceof RempartError) throw error;
    throw unreadable('The image is damaged or truncated.');
  }
}
