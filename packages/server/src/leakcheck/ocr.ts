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

/** How a view was made from the upright image: scaled, then turned clockwise about its centre. */
export interface View {
  scale: number;
  /** Degrees, clockwise; the canvas grows to hold the turned image. */
  angle: number;
}

export interface PassResult {
  /** Lines with boxes in the original image's pixels. */
  lines: OcrLine[];
  /** Words read with a confidence of 60 or more. */
  confidentWords: number;
  meanConfidence: number;
  /** The median slope of the text lines, in degrees (positive: text rising to the right… falling, in image y). */
  skew: number;
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
    for (const line of linesOf(result.data)) {
      const mapped = line.words
        .filter((w) => w.text.trim() !== '')
        .map((w) => {
          total += w.confidence;
          words += 1;
          if (w.confidence >= 60) confident += 1;
          const b = w.bbox;
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
    return {
      lines,
      confidentWords: confident,
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
  const { data, info } = await pipeline
    .normalise({ lower: 0.1, upper: 99.9 })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
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
