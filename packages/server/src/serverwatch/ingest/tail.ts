/**
 * Following a log file as it grows, the way `tail -F` does, and across the two kinds of rotation
 * logrotate performs:
 *  - rename (`create`): the file is moved aside and a new one made at the same path. The moved
 *    file is read to its end first (a writer may still be finishing a line in it), then the new one
 *    from its start;
 *  - copy then truncate (`copytruncate`): the same file shrinks; reading starts again at 0.
 *
 * Lines are delivered once their LF arrives (a line being written waits for it; a CR before the
 * LF goes too). Changes are noticed by fs.watch on the file's folder (it also sees a new file made
 * at the path, which a watch on the file itself would not), with a polling interval behind it for
 * file systems where fs.watch says nothing (NFS, some containers).
 *
 * Back-pressure: while the queue is full nothing more is read; the file holds the backlog.
 *
 * @example
 *   const tail = await tailFile('/var/log/mail.log', { from: 'end' }, queue);
 *   // tail.stats()
 *   await tail.close();
 */
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { RempartError } from '@rempart/core';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { LineSplitter } from './lines.js';
import type { LineQueue } from './queue.js';

export const TailOptions = z.object({
  /** Where to start in a file that already exists; a file that appears later is read whole. */
  from: z.enum(['end', 'start']).default('end'),
  /** How often to look at the file when fs.watch has said nothing. */
  pollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  /** Whether to use fs.watch at all (polling alone otherwise). */
  watch: z.boolean().default(true),
  /** The longest line kept, in octets; longer ones are cut there and counted. */
  maxLine: z.number().int().min(256).max(1_048_576).default(65_536),
  /** How much is read at once. */
  chunkSize: z.number().int().min(1).max(1_048_576).default(65_536),
  /** The items' `source` (default: the path as given). */
  source: z.string().min(1).optional(),
});
export type TailOptions = z.input<typeof TailOptions> & { log?: Logger };

export interface TailStats {
  /** Lines delivered to the queue. */
  lines: number;
  /** Lines cut at `maxLine`. */
  truncated: number;
  /** Files replaced at the path (rename rotation). */
  rotations: number;
  /** Times the file shrank under us (copytruncate). */
  truncations: number;
  bytesRead: number;
  /** Whether reading is held back now because the queue is full. */
  waiting: boolean;
}

const LF = 0x0a;

/** A followed file; see `tailFile`. */
export class FileTail {
  private readonly source: string;
  private handle: FileHandle | undefined;
  private identity: { dev: number; ino: number } | undefined;
  private position = 0;
  private readonly splitter: LineSplitter;
  private readonly buffer: Buffer;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastError: string | undefined;
  private closedFlag = false;
  private closing: Promise<void> | undefined;
  private releaseWaiters: () => void = () => undefined;
  private readonly closed: Promise<void>;
  private readonly counts: TailStats = {
    lines: 0,
    truncated: 0,
    rotations: 0,
    truncations: 0,
    bytesRead: 0,
    waiting: false,
  };

  private constructor(
    readonly path: string,
    private readonly options: z.output<typeof TailOptions>,
    private readonly queue: LineQueue,
    private readonly log: Logger | undefined,
  ) {
    this.source = options.source ?? path;
    this.buffer = Buffer.allocUnsafe(options.chunkSize);
    this.splitter = new LineSplitter(options.maxLine);
    this.closed = new Promise((resolve) => (this.releaseWaiters = resolve));
  }

  /**
   * Opens `path` (or waits for it to appear) and starts following it. Rejects with a validation
   * error for bad options or a path that is not a regular file.
   */
  static async start(path: string, input: TailOptions, queue: LineQueue): Promise<FileTail> {
    const { log, ...rest } = input;
    const parsed = TailOptions.safeParse(rest);
    if (!parsed.success) {
      throw RempartError.validation('Invalid file tailing options.', { issues: parsed.error.issues });
    }
    const tail = new FileTail(path, parsed.data, queue, log);
    await tail.openInitial();
    tail.watchForChanges();
    tail.kick();
    log?.info({ path, from: parsed.data.from }, 'tailing file');
    return tail;
  }

  readonly stats = (): TailStats => ({ ...this.counts, truncated: this.splitter.truncated });

