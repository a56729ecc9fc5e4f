import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodePixels } from './image.js';
import { textSkew } from './skew.js';

/** A screenful of text lines, turned clockwise by `angle` degrees as a photo of it would be. */
async function page(angle: number, dark = false): Promise<Buffer> {
  const [background, ink] = dark ? ['#1e1f22', '#e8e8e8'] : ['#ffffff', '#1f1f1f'];
  const lines = Array.from(
    { length: 14 },
    (_, i) =>
      `<text x="80" y="${120 + i * 42}" font-family="DejaVu Sans" font-size="22" fill="${ink}">` +
      `Meeting ID: 949 3943 8769 — Passcode: svSpdB — line ${i + 1} of the invitation</text>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900"><rect width="1600" height="900" fill="${background}"/>${lines}</svg>`;
  return sharp(Buffer.from(svg)).rotate(angle, { background }).png().toBuffer();
}

describe('the slope of the text', () => {
  it.each([0, 3, -5.5, 8, -11])('is measured on a page turned %s°', async (angle) => {
    const grey = await decodePixels(await page(angle), 1);
    expect(Math.abs((await textSkew(grey)) - angle)).toBeLessThanOrEqual(0.3);
  });

  it('is measured on light text on a dark screen too', async () => {
    const grey = await decodePixels(await page(-4, true), 1);
    expect(Math.abs((await textSkew(grey)) + 4)).toBeLessThanOrEqual(0.3);
  });

  it('is 0 on a blank picture', async () => {
    const blank = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#777' } })
      .png()
      .toBuffer();
    expect(await textSkew(await decodePixels(blank, 1))).toBe(0);
  });
});
