/**
 * Optical character recognition: a pool of tesseract.js workers, with the language data taken
 * from the `@tesseract.js-data/*` packages in node_modules (never downloaded). Each worker is a
 * thread of its own, so a pool of N reads N images at once.
 *
 * `readPass` reads one prepared view of an image (turned, scaled, contrast-stretched) and maps
 * every word box back to the pixels of the original, so that findings from several views can be
 * merged and masked.
 */
import { copyFileSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import type { LeakcheckLanguage } from '@rempart/core';
import sharp from 'sharp';
import { createScheduler, createWorker, OEM, type Page, type Scheduler } from 'tesseract.js';
import type { OcrLine } from './detectors.js';
import { boxAround, corners } from './findings.js';
import type { Pixels } from './image.js';

/**
 * One folder holding the `.traineddata.gz` file of each language read (tesseract.js reads all
 * languages from one `langPath`, and the data packages each use the same sub-folder name), plus
 * the cache of the decompressed data.
 *
 * The folder outlives an install (it is in the system's temporary folder by default): a link left
 * by another install, moved or removed since, is replaced by one to this install's file. Each link
 * is made under a name of its own and renamed into place, so that processes preparing the folder
 * at once never see a half-made one, nor write through another's link.
 */
export function prepareLanguageData(
  dir: string,
  languages: readonly LeakcheckLanguage[],
): { langPath: string; cachePath: string } {
  const require = createRequire(import.meta.url);
  const langPath = join(dir, 'lang');
  const cachePath = join(dir, 'cache');
  mkdirSync(langPath, { recursive: true });
  mkdirSync(cachePath, { recursive: true });
  for (const lang of languages) {
    const target = join(langPath, `${lang}.traineddata.gz`);
    const source = join(
      dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)),
      '4.0.0_best_int',
      `${lang}.traineddata.gz`,
    );
    if (linkTarget(target) === source) continue;
    const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      symlinkSync(source, temporary);
    } catch {
      copyFileSync(source, temporary); // file systems without symbolic links
    }
    try {
      renameSync(temporary, target);
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  return { langPath, cachePath };
}

/** Where the symbolic link at `path` points; undefined when there is none. */
function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
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
  /** Words read. */
  words: number;
  meanConfidence: number;
}

/**
 * Each worker reads the configured languages: by default the French model alone, which knows the
 * letters of French, English and Dutch (see `defaultLeakcheckLanguages`). With several, Tesseract
 * reads again in each other language every text line holding a word it is unsure of (a code or a
 * link is one), for some 50% more time with three.
 */
export class OcrPool {
  private constructor(
    private readonly scheduler: Scheduler,
    readonly size: number,
  ) {}

  static async start(options: {
    workers: number;
    dir: string;
    languages: readonly LeakcheckLanguage[];
  }): Promise<OcrPool> {
    const { langPath, cachePath } = prepareLanguageData(options.dir, options.languages);
    const scheduler = createScheduler();
    const workers = await Promise.all(
      Array.from({ length: Math.max(1, options.workers) }, () =>
        createWorker([...options.languages], OEM.LSTM_ONLY, { langPath, cachePath, gzip: true }),
      ),
    );
    for (const worker of workers) scheduler.addWorker(worker);
    return new OcrPool(scheduler, workers.length);
  }

  /** Reads one view of an upright grey image. */
  async readPass(grey: Pixels, view: View): Promise<PassResult> {
    const { image, width, height } = await renderView(grey, view);
    // TSV holds all that is used (words, their boxes and confidences, their lines) and costs a
    // third of the JSON of blocks, which lists every symbol and its alternatives.
    const result = (await this.scheduler.addJob('recognize', image, {}, { tsv: true, text: false })) as {
      data: Page;
    };
    const back = inverse(grey.width, grey.height, width, height, view);
    const lines: OcrLine[] = [];
    let total = 0;
    for (const line of tsvLines(result.data.tsv ?? '')) {
      const mapped = line.map((w) => {
        total += w.confidence;
        const box = boxAround(
          corners({ x: w.x, y: w.y, width: w.width, height: w.height }).map(back),
          grey.width,
          grey.height,
        );
        return { text: w.text, box, confidence: w.confidence };
      });
      lines.push({ words: mapped });
    }
    const words = lines.reduce((n, l) => n + l.words.length, 0);
    return { lines, words, meanConfidence: words === 0 ? 0 : total / words };
  }

  async close(): Promise<void> {
    await this.scheduler.terminate();
  }
}

interface TsvWord {
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
}

/**
 * The words of Tesseract's TSV, line by line. Its columns: level (5 for a word), page, block,
 * paragraph, line and word numbers, left, top, width, height, confidence, text.
 */
export function tsvLines(tsv: string): TsvWord[][] {
  const lines = new Map<string, TsvWord[]>();
  for (const row of tsv.split('\n')) {
    const cells = row.split('\t');
    if (cells[0] !== '5' || cells.length < 12) continue;
    const text = cells.slice(11).join('\t').trim();
    if (text === '') continue;
    const key = `${cells[2]}.${cells[3]}.${cells[4]}`;
    const [x, y, width, height, confidence] = cells.slice(6, 11).map(Number);
    const line = lines.get(key) ?? [];
    line.push({
      text,
      x: x ?? 0,
      y: y ?? 0,
      width: width ?? 0,
      height: height ?? 0,
      confidence: confidence ?? 0,
    });
    lines.set(key, line);
  }
  return [...lines.values()];
}

/** The view as a binary PGM (the cheapest format for the OCR engine to read). */
export async function renderView(
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
  if (view.binarise) pipeline = pipeline.blur(1);
  const { data, info } = await pipeline.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  if (view.binarise) sauvola(data, info.width, info.height, SAUVOLA_WINDOW, SAUVOLA_K);
  else stretchContrast(data, STRETCH_CLIP);
  const header = Buffer.from(`P5\n${info.width} ${info.height}\n255\n`, 'ascii');
  return { image: Buffer.concat([header, data]), width: info.width, height: info.height };
}

/** The share of the darkest and of the lightest pixels clipped by the contrast stretch. */
const STRETCH_CLIP = 0.001;

/**
 * Stretches grey levels in place so that the darkest `clip` of the pixels become black and the
 * lightest `clip` white, linearly between: faint or low-contrast text gets the full range. (A
 * histogram and a table: a twelfth of the CPU of libvips' `normalise`, which goes through the
 * LAB colour space even for a grey image.)
 */
export function stretchContrast(data: Uint8Array, clip: number): void {
  const histogram = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) histogram[data[i]!]! += 1;
  const cut = Math.floor(data.length * clip);
  let low = 0;
  for (let seen = histogram[0]!; seen <= cut && low < 255;) seen += histogram[++low]!;
  let high = 255;
  for (let seen = histogram[255]!; seen <= cut && high > 0;) seen += histogram[--high]!;
  if (high <= low) return; // one grey level: nothing to stretch
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++)
    table[v] = Math.min(255, Math.max(0, Math.round(((v - low) * 255) / (high - low))));
  for (let i = 0; i < data.length; i++) data[i] = table[data[i]!]!;
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