  /** Stops following: no more reads, timers and the watcher released, the file closed. Idempotent. */
  readonly close = (): Promise<void> => {
    this.closing ??= (async () => {
      this.closedFlag = true;
      this.releaseWaiters();
      this.watcher?.close();
      clearInterval(this.timer);
      await this.running;
      await this.handle?.close();
      this.handle = undefined;
      this.log?.info({ path: this.path }, 'stopped tailing file');
    })();
    return this.closing;
  };

  private async openInitial(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // read whole once it appears
      throw RempartError.validation(`${this.path}: cannot read.`, { reason: (error as Error).message });
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw RempartError.validation(`${this.path}: not a regular file.`);
    }
    this.handle = handle;
    this.identity = { dev: info.dev, ino: info.ino };
    if (this.options.from === 'end' && info.size > 0) {
      this.position = info.size;
      // Started in the middle of a line being written: its first part is gone, so skip it.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, info.size - 1);
      this.splitter.skipping = last[0] !== LF;
    }
  }

  private watchForChanges(): void {
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs);
    if (!this.options.watch) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.kick();
      });
      // Watching can fail later (the folder removed, inotify limits): polling carries on.
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }

  /** Runs one look at the file, or asks for another after the one running. */
  private kick(): void {
    if (this.closedFlag) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.check();
          this.lastError = undefined;
        } catch (error) {
          // Once per new problem, not at every poll while it lasts.
          const message = (error as Error).message;
          if (message !== this.lastError)
            this.log?.warn({ err: error, path: this.path }, 'cannot read followed file');
          this.lastError = message;
        }
      } while (this.again && !this.closedFlag);
      this.running = undefined;
    })();
  }

  private async check(): Promise<void> {
    if (this.handle) {
      const info = await this.handle.stat();
      if (info.size < this.position) {
        // copytruncate: what was left unread before the cut is in the copy, not here.
        this.counts.truncations++;
        await this.flushPartial();
        this.position = 0;
        this.splitter.reset();
      }
      await this.readToEnd(this.handle);
    }
    let current: Stats | undefined;
    try {
      current = await stat(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Moved away and not yet replaced: keep reading the moved file.
    if (current === undefined || !current.isFile() || this.closedFlag) return;
    if (this.identity && current.dev === this.identity.dev && current.ino === this.identity.ino) return;
    const next = await open(this.path, 'r');
    const info = await next.stat();
    if (this.handle) {
      // Rotated by rename: the old file's last lines first (a writer may have added some since).
      await this.readToEnd(this.handle);
      await this.flushPartial();
      await this.handle.close();
      this.counts.rotations++;
    }
    this.handle = next;
    this.identity = { dev: info.dev, ino: info.ino };
    this.position = 0;
    this.splitter.reset();
    if (this.closedFlag) return;
    await this.readToEnd(next);
  }

  private async readToEnd(handle: FileHandle): Promise<void> {
    while (!this.closedFlag) {
      const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      this.counts.bytesRead += bytesRead;
      if (!(await this.deliver(this.splitter.push(this.buffer.subarray(0, bytesRead))))) return;
    }
  }

  /** A last line without its LF, when its file is left behind: the writer will not finish it. */
  private async flushPartial(): Promise<void> {
    const line = this.splitter.flush();
    if (line !== undefined) await this.deliver([line]);
  }

  /** Queues `lines` in order, waiting for room; false when closed before all were queued. */
  private async deliver(lines: string[]): Promise<boolean> {
    const receivedAt = Date.now();
    for (let i = 0; i < lines.length; i++) {
      const item = { line: lines[i] as string, source: this.source, receivedAt };
      while (!this.queue.offer(item)) {
        if (this.queue.closed) return false; // the queue counted this one dropped
        this.counts.waiting = true;
        await Promise.race([this.queue.whenWritable(item.line.length), this.closed]);
        this.counts.waiting = false;
        if (this.closedFlag) {
          this.queue.drop(this.source, 'closed', lines.length - i);
          return false;
        }
      }
      this.counts.lines++;
    }
    return true;
  }
}

/**
 * Follows the file at `path`, delivering its lines to `queue`.
 *
 * @example
 *   const { close } = await tailFile('/var/log/dovecot.log', { from: 'start' }, queue);
 */
export function tailFile(path: string, options: TailOptions, queue: LineQueue): Promise<FileTail> {
  return FileTail.start(path, options, queue);
}
