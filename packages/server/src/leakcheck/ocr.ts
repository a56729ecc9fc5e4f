/**
 * Optical character recognition: a pool of tesseract.js workers reading English, French and
 * Dutch, with the language data taken from the `@tesseract.js-data/*` packages in node_modules
 * (never downloaded). Each worker is a thread of its own, so a pool of N reads N images at once.
 *
 * `readPass` reads one prepared view of an image (turned, scaled, contrast-stretched) and maps
 * every word box back to the pixels of the original, so that findings from several views can be
 * merged and masked.
 */
import { mkdirSync, symlinkSync, copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { createScheduler, createWorker, OEM, type Line, type Page, type Scheduler } from 'tesseract.js';
import type { OcrLine } from './detectors.js';
import { boxAround, corners } from './findings.js';
import type { Pixels } from './image.js';

export const OCR_LANGUAGES = ['eng', 'fra', 'nld'] as const;

/**
 * One folder holding the three `.traineddata.gz` files (tesseract.js reads all languages from
 * one `langPath`, and the data packages each use the same sub-folder name), plus the cache of
 * the decompressed data.
 */
export function prepareLanguageData(dir: string): { langPath: string; cachePath: string } {
  const require = createRequire(import.meta.url);
  const langPath = join(dir, 'lang');
  const cachePath = join(dir, 'cache');
  mkdirSync(langPath, { recursive: true });
  mkdirSync(cachePath, { recursive: true });
  for (const lang of OCR_LANGUAGES) {
    const target = join(langPath, `${lang}.traineddata.gz`);
    if (existsSync(target)) continue;
    const source = join(
      dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)),
      '4.0.0_best_int',
      `${lang}.traineddata.gz`,
    );
    try {
      symlinkSync(source, target);
    } catch {
      copyFileSync(source, target); // file systems without symbolic links
    }
  }
  return { langPath, cachePath };
}

/** Sauvola's window (pixels) and sensitivity: low k keeps faint strokes; the blur before it keeps grain out. */
const SAUVOLA_WINDOW = 41;
const SAUVOLA_K = 0.1;

/** How a view was made from the upright image: scaled, then turned clockwise about its centre. */
export interface View {
  scale: number;
  /** Degrees, clockwise; the canvas grows to hold the turned image. */
  angle: number;
  /**
   * Black and white by a local threshold (Sauvola) instead of a global contrast stretch: faint or
   * low-contrast text on an uneven, dark or noisy background.
   */
  binarise?: boolean;
}

export interface PassResult {
  /** Lines with boxes in the original image's pixels. */
  lines: OcrLine[];
  /** Words read with a confidence of 60 or more. */
  confidentWords: number;
  /** Words read. */
  words: number;
  meanConfidence: number;
  /** The median slope of the text lines, in degrees (positive: the lines fall to the right). */
  skew: number;
  /** The median height of the confident words, in the original's pixels (0 when none). */
  textHeight: number;
}

export class OcrPool {
  private constructor(
    private readonly scheduler: Scheduler,
    readonly size: number,
  ) {}

  static async start(options: { workers: number; dir: string }): Promise<OcrPool> {
    const { langPath, cachePath } = prepareLanguageData(options.dir);
    const scheduler = createScheduler();
    const workers = await Promise.all(
      Array.from({ length: Math.max(1, options.workers) }, () =>
        createWorker([...OCR_LANGUAGES], OEM.LSTM_ONLY, { langPath, cachePath, gzip: true }),
      ),
    );
    for (const worker of workers) scheduler.addWorker(worker);
    return new OcrPool(scheduler, workers.length);
  }

  /** Reads one view of an upright grey image. */
  async readPass(grey: Pixels, view: View): Promise<PassResult> {
    const { image, width, height } = await renderView(grey, view);
    const result = (await this.scheduler.addJob('recognize', image, {}, { blocks: true, text: false })) as {
      data: Page;
    };
    const back = inverse(grey.width, grey.height, width, height, view);
    const lines: OcrLine[] = [];
    const slopes: number[] = [];
    let confident = 0;
    let total = 0;
    let words = 0;
    const heights: number[] = [];
    for (const line of linesOf(result.data)) {
      const mapped = line.words
        .filter((w) => w.text.trim() !== '')
        .map((w) => {
          total += w.confidence;
          words += 1;
          const b = w.bbox;
          if (w.confidence >= 60) {
            confident += 1;
            heights.push((b.y1 - b.y0) / view.scale);
          }
          const box = boxAround(
            corners({ x: b.x0, y: b.y0, width: b.x1 - b.x0, height: b.y1 - b.y0 }).map(back),
            grey.width,
            grey.height,
          );
          return { text: w.text, box, confidence: w.confidence };
        });
      if (mapped.length > 0) lines.push({ words: mapped });
      const { x0, y0, x1, y1 } = line.baseline;
      if (line.words.length >= 3 && x1 - x0 > 50) slopes.push((Math.atan2(y1 - y0, x1 - x0) * 180) / Math.PI);
    }
    slopes.sort((a, b) => a - b);
    heights.sort((a, b) => a - b);
    return {
      textHeight: heights[Math.floor(heights.length / 2)] ?? 0,
      lines,
      confidentWords: confident,
      words,
      meanConfidence: words === 0 ? 0 : total / words,
      skew: slopes.length === 0 ? 0 : (slopes[Math.floor(slopes.length / 2)] ?? 0),
    };
  }

