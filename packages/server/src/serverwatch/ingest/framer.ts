/**
 * Syslog over a stream (TCP, TLS): where each message ends. RFC 6587 §3.4 knows two framings and
 * senders use both, so one listener accepts either and the first byte of a connection tells which:
 *  - octet counting (§3.4.1): `MSG-LEN SP SYSLOG-MSG`, MSG-LEN starting with a non-zero digit;
 *  - non-transparent framing (§3.4.2): the message, then LF (a CR before it is dropped too). A
 *    syslog message starts with `<` (its PRI), never with a digit, so the two cannot be confused.
 *
 * Memory is bounded whatever arrives: a message longer than `maxMessage` octets is cut there (the
 * rest skipped and the cut counted), a length header longer than any allowed length is a framing
 * error, and after a framing error the framer skips to the next LF and goes on.
 */

/** One message as framed: its text (UTF-8) and whether it was cut at `maxMessage`. */
export interface FramedMessage {
  text: string;
  truncated: boolean;
}

export type Framing = 'octet-counting' | 'non-transparent';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

type State =
  | { at: 'start' }
  | { at: 'length'; value: number; digits: number }
  | { at: 'body'; remaining: number; keep: number; said: number }
  | { at: 'line' }
  | { at: 'skip-line' };

export class SyslogFramer {
  /** Chosen by the first byte of the connection. */
  framing: Framing | undefined;
  truncated = 0;
  framingErrors = 0;
  private state: State = { at: 'start' };
  private parts: Buffer[] = [];
  private partLength = 0;
  private readonly maxDigits: number;

  constructor(readonly maxMessage: number) {
    // A length with more digits than the largest message allowed is garbage, whatever it says.
    this.maxDigits = String(maxMessage).length + 1;
  }

  /** Octets held for an unfinished message (never more than `maxMessage`). */
  get buffered(): number {
    return this.partLength;
  }

  /** The messages `chunk` completes, in order. */
  push(chunk: Buffer): FramedMessage[] {
    const out: FramedMessage[] = [];
    let i = 0;
    while (i < chunk.length) {
      const state = this.state;
      switch (state.at) {
        case 'start': {
          const byte = chunk[i] as number;
          if (this.framing === undefined) {
            this.framing = byte > ZERO && byte <= NINE ? 'octet-counting' : 'non-transparent';
          }
          if (this.framing === 'octet-counting') {
            if (byte > ZERO && byte <= NINE) {
              this.state = { at: 'length', value: 0, digits: 0 };
            } else if (byte === LF || byte === CR) {
              i++; // stray line ends between counted messages are tolerated
            } else {
              this.framingError();
            }
          } else {
            this.state = { at: 'line' };
          }
          break;
        }
        case 'length': {
          const byte = chunk[i++] as number;
          if (byte >= ZERO && byte <= NINE && state.digits < this.maxDigits) {
            state.value = state.value * 10 + (byte - ZERO);
            state.digits++;
          } else if (byte === SP && state.digits > 0) {
            const keep = Math.min(state.value, this.maxMessage);
            this.state = { at: 'body', remaining: state.value, keep, said: state.value };
          } else {
            this.framingError();
            // The garbage ended with its line: the next message starts right here.
            if (byte === LF) this.state = { at: 'start' };
          }
          break;
        }
        case 'body': {
          const n = Math.min(state.remaining, chunk.length - i);
          const kept = Math.min(n, state.keep - this.partLength);
          if (kept > 0) this.hold(chunk.subarray(i, i + kept));
          i += n;
          state.remaining -= n;
          if (state.remaining === 0) {
            this.emit(out, state.said > this.maxMessage, true);
            this.state = { at: 'start' };
          }
          break;
        }
        case 'line': {
          const end = chunk.indexOf(LF, i);
          const stop = end === -1 ? chunk.length : end;
          const room = this.maxMessage - this.partLength;
          if (stop - i > room) {
            // Cut at the limit; the rest of the line is skipped, never held.
            this.hold(chunk.subarray(i, i + room));
            this.emit(out, true, false);
            i += room;
            this.state = { at: 'skip-line' };
            break;
          }
          this.hold(chunk.subarray(i, stop));
          if (end === -1) {
            i = chunk.length;
          } else {
            this.emit(out, false, false);
            i = end + 1;
            this.state = { at: 'start' };
          }
          break;
        }
        case 'skip-line': {
          const end = chunk.indexOf(LF, i);
          if (end === -1) {
            i = chunk.length;
          } else {
            i = end + 1;
            this.state = { at: 'start' };
          }
          break;
        }
      }
    }
    return out;
  }

  /**
   * The connection ended: an unterminated last line is still a message (senders often close
   * without a final LF); an unfinished counted message is cut.
   */
  end(): FramedMessage[] {
    const out: FramedMessage[] = [];
    if (this.state.at === 'line') this.emit(out, false, false);
    else if (this.state.at === 'body' && this.partLength > 0) this.emit(out, true, true);
    this.state = { at: 'start' };
    return out;
  }

  private framingError(): void {
    this.framingErrors++;
    this.parts = [];
    this.partLength = 0;
    this.state = { at: 'skip-line' };
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Copied: the socket may reuse the chunk's memory.
    this.parts.push(Buffer.from(bytes));
    this.partLength += bytes.length;
  }

  private emit(out: FramedMessage[], truncated: boolean, counted: boolean): void {
    let bytes =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partLength);
    this.parts = [];
    this.partLength = 0;
    let end = bytes.length;
    if (counted) {
      // Counted messages may carry their sender's trailing line end: a line has none.
      if (end > 0 && bytes[end - 1] === LF) end--;
    }
    if (end > 0 && bytes[end - 1] === CR) end--;
    bytes = bytes.subarray(0, end);
    if (bytes.length === 0 && !truncated) return;
    if (truncated) this.truncated++;
    out.push({ text: bytes.toString('utf8'), truncated });
  }
}
