/**
 * QR codes and barcodes in a picture. A QR code on a slide or a badge often holds a meeting link;
 * its content goes through the same text detectors as OCR, and its whole area is masked.
 *
 * Both readers are plain JavaScript on the calling thread, so they look at a copy of the image
 * no larger than `CODES_MAX_SIDE` (codes worth reading stay legible at that size). ZXing reads
 * QR codes and barcodes in one pass over one binarised copy (some 60 ms for a 1080p picture);
 * jsQR, which reads a QR code in a grainy photo where ZXing fails but costs six times as much,
 * is run only when ZXing sees a QR code's finder patterns and reads no QR code.
 */
import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  HybridBinarizer,
  InvertedLuminanceSource,
  MultiFormatReader,
  QRCodeReader,
  RGBLuminanceSource,
  type LuminanceSource,
  type Result,
} from '@zxing/library';
import { createRequire } from 'node:module';
import type { Options as JsQrOptions, QRCode } from 'jsqr';
import sharp from 'sharp';
import type { LeakBox } from '@rempart/core';
import { boxAround, corners, type Point } from './findings.js';
import type { Pixels } from './image.js';

// jsQR is CommonJS: its function is `module.exports` (and `module.exports.default`).
type JsQr = (data: Uint8ClampedArray, width: number, height: number, options?: JsQrOptions) => QRCode | null;
const jsQR = createRequire(import.meta.url)('jsqr') as JsQr;

export const CODES_MAX_SIDE = 1400;
/** Codes read at most in one picture. */
const MAX_CODES = 8;

export interface CodeRead {
  source: 'qr_code' | 'barcode';
  text: string;
  box: LeakBox;
  format: string;
}

const codeHints = new Map<DecodeHintType, unknown>([
  [
    DecodeHintType.POSSIBLE_FORMATS,
    [
      BarcodeFormat.QR_CODE,
      BarcodeFormat.CODE_128,
      BarcodeFormat.CODE_39,
      BarcodeFormat.CODE_93,
      BarcodeFormat.EAN_13,
      BarcodeFormat.EAN_8,
      BarcodeFormat.UPC_A,
      BarcodeFormat.ITF,
      BarcodeFormat.CODABAR,
      BarcodeFormat.DATA_MATRIX,
      BarcodeFormat.AZTEC,
      BarcodeFormat.PDF_417,
    ],
  ],
]);

type Luminance = { data: Uint8ClampedArray; width: number; height: number };
/** Dark codes on a light ground, light on dark, or both may be there. */
type Contrast = 'dark' | 'light' | 'both';

/** Reads the codes of a grey image; boxes are in the image's own pixels. */
export async function readCodes(grey: Pixels): Promise<CodeRead[]> {
  const scale = Math.min(1, CODES_MAX_SIDE / Math.max(grey.width, grey.height));
  const small: Luminance =
    scale < 1
      ? await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
          .resize(Math.round(grey.width * scale), Math.round(grey.height * scale), { kernel: 'linear' })
          .extractChannel(0)
          .raw()
          .toBuffer({ resolveWithObject: true })
          .then(({ data, info }) => ({
            data: new Uint8ClampedArray(data),
            width: info.width,
            height: info.height,
          }))
      : { data: new Uint8ClampedArray(grey.data), width: grey.width, height: grey.height };
  const back = (points: readonly Point[]) =>
    boxAround(
      points.map(([x, y]) => [x / scale, y / scale] as const),
      grey.width,
      grey.height,
    );
  return withoutStacks(() => {
    // Each code read is painted white, so that the next reading finds the next code. The
    // binarised copy is made again after each (it is the costliest step), and kept for the
    // finder-pattern count when nothing was painted.
    const found: CodeRead[] = [];
    let source = new RGBLuminanceSource(small.data, small.width, small.height);
    let binary = bitmap(source);
    while (found.length < MAX_CODES) {
      const code = readOne(binary, small);
      if (!code || found.some((c) => c.text === code.text && c.format === code.format)) break;
      found.push({ ...code, box: back(corners(code.box)) });
      paint(small.data, small.width, small.height, code.box);
      source = new RGBLuminanceSource(small.data, small.width, small.height);
      binary = bitmap(source);
    }
    if (found.some((c) => c.source === 'qr_code')) return found;
    const contrast = unreadQrCodes(source, binary);
    return contrast ? [...found, ...readQrCodes(small, contrast, back)] : found;
  });
}

/**
 * Runs ZXing with no stack traces recorded: it reports "no code here" by throwing, several
 * times a picture, and recording the stack of each error was a tenth of the time of reading.
 */