  async close(): Promise<void> {
    await this.scheduler.terminate();
  }
}

function* linesOf(page: Page): Generator<Line> {
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) yield* paragraph.lines;
  }
}

/** The view as a binary PGM (the cheapest format for the OCR engine to read). */
async function renderView(
  grey: Pixels,
  view: View,
): Promise<{ image: Buffer; width: number; height: number }> {
  let pipeline = sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } });
  if (view.scale !== 1) {
    pipeline = pipeline.resize(Math.round(grey.width * view.scale), Math.round(grey.height * view.scale), {
      kernel: view.scale > 1 ? 'cubic' : 'lanczos3',
    });
  }
  if (view.angle !== 0) pipeline = pipeline.rotate(view.angle, { background: '#ffffff' });
  pipeline = view.binarise ? pipeline.blur(1) : pipeline.normalise({ lower: 0.1, upper: 99.9 });
  const { data, info } = await pipeline.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  if (view.binarise) sauvola(data, info.width, info.height, SAUVOLA_WINDOW, SAUVOLA_K);
  const header = Buffer.from(`P5\n${info.width} ${info.height}\n255\n`, 'ascii');
  return { image: Buffer.concat([header, data]), width: info.width, height: info.height };
}

/**
 * Maps a point of the view back to the original: undo the turn about the view's centre, then the
 * scale. (Turning clockwise by θ in image coordinates, y downwards: x' = x cos θ − y sin θ,
 * y' = x sin θ + y cos θ.)
 */
export function inverse(
  width: number,
  height: number,
  viewWidth: number,
  viewHeight: number,
  view: View,
): (p: readonly [number, number]) => [number, number] {
  const t = (view.angle * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const scaledW = width * view.scale;
  const scaledH = height * view.scale;
  return ([x, y]) => {
    const dx = x - viewWidth / 2;
    const dy = y - viewHeight / 2;
    const sx = cos * dx + sin * dy + scaledW / 2;
    const sy = -sin * dx + cos * dy + scaledH / 2;
    return [sx / view.scale, sy / view.scale];
  };
}

/**
 * Sauvola's local threshold, in place: a pixel is ink when darker than the mean of its
 * neighbourhood lowered by how flat that neighbourhood is (T = m·(1 + k·(s/128 − 1))). Faint text
 * on an unevenly lit or coloured background survives, where one global threshold loses it.
 */
export function sauvola(data: Buffer, width: number, height: number, window: number, k: number): void {
  const w1 = width + 1;
  const sum = new Float64Array(w1 * (height + 1));
  const squares = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    let rowSquares = 0;
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x] ?? 0;
      row += v;
      rowSquares += v * v;
      sum[(y + 1) * w1 + x + 1] = (sum[y * w1 + x + 1] ?? 0) + row;
      squares[(y + 1) * w1 + x + 1] = (squares[y * w1 + x + 1] ?? 0) + rowSquares;
    }
  }
  const half = Math.floor(window / 2);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - half);
    const y1 = Math.min(height, y + half + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - half);
      const x1 = Math.min(width, x + half + 1);
      const n = (x1 - x0) * (y1 - y0);
      const a = y0 * w1 + x0;
      const b = y0 * w1 + x1;
      const c = y1 * w1 + x0;
      const d = y1 * w1 + x1;
      const s1 = (sum[d] ?? 0) - (sum[b] ?? 0) - (sum[c] ?? 0) + (sum[a] ?? 0);
      const s2 = (squares[d] ?? 0) - (squares[b] ?? 0) - (squares[c] ?? 0) + (squares[a] ?? 0);
      const mean = s1 / n;
      const deviation = Math.sqrt(Math.max(0, s2 / n - mean * mean));
      const i = y * width + x;
      data[i] = (data[i] ?? 0) <= mean * (1 + k * (deviation / 128 - 1)) ? 0 : 255;
    }
  }
}
