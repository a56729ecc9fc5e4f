import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RempartError, type Alert, type IndicatorImport } from '@rempart/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewAlert } from '../../alerts/alert.service.js';
import { createLogger } from '../../logger.js';
import { readBundleBytes } from './indicator-store.service.js';
import { WatchedFolder } from './watched-folder.js';
import { testBundle } from './test-bundle.js';

/**
 * The store's side of the folder: each import is read with the store's own reader and recorded;
 * the alerts raised are recorded too.
 */
function recorder() {
  const imports: { name: string; indicators: number; origin: string }[] = [];
  const alerts: NewAlert[] = [];
  return {
    imports,
    alerts,
    store: {
      import: (name: string, bytes: Uint8Array, origin: string) => {
        const bundle = readBundleBytes(name, bytes);
        imports.push({ name, indicators: bundle.indicators.length, origin });
        return Promise.resolve({
          set: { indicators: bundle.indicators.length },
          retroHunt: { id: 'hunt' },
        } as IndicatorImport);
      },
    },
    sink: {
      raise: (alert: NewAlert) => {
        alerts.push(alert);
        return Promise.resolve({} as Alert);
      },
    },
  };
}

let root: string;
let folder: WatchedFolder | undefined;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rempart-watch-'));
});
afterEach(async () => {
  await folder?.close();
  folder = undefined;
  rmSync(root, { recursive: true, force: true });
});

function watch(r: ReturnType<typeof recorder>, dir = join(root, 'iocs'), debounceMs = 50) {
  folder = new WatchedFolder({
    dir,
    store: r.store,
    alerts: r.sink,
    log: createLogger('silent'),
    debounceMs,
  });
  return folder;
}

describe('the watched folder', () => {
  it('is created when missing, and imports the bundles already there in name order, ignoring other files', async () => {
    const r = recorder();
    const dir = join(root, 'iocs');
    await watch(r, dir).start();
    expect(existsSync(dir)).toBe(true);
    await folder!.close();

    writeFileSync(join(dir, 'b.json'), testBundle({ malware: 'B', domains: ['b-sync.net'], processes: [] }));
    writeFileSync(join(dir, 'a.stix2'), testBundle({ malware: 'A' }));
    writeFileSync(join(dir, 'notes.txt'), 'not a bundle');
    await watch(r, dir).start();
    expect(r.imports).toEqual([
      { name: 'a.stix2', indicators: 3, origin: 'folder' },
      { name: 'b.json', indicators: 1, origin: 'folder' },
    ]);
  });

  it('imports a file written in several steps once, when it has stopped changing', async () => {
    const r = recorder();
    // Quiet for 300 ms: longer than the three writes below take, even on a busy machine.
    await watch(r, join(root, 'iocs'), 300).start();
    const bytes = testBundle({ malware: 'Kestrel', domains: ['kestrel-push.io'], processes: [] });
    const file = join(root, 'iocs', 'kestrel.stix2');
    const third = Math.ceil(bytes.length / 3);
    await writeFile(file, bytes.subarray(0, third));
    await appendFile(file, bytes.subarray(third, 2 * third));
    await appendFile(file, bytes.subarray(2 * third));
    await expect.poll(() => r.imports.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.imports).toEqual([{ name: 'kestrel.stix2', indicators: 1, origin: 'folder' }]);
    expect(r.alerts).toEqual([]);
  });

  it('alerts once on a malformed file however often it is touched unchanged, and again when it changes', async () => {
    const r = recorder();
    await watch(r).start();
    const file = join(root, 'iocs', 'broken.json');
    await writeFile(file, '{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1"}]}');
    await expect.poll(() => r.alerts.length).toBe(1);
    expect(r.alerts[0]).toMatchObject({
      severity: 'medium',
      source: 'spyware',
      title: 'Indicator file refused: broken.json',
      details: { error: expect.stringContaining('indicator--1') },
    });
    await writeFile(file, '{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1"}]}');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.alerts).toHaveLength(1);
    await writeFile(file, 'not json');
    await expect.poll(() => r.alerts.length).toBe(2);
    expect(r.alerts[1]?.details).toMatchObject({ error: expect.stringContaining('broken.json: not JSON') });
  });

  it('goes on after a refusal of the store, and imports nothing once closed', async () => {
    const r = recorder();
    const refusing = {
      import: (name: string, bytes: Uint8Array, origin: string) =>
        name === 'pegasus.stix2'
          ? Promise.reject(
              RempartError.conflict('pegasus.stix2 is the name of a bundle shipped with Rempart'),
            )
          : r.store.import(name, bytes, origin),
    };
    folder = new WatchedFolder({
      dir: join(root, 'iocs'),
      store: refusing,
      alerts: r.sink,
      log: createLogger('silent'),
      debounceMs: 50,
    });
    await folder.start();
    await writeFile(join(root, 'iocs', 'pegasus.stix2'), testBundle());
    await expect.poll(() => r.alerts.length).toBe(1);
    await writeFile(join(root, 'iocs', 'wren.stix2'), testBundle({ malware: 'Wren' }));
    await expect.poll(() => r.imports.map((i) => i.name)).toEqual(['wren.stix2']);
    await folder.close();
    await writeFile(join(root, 'iocs', 'late.stix2'), testBundle({ malware: 'Late' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.imports.map((i) => i.name)).toEqual(['wren.stix2']);
  });
});
