/**
 * What the backup's modules share: finding and reading the files of their artifact, and turning
 * what a record names into detections.
 */
import type { Detection } from '@rempart/core';
import type { ArtifactRecorder } from '../scan.js';
import { label, type BackupFile, type IosBackup } from './manifest.js';
import type { Database } from './sqlite.js';

/**
 * The detections of one record, each indicator once (the first way it matched): a file found by
 * its path and by its name, or a message naming a link twice, is one finding.
 */
export function unique(found: readonly (Detection | readonly Detection[] | undefined)[]): Detection[] {
  const seen = new Set<string>();
  const list: Detection[] = [];
  for (const item of found.flat()) {
    if (item === undefined || seen.has(item.indicatorId)) continue;
    seen.add(item.indicatorId);
    list.push(item);
  }
  return list;
}

/**
 * A path as the phone spells it with its `/private` prefix: iOS writes `/var/…` (a link to
 * `/private/var/…`) and `~/…` (the mobile user's home) in its databases, indicators use the real path.
 */
export function devicePath(path: string): string {
  if (path.startsWith('~/')) return `/private/var/mobile/${path.slice(2)}`;
  if (path.startsWith('/var/')) return `/private${path}`;
  return path;
}

/**
 * The content of the first of `candidates` the backup holds. When none is listed, or none listed
 * is in the folder, marks the artifact missing (saying which) and returns undefined.
 */
export function readArtifactFile(
  backup: IosBackup,
  artifact: ArtifactRecorder,
  candidates: readonly (BackupFile | undefined)[],
  what: string,
): { file: BackupFile; bytes: Uint8Array } | undefined {
  const listed = candidates.filter((c): c is BackupFile => c !== undefined);
  for (const file of listed) {
    const bytes = backup.read(file);
    if (bytes !== undefined) return { file, bytes };
  }
  artifact.missing(
    listed.length === 0
      ? `no ${what} in this backup`
      : `${what} is listed in Manifest.db but its content is not in the backup folder`,
  );
  return undefined;
}

/**
 * Reads each copy of the database at `relativePath` the backup lists, whatever its domain. One
 * that cannot be read does not stop the others; the module then fails naming it.
 */
export async function eachDatabase(
  backup: IosBackup,
  artifact: ArtifactRecorder,
  relativePath: string,
  what: string,
  read: (db: Database, file: string) => void,
): Promise<void> {
  await eachDatabaseOf(backup.search(relativePath), backup, artifact, what, read);
}

/** Reads each of `files` as a database; marks the artifact missing when the backup holds none. */
export async function eachDatabaseOf(
  files: readonly BackupFile[],
  backup: IosBackup,
  artifact: ArtifactRecorder,
  what: string,
  read: (db: Database, file: string) => void,
): Promise<void> {
  const failures: string[] = [];
  let present = 0;
  const failed = (file: BackupFile, error: unknown) =>
    failures.push(`${label(file)}: ${error instanceof Error ? error.message : String(error)}`);
  for (const file of files) {
    let db: Database | undefined;
    try {
      db = await backup.database(file);
    } catch (error) {
      present++;
      failed(file, error);
      continue;
    }
    if (db === undefined) continue;
    present++;
    try {
      read(db, label(file));
    } catch (error) {
      failed(file, error);
    }
  }
  if (present === 0)
    return artifact.missing(
      files.length === 0
        ? `no ${what} in this backup`
        : `${what} is listed in Manifest.db but its content is not in the backup folder`,
    );
  if (failures.length > 0) throw new Error(failures.join('; '));
}
