/**
 * The leak scanner: one image in, what it gives away out (read in its text by OCR, in its QR
 * codes and barcodes, in its metadata), and optionally the redacted copy.
 *
 * Most pictures are read once: contrast stretched, small images enlarged, and straightened when
 * their text lines slope (the slope is measured on the pixels first, see skew.ts). Hard pictures
 * get more readings: the quarter turns when little is read with confidence, a black-and-white
 * view when the reading is still poor. Findings from every view are mapped back to the original
 * pixels and merged.
 *
 * An OCR pass is nearly all of the cost (about a second for a 1080p screenshot on one core), so
 * a further view is read only where it has been seen to find what the first one missed.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultLeakcheckLanguages, type LeakcheckFormat, type LeakcheckLanguage } from '@rempart/core';
import { readCodes, type CodeRead } from './codes.js';
import { detectLeaks, type Finding as TextFinding } from './detectors.js';
import { mergeFindings, type Finding } from './findings.js';
import { decodePixels, inspectImage, type Pixels } from './image.js';
import { metadataFindings } from './metadata.js';
import { OcrPool, type PassResult, type View } from './ocr.js';
import { redact } from './redact.js';
import { textSkew } from './skew.js';

export interface ScanResult {
  image: { format: LeakcheckFormat; width: number; height: number; bytes: number };
  findings: Finding[];
  redacted?: Buffer;
  elapsedMs: number;
  /** The views read, for diagnostics and benchmarks. */
  views: View[];
  /** With `keepText`: the text read in each view, line by line (diagnostics; never logged). */
  texts?: string[];
}

export interface ScannerOptions {
  /** OCR threads; each reads one image at a time. Default 1. */
  workers?: number;
  /** Where the language data links and their decompressed cache live. */
  dir?: string;
  /** The languages read, the first leading; by default the French model (see `defaultLeakcheckLanguages`). */
  languages?: readonly LeakcheckLanguage[];
}

/** A probe of a quarter turn is believed when it reads this many words… */
const ENOUGH_WORDS = 6;
/** …with at least this mean confidence (a clearly right turn stops the probing). */
const GOOD_CONFIDENCE = 75;
const CLEARLY_GOOD_CONFIDENCE = 80;
/** Under this mean confidence the text may be sideways: the quarter turns are probed. */
const SIDEWAYS_CONFIDENCE = 60;
/**
 * A reading is poor, and a black-and-white view is read too, with fewer words than this or a
 * mean confidence under `POOR_CONFIDENCE`: text on a panel that Tesseract took for a picture
 * (a light box on a dark screen), faint text, or a grid it could not lay out. Ordinary
 * screenshots and photos read a hundred words or more at 65 to 90.
 */
const POOR_WORDS = 30;
const POOR_CONFIDENCE = 60;
/** Slopes beyond this (degrees) are straightened. */
const SKEWED = 1.2;
/** The largest side read at scale 1; larger pictures are reduced to it. */
const MAX_SIDE = 2600;
/** Smaller pictures are enlarged to at least this long side. */
const MIN_SIDE = 1400;
/**
 * The black-and-white view is enlarged this much: enough to keep thin strokes through the
 * threshold; twice as large cost two to ten times as much (noise read as hundreds of words) and
 * found no more.
 */
const BLACK_AND_WHITE_SCALE = 1.25;
/** The scale of the cheap views that only probe which way the text runs. */
const PROBE_SCALE = 0.5;

const poor = (r: PassResult): boolean => r.words < POOR_WORDS || r.meanConfidence < POOR_CONFIDENCE;

export class LeakScanner {
  private constructor(private readonly ocr: OcrPool) {}

  static async start(options: ScannerOptions = {}): Promise<LeakScanner> {
    const dir = options.dir ?? join(tmpdir(), `rempart-ocr-${process.getuid?.() ?? 'user'}`);
    return new LeakScanner(
      await OcrPool.start({
        workers: options.workers ?? 1,
        dir,
        languages: options.languages ?? defaultLeakcheckLanguages,
      }),
    );
  }

  get workers(): number {
    return this.ocr.size;
  }

