/**
 * QR codes and barcodes in a picture. A QR code on a slide or a badge often holds a meeting link;
 * its content goes through the same text detectors as OCR, and its whole area is masked.
 *
 * Both readers are plain JavaScript on the calling thread, so they look at a copy of the image
 * no larger than `CODES_MAX_SIDE` (codes worth reading stay legible at that size).
 */
import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  HybridBinarizer,
  MultiFormatReader,
  RGBLuminanceSource,
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
const MAX_QR_CODES = 8;

export interface CodeRead {
  source: 'qr_code' | 'barcode';
  text: string;
  box: LeakBox;
  format: string;
}

const barcodeHints = new Map<DecodeHintType, unknown>([
  [
    DecodeHintType.POSSIBLE_FORMATS,
    [
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

/** Reads the codes of a grey image; boxes are in the image's own pixels. */
export async function readCodes(grey: Pixels): Promise<CodeRead[]> {
  const scale = Math.min(1, CODES_MAX_SIDE / Math.max(grey.width, grey.height));
  const small =
    scale < 1
      ? await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
          .resize(Math.round(grey.width * scale), Math.round(grey.height * scale), { kernel: 'linear' })
          .extractChannel(0)
          .raw()
          .toBuffer({ resolveWithObject: true })
          .then(({ data, info }) => ({ data, width: info.width, height: info.height }))
      : grey;
  const back = (points: readonly Point[]) =>
    boxAround(
      points.map(([x, y]) => [x / scale, y / scale] as const),
      grey.width,
      grey.height,
    );
  return [...readQrCodes(small, back), ...readBarcode(small, back)];
}

function readQrCodes(
  grey: { data: Buffer; width: number; height: number },
  back: (points: readonly Point[]) => LeakBox,
): CodeRead[] {
  // jsQR wants RGBA; each code found is painted over so that the next call finds the next one.
  const rgba = new Uint8ClampedArray(grey.width * grey.height * 4);
  for (let i = 0; i < grey.data.length; i++) {
    const v = grey.data[i] ?? 0;
    rgba[i * 4] = v;
    rgba[i * 4 + 1] = v;
    rgba[i * 4 + 2] = v;
    rgba[i * 4 + 3] = 255;
  }
  const found: CodeRead[] = [];
  for (let n = 0; n < MAX_QR_CODES; n++) {
    const code = jsQR(rgba, grey.width, grey.height, { inversionAttempts: 'attemptBoth' });
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
    found.push({ source: 'qr_code', text: code.data, box: back(padded), format: 'QR_CODE' });
    paint(rgba, grey.width, grey.height, boxAround(padded, grey.width, grey.height));
  }
  return found;
}

function paint(rgba: Uint8ClampedArray, width: number, height: number, box: LeakBox): void {
  for (let y = box.y; y < Math.min(height, box.y + box.height); y++) {
    rgba.fill(255, (y * width + box.x) * 4, (y * width + Math.min(width, box.x + box.width)) * 4);
  }
}

function readBarcode(
  grey: { data: Buffer; width: number; height: number },
  back: (points: readonly Point[]) => LeakBox,
): CodeRead[] {
  const reader = new MultiFormatReader();
  reader.setHints(barcodeHints);
  const source = new RGBLuminanceSource(new Uint8ClampedArray(grey.data), grey.width, grey.height);
  try {
    const result = reader.decode(new BinaryBitmap(new HybridBinarizer(source)));
    const points: Point[] = result.getResultPoints().map((p) => [p.getX(), p.getY()]);
    if (points.length === 0) return [];
    let box = boxAround(points, grey.width, grey.height);
    // A one-dimensional code reports points on one scan line: grow the box to its bars' height.
    if (box.height < box.width / 4) {
      const grow = Math.ceil(box.width / 3);
      box = boxAround(
        [
          [box.x - 12, box.y - grow],
          [box.x + box.width + 12, box.y + box.height + grow],
        ],
        grey.width,
        grey.height,
      );
    }
    return [
      {
        source: 'barcode',
        text: result.getText(),
        box: back(corners(box)),
        format: BarcodeFormat[result.getBarcodeFormat()] ?? 'barcode',
      },
    ];
  } catch {
    return []; // NotFoundException and its kin: no barcode
  } finally {
    reader.reset();
  }
}
