/**
 * The slope of the text in a picture, measured on its pixels before any OCR: a photo of a screen
 * turned a few degrees is then read once, straightened, instead of read upright, found sloping,
 * and read again (an OCR pass costs a hundred times more than this).
 *
 * Projection profiles: the edges of the letters are counted along lines of each candidate slope;
 * at the text's own slope the lines of text and the gaps between them fall into separate bins,
 * and the counts are the most uneven (their sum of squares is the largest).
 */
import sharp from 'sharp';
import type { Pixels } from './image.js';

/** Slopes tried, in degrees either way: a photo turned further is handled by the quarter turns. */
export const SKEW_RANGE = 12;
/** The picture is measured at about this width: letters stay distinct, and it costs milliseconds. */
const SAMPLE_WIDTH = 800;
/** A pixel is an edge when it differs from its four neighbours' mean by this much. */
const EDGE_CONTRAST = 20;
/** Edges weighed at most: a screenful of text has several times more, evenly spread. */
const MAX_EDGES = 12_000;

/**
 * The slope of the text lines in degrees, positive when they fall to the right (as after turning
 * the picture clockwise); 0 for a picture without text.
 */
export async function textSkew(grey: Pixels): Promise<number> {
  const { xs, ys, count, width, height } = await edges(grey);
  if (count === 0) return 0;
  // Rows of every slope tried, shifted by the width so that none is negative.
  const bins = new Int32Array(height + 2 * width + 2);
  const unevenness = (degrees: number): number => {
    const t = Math.tan((degrees * Math.PI) / 180);
    bins.fill(0);
    for (let i = 0; i < count; i++) {
      // The row where a line of this slope through the edge meets the left side.
      const bin = Math.round((ys[i] ?? 0) - (xs[i] ?? 0) * t) + width;
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    let sum = 0;
    for (const n of bins) sum += n * n;
    return sum;
  };
  let best = 0;
  let bestScore = unevenness(0);
  const consider = (degrees: number): void => {
    const score = unevenness(degrees);
    if (score > bestScore) [best, bestScore] = [degrees, score];
  };
  for (let degrees = -SKEW_RANGE; degrees <= SKEW_RANGE; degrees += 1) consider(degrees);
  const coarse = best;
  for (let tenths = -9; tenths <= 9; tenths++) consider(coarse + tenths / 10);
  return Math.round(best * 10) / 10;
}

/**
 * The edge pixels of a reduced copy (its resampling also averages out sensor noise), at most
 * `MAX_EDGES` of them spread evenly: enough to weigh every line.
 */
async function edges(
  grey: Pixels,
): Promise<{ xs: Int32Array; ys: Int32Array; count: number; width: number; height: number }> {
  const scale = Math.min(1, SAMPLE_WIDTH / grey.width);
  const { data, info } = await sharp(grey.data, {
    raw: { width: grey.width, height: grey.height, channels: grey.channels },
  })
    .resize(Math.max(1, Math.round(grey.width * scale)), Math.max(1, Math.round(grey.height * scale)), {
      kernel: 'linear',
    })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const threshold = EDGE_CONTRAST * 4;
  const found = new Int32Array(width * height);
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1, i = y * width + 1; x < width - 1; x++, i++) {
      const around =
        (data[i - 1] ?? 0) + (data[i + 1] ?? 0) + (data[i - width] ?? 0) + (data[i + width] ?? 0);
      const d = 4 * (data[i] ?? 0) - around;
      if (d > threshold || d < -threshold) found[n++] = i;
    }
  }
  const every = Math.max(1, Math.ceil(n / MAX_EDGES));
  const count = Math.ceil(n / every);
  const xs = new Int32Array(count);
  const ys = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const i = found[k * every] ?? 0;
    xs[k] = i % width;
    ys[k] = Math.floor(i / width);
  }
  return { xs, ys, count, width, height };
}
