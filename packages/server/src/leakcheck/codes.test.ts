import type { EncodeHintType } from '@zxing/library';
import { BarcodeFormat, DataMatrixWriter } from '@zxing/library';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readCodes } from './codes.js';
import { decodePixels } from './image.js';

/** A white page with `parts` drawn at their places. */
async function page(width: number, height: number, parts: { image: Buffer; left: number; top: number }[]) {
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(parts.map((p) => ({ input: p.image, left: p.left, top: p.top })))
    .png()
    .toBuffer();
  return decodePixels(png, 1);
}

const qr = (text: string, size: number) => QRCode.toBuffer(text, { width: size, margin: 1 });

async function dataMatrix(text: string, module: number): Promise<Buffer> {
  const matrix = new DataMatrixWriter().encode(
    text,
    BarcodeFormat.DATA_MATRIX,
    0,
    0,
    new Map<EncodeHintType, unknown>(),
  );
  const side = matrix.getWidth();
  const height = matrix.getHeight();
  const quiet = 2;
  const w = (side + quiet * 2) * module;
  const h = (height + quiet * 2) * module;
  const pixels = Buffer.alloc(w * h, 255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < side; x++) {
      if (!matrix.get(x, y)) continue;
      for (let dy = 0; dy < module; dy++) {
        const row = ((y + quiet) * module + dy) * w;
        pixels.fill(0, row + (x + quiet) * module, row + (x + quiet + 1) * module);
      }
    }
  }
  return sharp(pixels, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toBuffer();
}

const inside = (box: { x: number; y: number; width: number; height: number }, x: number, y: number) =>
  x >= box.x && y >= box.y && x <= box.x + box.width && y <= box.y + box.height;

describe('QR codes and barcodes', () => {
  it('reads two QR codes on one page, each with a box around it', async () => {
    const link = 'https://rempart.example.org/m/Ab3dEfGhIjKlMnOpQrStUv';
    const zoom = 'https://zoom.us/j/84522319087?pwd=aGVsbG8';
    const codes = await readCodes(
      await page(1400, 700, [
        { image: await qr(link, 240), left: 100, top: 200 },
        { image: await qr(zoom, 200), left: 900, top: 300 },
      ]),
    );
    expect(codes.map((c) => c.text).sort()).toEqual([link, zoom].sort());
    const first = codes.find((c) => c.text === link);
    expect(first?.source).toBe('qr_code');
    // The box holds the code's centre and stays near its size.
    expect(first && inside(first.box, 220, 320)).toBe(true);
    expect(first?.box.width).toBeGreaterThan(200);
    expect(first?.box.width).toBeLessThan(300);
  });

  it('reads a QR code on a page larger than the reading size, mapping its box back', async () => {
    const codes = await readCodes(
      await page(3200, 1800, [{ image: await qr('PIN 482135', 400), left: 2500, top: 1200 }]),
    );
    expect(codes).toHaveLength(1);
    expect(codes[0] && inside(codes[0].box, 2700, 1400)).toBe(true);
  });

  it('reads a Data Matrix code', async () => {
    const codes = await readCodes(
      await page(800, 600, [{ image: await dataMatrix('Conference ID 123456789', 8), left: 300, top: 200 }]),
    );
    expect(codes).toEqual([
      expect.objectContaining({ source: 'barcode', text: 'Conference ID 123456789', format: 'DATA_MATRIX' }),
    ]);
    expect(codes[0] && inside(codes[0].box, 380, 280)).toBe(true);
  });

  it('reads a QR code and a Data Matrix code on one page', async () => {
    const codes = await readCodes(
      await page(1200, 600, [
        { image: await qr('https://meet.jit.si/CrisisCellWeekly042', 220), left: 80, top: 150 },
        // ZXing looks for a Data Matrix code from the middle of the picture outwards.
        { image: await dataMatrix('PIN 482135', 8), left: 520, top: 220 },
      ]),
    );
    expect(codes.map((c) => [c.source, c.text]).sort()).toEqual([
      ['barcode', 'PIN 482135'],
      ['qr_code', 'https://meet.jit.si/CrisisCellWeekly042'],
    ]);
    const code = codes.find((c) => c.source === 'qr_code');
    expect(code && inside(code.box, 90, 160) && inside(code.box, 290, 360)).toBe(true);
  });

  it('reads a light QR code on a dark screen', async () => {
    const link = 'https://rempart.example.org/m/Ab3dEfGhIjKlMnOpQrStUv';
    const light = await QRCode.toBuffer(link, {
      width: 240,
      margin: 2,
      color: { dark: '#eeeeee', light: '#202124' },
    });
    const png = await sharp({ create: { width: 1000, height: 600, channels: 3, background: '#202124' } })
      .composite([{ input: light, left: 600, top: 200 }])
      .png()
      .toBuffer();
    const codes = await readCodes(await decodePixels(png, 1));
    expect(codes.map((c) => c.text)).toEqual([link]);
    expect(codes[0] && inside(codes[0].box, 720, 320)).toBe(true);
  });

  it('finds nothing on a page without codes', async () => {
    const text = Buffer.from(
      '<svg width="600" height="200"><text x="10" y="100" font-size="30">Agenda 14:00 room 3.12</text></svg>',
    );
    expect(
      await readCodes(await page(800, 400, [{ image: await sharp(text).png().toBuffer(), left: 0, top: 0 }])),
    ).toEqual([]);
  });
});
