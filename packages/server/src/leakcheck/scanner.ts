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
}

export interface ScannerOptions {
  /** OCR threads; each reads one image at a time. Default 1. */
  workers?: number;
  /** Where the language data links and their decompressed cache live. */
  dir?: string;
}

/** Below this many confident words, the reading is deemed poor and another view is tried. */
const FEW_WORDS = 6;
/** Under this mean confidence, an enlarged view is read. */
const LOW_CONFIDENCE = 82;
/** Slopes beyond this (degrees) get a straightened view. */
const SKEWED = 1.2;
/** The largest side read at scale 1; larger pictures are reduced to it. */
const MAX_SIDE = 2600;
/** Smaller pictures are enlarged to at least this long side. */
const MIN_SIDE = 1400;

export class LeakScanner {
  private constructor(private readonly ocr: OcrPool) {}

  static async start(options: ScannerOptions = {}): Promise<LeakScanner> {
    const dir = options.dir ?? join(tmpdir(), `rempart-ocr-${process.getuid?.() ?? 'user'}`);
    return new LeakScanner(await OcrPool.start({ workers: options.workers ?? 1, dir }));
  }

  get workers(): number {
    return this.ocr.size;
  }

  async scan(file: Buffer, options: { redact?: boolean } = {}): Promise<ScanResult> {
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
    };
  }

  /** Reads the text in as many views as the picture needs. */
  private async read(grey: Pixels): Promise<{ findings: TextFinding[]; views: View[] }> {
    const side = Math.max(grey.width, grey.height);
    const base = side > MAX_SIDE ? MAX_SIDE / side : side < MIN_SIDE ? Math.min(3, MIN_SIDE / side) : 1;
    const views: View[] = [];
    const findings: TextFinding[] = [];
    const pass = async (view: View): Promise<PassResult> => {
      views.push(view);
      const result = await this.ocr.readPass(grey, view);
      findings.push(...detectLeaks(result.lines));
      return result;
    };

    const first = await pass({ scale: base, angle: 0 });
    const straight = Math.abs(first.skew) > SKEWED ? await pass({ scale: base, angle: -first.skew }) : first;
    if (straight.confidentWords < FEW_WORDS) {
      for (const angle of [90, 270, 180]) {
        if ((await pass({ scale: base, angle })).confidentWords >= FEW_WORDS * 2) break;
      }
    } else if (straight.meanConfidence < LOW_CONFIDENCE && base * side < MAX_SIDE * 1.5) {
      await pass({ scale: base * 1.6, angle: views.at(-1)?.angle ?? 0 });
    }
    return { findings, views };
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
