/**
 * Bytes to lines, for files: a line ends at LF (a CR before it goes too), empty lines are skipped,
 * an unfinished line is held until its LF comes, and a line longer than `maxLine` octets is cut
 * there (the cut counted, the rest skipped) so that memory stays bounded whatever the file holds.
 * Lines are decoded as UTF-8 whole, never chunk by chunk, so a character split between two reads
 * is kept.
 */

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  /** Lines cut at `maxLine`. */
  truncated = 0;
  /** Skipping to the next LF: the rest of a cut line, or a line whose start was not read. */
  skipping = false;
  private parts: Buffer[] = [];
  private partLength = 0;

  constructor(readonly maxLine: number) {}

  /** Octets held for the unfinished line (never more than `maxLine`). */
  get buffered(): number {
    return this.partLength;
  }

  /** The lines `chunk` completes, in order. `chunk` may be reused by the caller afterwards. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let at = 0;
    while (at < chunk.length) {
      const lf = chunk.indexOf(LF, at);
      const end = lf === -1 ? chunk.length : lf;
      if (this.skipping) {
        if (lf === -1) break;
        this.skipping = false;
        at = lf + 1;
        continue;
      }
      const room = this.maxLine - this.partLength;
      if (end - at > room) {
        this.hold(chunk.subarray(at, at + room));
        this.truncated++;
        const line = this.take();
        if (line !== undefined) lines.push(line);
        this.skipping = true;
        at += room;
        continue;
      }
      this.hold(chunk.subarray(at, end));
      if (lf === -1) break;
      const line = this.take();
      if (line !== undefined) lines.push(line);
      at = lf + 1;
    }
    return lines;
  }

  /** The unfinished line, given up on (its file was rotated away): delivered as it is. */
  flush(): string | undefined {
    this.skipping = false;
    return this.partLength > 0 ? this.take() : undefined;
  }

  /** Forgets the unfinished line and any skipping (the file started over). */
  reset(): void {
    this.parts = [];
    this.partLength = 0;
    this.skipping = false;
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Copied: the caller's read buffer is reused.
    this.parts.push(Buffer.from(bytes));
    this.partLength += bytes.length;
  }

  private take(): string | undefined {
    const bytes =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partLength);
    this.parts = [];
    this.partLength = 0;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    return end === 0 ? undefined : bytes.toString('utf8', 0, end);
  }
}
