/**
 * Log lines sent over HTTP as JSON lines (one JSON object per line, as Winlogbeat, Vector or
 * Fluent Bit send them). Framework-free: the route hands the body over and maps the result.
 *
 * Each non-empty line must be a JSON object; the others are rejected and reported by line number,
 * and the valid ones are still queued (a shipper resending the whole body for one bad line would
 * never get through). The valid lines are queued all together or not at all: when the queue has no
 * room for them the answer says so and nothing is queued, so the sender can retry the same body
 * later (HTTP 503 with Retry-After) without duplicating a line.
 *
 * @example
 *   const ingest = createJsonLinesHandler(queue);
 *   const result = ingest('{"msg":"a"}\n{"msg":"b"}\n', '203.0.113.5');
 *   // { accepted: 2, rejected: 0, errors: [], full: false }
 */
import { RempartError } from '@rempart/core';
import { z } from 'zod';
import type { IngestItem, LineQueue } from './queue.js';

export const JsonLinesOptions = z.object({
  /** The longest line accepted, in octets; longer ones are rejected. */
  maxLine: z.number().int().min(256).max(16_777_216).default(1_048_576),
  /** How many rejected lines are described in the answer (all are counted). */
  maxErrors: z.number().int().min(0).max(10_000).default(100),
  /** What a full queue asks the sender to wait before retrying. */
  retryAfterSeconds: z.number().int().min(1).max(3600).default(5),
});
export type JsonLinesOptions = z.input<typeof JsonLinesOptions>;

export interface JsonLineError {
  /** 1-based, as an editor numbers lines. */
  line: number;
  message: string;
}

export interface JsonLinesResult {
  /** Lines queued. */
  accepted: number;
  /** Lines refused as not JSON objects (or too long, or not UTF-8). */
  rejected: number;
  /** The first rejected lines, with why. */
  errors: JsonLineError[];
  /** The queue had no room for the valid lines: none was queued; retry after `retryAfterSeconds`. */
  full: boolean;
  retryAfterSeconds?: number;
}

/** What a JSON-lines line must be: an object (events have fields), not a bare value or an array. */
const JsonObject = z.record(z.string(), z.unknown());

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A handler queuing the JSON lines of a body, with source `http`. Throws `payload_too_large` when
 * the body's valid lines could never fit in the queue together, even empty.
 */
export function createJsonLinesHandler(
  queue: LineQueue,
  options: JsonLinesOptions = {},
): (body: string | Buffer, peer?: string) => JsonLinesResult {
  const { maxLine, maxErrors, retryAfterSeconds } = JsonLinesOptions.parse(options);
  return (body, peer) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const receivedAt = Date.now();
    const items: IngestItem[] = [];
    const errors: JsonLineError[] = [];
    let rejected = 0;
    const reject = (line: number, message: string) => {
      rejected++;
      if (errors.length < maxErrors) errors.push({ line, message });
    };
    let lineNumber = 0;
    for (let at = 0; at < bytes.length;) {
      const lf = bytes.indexOf(LF, at);
      let end = lf === -1 ? bytes.length : lf;
      const next = end + 1;
      lineNumber++;
      if (end > at && bytes[end - 1] === CR) end--;
      const raw = bytes.subarray(at, end);
      at = next;
      if (isBlank(raw)) continue;
      if (raw.length > maxLine) {
        reject(lineNumber, `longer than ${maxLine} bytes`);
        continue;
      }
      let text: string;
      try {
        text = decoder.decode(raw);
      } catch {
        reject(lineNumber, 'not UTF-8');
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        reject(lineNumber, 'not JSON');
        continue;
      }
      if (!JsonObject.safeParse(value).success || Array.isArray(value)) {
        reject(lineNumber, 'not a JSON object');
        continue;
      }
      items.push(
        peer === undefined
          ? { line: text, source: 'http', receivedAt }
          : { line: text, source: 'http', receivedAt, peer },
      );
    }
    let chars = 0;
    for (const item of items) chars += item.line.length;
    if (!queue.couldFit(items.length, chars)) {
      throw new RempartError('payload_too_large', 'Too much at once: send these lines in smaller bodies.', {
        details: { maxLines: queue.capacity, maxChars: queue.maxChars },
      });
    }
    if (items.length > 0 && !queue.offerAll(items)) {
      return { accepted: 0, rejected, errors, full: true, retryAfterSeconds };
    }
    return { accepted: items.length, rejected, errors, full: false };
  };
}

/** Only spaces and tabs (a CR was already taken off). */
function isBlank(raw: Buffer): boolean {
  for (const byte of raw) if (byte !== 0x20 && byte !== 0x09) return false;
  return true;
}