function withoutStacks<T>(read: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return read();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The next code of the picture, its box in the picture's pixels. */
function readOne(binary: BinaryBitmap, image: Luminance): CodeRead | undefined {
  const reader = new MultiFormatReader();
  reader.setHints(codeHints);
  let result: Result;
  try {
    result = reader.decode(binary);
  } catch {
    return undefined; // NotFoundException and its kin: no code
  } finally {
    reader.reset();
  }
  const points: Point[] = result.getResultPoints().map((p) => [p.getX(), p.getY()]);
  if (points.length === 0 || result.getText() === '') return undefined;
  const format = result.getBarcodeFormat();
  let box = boxAround(points, image.width, image.height);
  if (format === BarcodeFormat.QR_CODE) {
    // The points are the centres of the finder patterns (3½ modules inside the corners) and of
    // the alignment pattern: a margin of 30% of their spread covers the corners of any version.
    const margin = Math.ceil(Math.max(box.width, box.height) * 0.3) + 2;
    box = grow(box, margin, margin, image);
  } else if (box.height < box.width / 4) {
    // A one-dimensional code reports points on one scan line: grow the box to its bars' height.
    box = grow(box, 12, Math.ceil(box.width / 3), image);
  }
  return {
    source: format === BarcodeFormat.QR_CODE ? 'qr_code' : 'barcode',
    text: result.getText(),
    box,
    format: BarcodeFormat[format] ?? 'barcode',
  };
}

/**
 * Where ZXing sees at least three finder patterns of QR codes without a QR code read: dark on
 * light or light on dark (which the first reading does not try). It is one code ZXing cannot
 * decode (in a grainy photo), or several whose patterns it mixed up; then jsQR is worth its cost,
 * in that contrast only. (Grain and low contrast also make patterns appear: jsQR then reads
 * nothing.)
 */
function unreadQrCodes(normal: LuminanceSource, normalBitmap: BinaryBitmap): Contrast | undefined {
  const [dark, light] = [normalBitmap, bitmap(new InvertedLuminanceSource(normal))].map((binary) => {
    let patterns = 0;
    const hints = new Map<DecodeHintType, unknown>([
      [DecodeHintType.TRY_HARDER, true],
      [DecodeHintType.NEED_RESULT_POINT_CALLBACK, { foundPossibleResultPoint: () => (patterns += 1) }],
    ]);
    try {
      new QRCodeReader().decode(binary, hints);
      return true;
    } catch {
      return patterns >= 3;
    }
  });
  return dark && light ? 'both' : dark ? 'dark' : light ? 'light' : undefined;
}

const bitmap = (source: LuminanceSource) => new BinaryBitmap(new HybridBinarizer(source));

function grow(box: LeakBox, dx: number, dy: number, image: { width: number; height: number }): LeakBox {
  return boxAround(
    [
      [box.x - dx, box.y - dy],
      [box.x + box.width + dx, box.y + box.height + dy],
    ],
    image.width,
    image.height,
  );
}

function readQrCodes(
  grey: Luminance,
  contrast: Contrast,
  back: (points: readonly Point[]) => LeakBox,
): CodeRead[] {
  // jsQR wants RGBA; each code found is painted over so that the next call finds the next one.
  // Light codes on dark are turned dark on light here: jsQR's own `onlyInvert` fails.
  const invert = contrast === 'light' ? 255 : 0;
  const rgba = new Uint8ClampedArray(grey.width * grey.height * 4);
  for (let i = 0; i < grey.data.length; i++) {
    const v = Math.abs(invert - (grey.data[i] ?? 0));
    rgba[i * 4] = v;
    rgba[i * 4 + 1] = v;
    rgba[i * 4 + 2] = v;
    rgba[i * 4 + 3] = 255;
  }
  const found: CodeRead[] = [];
  for (let n = 0; n < MAX_CODES; n++) {
    const code = jsQR(rgba, grey.width, grey.height, {
      inversionAttempts: contrast === 'both' ? 'attemptBoth' : 'dontInvert',
    });
    if (!code) break;
    const l = code.location;
    const points: Point[] = [l.topLeftCorner, l.topRightCorner, l.bottomLeftCorner, l.bottomRightCorner].map(
      (p) => [p.x, p.y],
    );
    // The corners are the centres of the finder patterns' outer edges: add a quiet margin.
    const raw = boxAround(points, grey.width, grey.height);
    const margin = Math.ceil(Math.max(raw.width, raw.height) * 0.08) + 2;
    const padded: Point[] = [
      [raw.x - margin, raw.y - margin],
      [raw.x + raw.width + margin, raw.y + raw.height + margin],
    ];
    // Grain can pass for a code that holds nothing: it is painted over, not reported.
    if (code.data !== '')
      found.push({ source: 'qr_code', text: code.data, box: back(padded), format: 'QR_CODE' });
    paint(rgba, grey.width, grey.height, boxAround(padded, grey.width, grey.height), 4);
  }
  return found;
}

/** Paints a box white in an image of `channels` values a pixel. */
function paint(data: Uint8ClampedArray, width: number, height: number, box: LeakBox, channels = 1): void {
  const right = Math.min(width, box.x + box.width);
  for (let y = box.y; y < Math.min(height, box.y + box.height); y++) {
    data.fill(255, (y * width + box.x) * channels, (y * width + right) * channels);
  }
}