  async scan(file: Buffer, options: { redact?: boolean; keepText?: boolean } = {}): Promise<ScanResult> {
    const started = performance.now();
    const header = await inspectImage(file);
    const grey = await decodePixels(file, 1);
    const [codes, reading] = await Promise.all([readCodes(grey), this.read(grey)]);
    const findings = mergeFindings([
      ...reading.findings.map(fromText('text')),
      ...codes.flatMap(codeFindings),
      ...metadataFindings(header),
    ]);
    const boxes = findings.flatMap((f) => (f.box ? [f.box] : []));
    const redacted = options.redact ? await redact(file, header, boxes) : undefined;
    return {
      image: { format: header.format, width: header.width, height: header.height, bytes: header.bytes },
      findings,
      ...(redacted ? { redacted } : {}),
      elapsedMs: performance.now() - started,
      views: reading.views,
      ...(options.keepText ? { texts: reading.texts } : {}),
    };
  }

  /**
   * Reads the text in as many views as the picture needs: upright (straightened if its lines
   * slope) and contrast-stretched; if the reading is poor and may be sideways, the quarter turns
   * are probed at low resolution and the best one read in full; if still poor, a black-and-white
   * view by local threshold.
   */
  private async read(grey: Pixels): Promise<{ findings: TextFinding[]; views: View[]; texts: string[] }> {
    const side = Math.max(grey.width, grey.height);
    const base = side > MAX_SIDE ? MAX_SIDE / side : side < MIN_SIDE ? Math.min(3, MIN_SIDE / side) : 1;
    const views: View[] = [];
    const findings: TextFinding[] = [];
    const texts: string[] = [];
    const pass = async (view: View, probe = false): Promise<PassResult> => {
      views.push(view);
      const result = await this.ocr.readPass(grey, view);
      if (!probe) {
        findings.push(...detectLeaks(result.lines));
        texts.push(result.lines.map((l) => l.words.map((w) => w.text).join(' ')).join('\n'));
      }
      return result;
    };

    const skew = await textSkew(grey);
    let angle = Math.abs(skew) > SKEWED ? -skew : 0;
    let best = await pass({ scale: base, angle });

    if (best.meanConfidence < SIDEWAYS_CONFIDENCE) {
      let turn: { angle: number; result: PassResult } | undefined;
      for (const quarter of [90, 270, 180]) {
        const probe = await pass({ scale: base * PROBE_SCALE, angle: quarter }, true);
        if (
          probe.words >= ENOUGH_WORDS &&
          probe.meanConfidence >= Math.max(turn?.result.meanConfidence ?? 0, GOOD_CONFIDENCE)
        )
          turn = { angle: quarter, result: probe };
        if (turn && turn.result.meanConfidence >= CLEARLY_GOOD_CONFIDENCE) break;
      }
      if (turn) {
        const turned = await pass({ scale: base, angle: turn.angle });
        if (turned.meanConfidence > best.meanConfidence) [best, angle] = [turned, turn.angle];
      }
    }

    if (poor(best)) await pass({ scale: base * BLACK_AND_WHITE_SCALE, angle, binarise: true });
    return { findings, views, texts };
  }

  async close(): Promise<void> {
    await this.ocr.close();
  }
}

const fromText =
  (source: Finding['source']) =>
  (f: TextFinding): Finding => ({
    kind: f.kind,
    source,
    text: f.text,
    box: f.box,
    reason: f.reason,
    severity: f.severity,
    ...(f.details ? { details: f.details } : {}),
  });

/** What a QR code or barcode holds goes through the text detectors; anything else is still reported. */
function codeFindings(code: CodeRead): Finding[] {
  const words = code.text
    .split(/\s+/)
    .filter(Boolean)
    .map((text) => ({ text, box: code.box, confidence: 100 }));
  const found = detectLeaks(words.length > 0 ? [{ words }] : []).map((f) => ({
    ...fromText(code.source)(f),
    box: code.box,
    reason: `${code.source === 'qr_code' ? 'A QR code' : 'A barcode'} holds this: ${f.reason}`,
  }));
  if (found.length > 0) return found;
  const shown = code.text.length > 200 ? `${code.text.slice(0, 200)}…` : code.text;
  return [
    {
      kind: code.source,
      source: code.source,
      text: shown,
      box: code.box,
      reason:
        code.source === 'qr_code'
          ? 'A QR code: anyone who photographs the picture can read what it holds.'
          : `A barcode (${code.format}): anyone who photographs the picture can read what it holds.`,
      severity: 'low',
    },
  ];
}
