/**
 * Where the artifact is inside an extracted upload: people zip the folder itself, the folder that
 * holds it, or its content, so the root is looked for by what marks each kind (an iOS backup's
 * Manifest.db, a bug report's main_entry.txt…), a few folders deep at most.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RempartError, type ScanKind } from '@rempart/core';

/** Folders below the extraction looked into: a zip of `Backup/<UDID>/` is two deep. */
const MAX_DEPTH = 4;

const MARKERS: Record<ScanKind, { files: string[]; what: string }> = {
  'ios-backup': { files: ['Manifest.db'], what: 'an iOS backup (no Manifest.db)' },
  sysdiagnose: {
    files: ['system_logs.logarchive', 'shutdown.log'],
    what: 'an extracted sysdiagnose (no system_logs.logarchive, no shutdown.log)',
  },
  'android-bugreport': { files: ['main_entry.txt'], what: 'an Android bug report (no main_entry.txt)' },
  androidqf: {
    files: ['packages.json', 'processes.json', 'getprop.txt', 'dumpsys.txt'],
    what: 'an androidqf acquisition (no packages.json, processes.json, getprop.txt or dumpsys.txt)',
  },
};

/**
 * The one folder under `dir` (itself included) that holds the marker of `kind`, nearest first.
 * Throws `artifact_invalid` when there is none, or several at the same depth.
 *
 * @example
 *   findArtifactRoot('ios-backup', '/data/spyware/<scan>/extracted') // '…/extracted/00008110-…'
 */
export function findArtifactRoot(kind: ScanKind, dir: string): string {
  const marker = MARKERS[kind];
  let level = [dir];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const found = level.filter((d) => marker.files.some((f) => existsSync(join(d, f))));
    if (found.length === 1) return found[0]!;
    if (found.length > 1)
      throw new RempartError(
        'artifact_invalid',
        `The archive holds ${found.length} artifacts (${found.map((f) => relative(dir, f) || '.').join(', ')}): upload one at a time.`,
      );
    level = level.flatMap((d) =>
      readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== '__MACOSX')
        .map((e) => join(d, e.name)),
    );
  }
  throw new RempartError('artifact_invalid', `The archive is not ${marker.what}.`);
}
