/**
 * The leak scanner: one image in, what it gives away out (read in its text by OCR, in its QR
 * codes and barcodes, in its metadata), and optionally the redacted copy.
 *
 * Hard pictures get more than one reading. The first is the upright image, contrast stretched
 * (small images enlarged). When its text lines slope, a straightened view is read too; when
 * little is read with confidence, an enlarged view; when almost nothing is, the quarter turns.
 * Findings from every view are mapped back to the original pixels and merged.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LeakcheckFormat } from '@rempart/core';
import { readCodes, type CodeRead } from './codes.js';
import { detectLeaks, type Finding as TextFinding } from './detectors.js';
import { mergeFindings, type Finding } from './findings.js';
import { decodePixels, inspectImage, type Pixels } from './image.js';
import { metadataFindings } from './metadata.js';
import { OcrPool, type PassResult, type View } from './ocr.js';
import { redact } from './redact.js';

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
}

/** A reading is good enough to stop at when it has this many words… */
const ENOUGH_WORDS = 6;
/** …read with at least this mean confidence. */
const GOOD_CONFIDENCE = 80;
/** Under this mean confidence the text may be sideways: the quarter turns are probed. */
const SIDEWAYS_CONFIDENCE = 70;
/** Slopes beyond this (degrees) get a straightened view. */
const SKEWED = 1.2;
/** The largest side read at scale 1; larger pictures are reduced to it. */
const MAX_SIDE = 2600;
/** Smaller pictures are enlarged to at least this long side. */
const MIN_SIDE = 1400;
/** Text lower than this (pixels) is enlarged for the black-and-white view. */
const SMALL_TEXT = 24;
/** The scale of the cheap views that only probe which way the text runs. */
const PROBE_SCALE = 0.5;

const good = (r: PassResult): boolean => r.words >= ENOUGH_WORDS && r.meanConfidence >= GOOD_CONFIDENCE;

export class LeakScanner {
  private constructor(private readonly ocr: OcrPool) {}

  static async start(options: ScannerOptions = {}): Promise<LeakScanner> {
    const dir = options.dir ?? join(tmpdir(), `rempart-ocr-${process.getuid?.() ?? 'user'}`);
    return new LeakScanner(await OcrPool.start({ workers: options.workers ?? 1, dir }));
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
   * Reads the text in as many views as the picture needs: upright and contrast-stretched; then,
   * if its lines slope, straightened; if the reading is still poor and may be sideways, the
   * quarter turns are probed at low resolution and the best one read in full; if still poor, a
   * black-and-white view by local threshold, enlarged when the text is small.
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

    let best = await pass({ scale: base, angle: 0 });
    let angle = 0;
    if (Math.abs(best.skew) > SKEWED) {
      const straight = await pass({ scale: base, angle: -best.skew });
      if (straight.meanConfidence >= best.meanConfidence) [best, angle] = [straight, -best.skew];
    }
    if (good(best)) return { findings, views, texts };

    if (best.meanConfidence < SIDEWAYS_CONFIDENCE) {
      let turn: { angle: number; result: PassResult } | undefined;
      for (const quarter of [90, 270, 180]) {
        const probe = await pass({ scale: base * PROBE_SCALE, angle: quarter }, true);
        if (
          probe.words >= ENOUGH_WORDS &&
          probe.meanConfidence >= Math.max(turn?.result.meanConfidence ?? 0, GOOD_CONFIDENCE - 5)
        )
          turn = { angle: quarter, result: probe };
      }
      if (turn) {
        const turned = await pass({ scale: base, angle: turn.angle });
        if (turned.meanConfidence > best.meanConfidence) [best, angle] = [turned, turn.angle];
        if (good(best)) return { findings, views, texts };
      }
    }

    const small = best.textHeight === 0 || best.textHeight * base < SMALL_TEXT;
    const scale = small ? Math.min(base * 2, (MAX_SIDE * 1.5) / side) : base;
    await pass({ scale: Math.max(scale, base), angle, binarise: true });
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
