/**
 * The watched folder of STIX 2 bundles (REMPART_SPYWARE_IOCS_DIR, `<data dir>/iocs` by default):
 * every `*.stix2` / `*.json` bundle there is imported at start, and again whenever it is dropped
 * or changed, named by its file name. Updating the indicators is copying a file; a malformed one
 * is logged and alerted, and never stops the server.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AlertSink } from '../../alerts/alert.service.js';
import type { Logger } from '../../logger.js';
import type { IndicatorStore } from './indicator-store.service.js';

export interface WatchedFolderDeps {
  dir: string;
  store: Pick<IndicatorStore, 'import'>;
  alerts: AlertSink;
  log: Logger;
  /**
   * How long a file must stay quiet before it is read: a copy writes in several steps, each
   * reported as an event (default 500 ms).
   */
  debounceMs?: number;
}

const BUNDLE_FILE = /\.(stix2|json)$/i;

export class WatchedFolder {
  private watcher: FSWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Digests of files that failed, so that an unchanged broken file is alerted once. */
  private readonly failed = new Map<string, string>();
  private pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: WatchedFolderDeps) {}

  /** Imports the bundles the folder holds (creating it when missing), then watches it. */
  async start(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true });
    const files = (await readdir(this.deps.dir)).filter((f) => BUNDLE_FILE.test(f)).sort();
    for (const file of files) await this.importFile(file);
    if (this.closed) return;
    this.watcher = watch(this.deps.dir, (_event, file) => {
      if (typeof file === 'string' && BUNDLE_FILE.test(file)) this.schedule(file);
    });
    this.watcher.on('error', (error) =>
      this.deps.log.error({ err: error, dir: this.deps.dir }, 'the indicator folder cannot be watched'),
    );
    this.deps.log.info({ dir: this.deps.dir, bundles: files.length }, 'indicator folder watched');
  }

  /** Stops watching, and waits for an import under way. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
  }

  private schedule(file: string): void {
    clearTimeout(this.timers.get(file));
    this.timers.set(
      file,
      setTimeout(() => {
        this.timers.delete(file);
        if (this.closed) return;
        const run = this.importFile(file).finally(() => this.pending.delete(run));
        this.pending.add(run);
      }, this.deps.debounceMs ?? 500),
    );
  }

  private async importFile(file: string): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.deps.dir, file));
    } catch (error) {
      // Deleted or renamed away since the event: nothing to import. The set stays in the store.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.deps.log.error({ err: error, file }, 'an indicator file cannot be read');
      return;
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    try {
      const result = await this.deps.store.import(file, bytes, 'folder', null);
      this.failed.delete(file);
      this.deps.log.info(
        { file, indicators: result.set.indicators, retroHunt: result.retroHunt.id },
        'indicator file imported',
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.warn({ err: error, file }, 'indicator file refused');
      if (this.failed.get(file) === digest) return;
      this.failed.set(file, digest);
      await this.deps.alerts
        .raise({
          severity: 'medium',
          source: 'spyware',
          title: `Indicator file refused: ${file}`,
          details: { file, dir: this.deps.dir, error: message },
        })
        .catch((e: unknown) => this.deps.log.error({ err: e }, 'alert failed'));
    }
  }
}
