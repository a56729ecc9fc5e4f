/**
 * PostgreSQL's COPY text format (the `COPY … FROM` default): one row per line, columns separated
 * by a tab, `\N` for null; a backslash, a tab, a newline or a carriage return inside a value is
 * written as a backslash sequence.
 */

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** `value` as one COPY text field; null and undefined as `\N`. */
export function copyField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  // Most values (names, addresses, codes) hold none of the four: test before building a new string.
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? c) : value;
}

/**
 * Timestamps as COPY reads them, remembering the last one: a batch of log rows holds runs of rows
 * stamped in the same millisecond.
 */
export class CopyTimestamps {
  private lastMs = Number.NaN;
  private lastText = '';

  format(at: Date): string {
    const ms = at.getTime();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastText = at.toISOString();
    }
    return this.lastText;
  }
}
