/**
 * The findings of a leak check as the console shows them: what the picture shows, numbered on
 * the image and in the list alike, apart from what the file's metadata holds; and where each
 * box sits on the image at whatever size it is displayed.
 */
import type { LeakBox, LeakCheckResult, LeakFinding } from '@rempart/core';

export interface NumberedFinding {
  /** From 1, the same on the image and in the list. */
  number: number;
  finding: LeakFinding;
  /** The finding's area, kept inside the image; null when it was not located. */
  box: LeakBox | null;
}

export interface ArrangedFindings {
  /** Read in the picture (its text, QR codes, barcodes): most severe first, then in reading order. */
  pictured: NumberedFinding[];
  /** Found in the file's metadata: nothing to draw. */
  metadata: LeakFinding[];
}

type Size = Pick<LeakCheckResult['image'], 'width' | 'height'>;

const rank: Readonly<Record<LeakFinding['severity'], number>> = { high: 0, medium: 1, low: 2 };

/** A box cut to the image, or null when nothing of it is on the image. */
export function boxWithin(box: LeakBox, image: Size): LeakBox | null {
  const x = Math.min(box.x, image.width);
  const y = Math.min(box.y, image.height);
  const width = Math.min(box.width, image.width - x);
  const height = Math.min(box.height, image.height - y);
  return width > 0 && height > 0 ? { x, y, width, height } : null;
}

/** Top to bottom, then left to right; what was not located comes last. */
function readingOrder(a: LeakBox | null, b: LeakBox | null): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  return a.y - b.y || a.x - b.x;
}

/**
 * @example
 *   arrangeFindings(result).pictured.map((f) => f.number) // → [1, 2, 3]
 */
export function arrangeFindings(result: { findings: readonly LeakFinding[]; image: Size }): ArrangedFindings {
  const pictured = result.findings
    .filter((finding) => finding.source !== 'metadata')
    .map((finding) => ({ finding, box: finding.box && boxWithin(finding.box, result.image) }))
    .sort((a, b) => rank[a.finding.severity] - rank[b.finding.severity] || readingOrder(a.box, b.box))
    .map((entry, index) => ({ number: index + 1, ...entry }));
  const metadata = result.findings.filter((finding) => finding.source === 'metadata');
  return { pictured, metadata };
}

/** `part` as a percentage of `whole`, as an SVG length (`25%`), to 3 decimals. */
export function percent(part: number, whole: number): string {
  return `${whole > 0 ? Math.round((part / whole) * 100_000) / 1000 : 0}%`;
}
