/**
 * A finding as the scanner reports it (before the meetings response adds what was done about a
 * Rempart link), and the box arithmetic shared by the OCR passes, the code readers and redaction.
 */
import type { LeakBox, LeakFinding } from '@rempart/core';

export interface Finding extends Omit<LeakFinding, 'meeting'> {
  details?: {
    /** The id of a Rempart meeting link (`/m/<id>`), as read. */
    linkId?: string;
    /** Other readings of the same link's id, from other views of the image. */
    otherLinkIds?: string[];
    /** The digits of a code, separators removed. */
    digits?: string;
  };
}

export type Point = readonly [number, number];

/** The smallest box holding every point, rounded outwards and clipped to the image. */
export function boxAround(points: readonly Point[], width: number, height: number): LeakBox {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const x1 = Math.min(width, Math.ceil(Math.max(...xs)));
  const y1 = Math.min(height, Math.ceil(Math.max(...ys)));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

export const corners = (b: LeakBox): Point[] => [
  [b.x, b.y],
  [b.x + b.width, b.y],
  [b.x, b.y + b.height],
  [b.x + b.width, b.y + b.height],
];

export function overlap(a: LeakBox, b: LeakBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller === 0 ? 0 : (w * h) / smaller;
}

export function union(a: LeakBox, b: LeakBox): LeakBox {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

const normalised = (f: Finding) =>
  f.details?.digits ?? f.details?.linkId ?? f.text.toLowerCase().replace(/\s+/g, '');

/**
 * Findings from several readings of one image (OCR passes, QR codes) merged: the same secret
 * read twice at the same place is reported once, with the union of the boxes so the mask covers
 * both readings. Sorted top to bottom, then left to right; metadata last.
 */
export function mergeFindings(findings: readonly Finding[]): Finding[] {
  const kept: Finding[] = [];
  for (const f of findings) {
    const same = kept.find(
      (k) =>
        k.kind === f.kind &&
        k.source === f.source &&
        (k.box === null || f.box === null
          ? k.box === f.box && normalised(k) === normalised(f)
          : overlap(k.box, f.box) > 0.5 || (normalised(k) === normalised(f) && overlap(k.box, f.box) > 0)),
    );
    if (!same) {
      kept.push({ ...f });
      continue;
    }
    if (same.box && f.box) same.box = union(same.box, f.box);
    // Every reading of a link's id is kept: one view may misread what another read right.
    const linkIds = [same.details?.linkId, ...(same.details?.otherLinkIds ?? []), f.details?.linkId];
    if (f.text.length > same.text.length) {
      same.text = f.text;
      same.reason = f.reason;
      if (f.details) same.details = f.details;
    }
    const [linkId, ...otherLinkIds] = [...new Set(linkIds.filter((id): id is string => !!id))];
    if (linkId && otherLinkIds.length > 0) same.details = { ...same.details, linkId, otherLinkIds };
  }
  return kept.sort((a, b) => {
    if (!a.box || !b.box) return a.box ? -1 : b.box ? 1 : 0;
    return a.box.y - b.box.y || a.box.x - b.box.x;
  });
}
