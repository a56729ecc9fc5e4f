/**
 * An iOS backup folder, as Finder, iTunes and libimobiledevice write it since iOS 10: a folder named
 * after the device's UDID that holds
 *
 * - `Info.plist` (XML): the device's name, model, iOS version, serial number, IMEI, installed apps;
 * - `Manifest.plist` (binary): whether the backup is encrypted, the apps, the lockdown values;
 * - `Status.plist` (binary): when the backup was made and whether it finished;
 * - `Manifest.db` (SQLite): one `Files` row per file of the phone, keyed by
 *   `fileID = sha1("<domain>-<relativePath>")`, the content of which is stored at
 *   `<fileID[0..2]>/<fileID>` (flat, `<fileID>`, in some older backups).
 *
 * A domain names where on the phone a file lives: `HomeDomain` is `/private/var/mobile`,
 * `AppDomain-<bundle id>` an app's container, `AppDomainGroup-<group id>` an app group's shared one,
 * `SysSharedContainerDomain-<id>` a system group container, and so on.
 *
 * In an encrypted backup, Manifest.db and every file are encrypted with keys wrapped by the
 * backup's password (Manifest.plist's `BackupKeyBag` and `ManifestKey`): none of it is readable
 * without decrypting it first: `scanIosBackup` does that (decrypt.ts) and opens the decrypted copy
 * here; opened directly, an encrypted backup is refused.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RempartError } from '@rempart/core';
import { isDict, plistNumber, readPlist, type PlistDict, type PlistValue } from './plist.js';
import { asText, columns, eachRow, isSqlite, openDatabase, rows, type Database, type Row } from './sqlite.js';

/** Files-table flags (MBFile): what the row stands for. */
export const FILE_FLAGS = { file: 1, directory: 2, symlink: 4 } as const;

/** One row of Manifest.db's Files table. */
export interface BackupFile {
  fileID: string;
  domain: string;
  relativePath: string;
  flags: number;
  /** The file's record: an NSKeyedArchiver binary plist of an MBFile (times, size, mode). */
  metadata: Uint8Array | null;
}

/** What a file's MBFile record says of it: Unix times, size and mode. */
export interface FileMetadata {
  birth: Date | null;
  modified: Date | null;
  changed: Date | null;
  size: number | undefined;
  mode: number | undefined;
}

/** The root plists of a backup folder. */
export type RootPlist = 'Info.plist' | 'Manifest.plist' | 'Status.plist';

const FILE_ID = /^[0-9a-f]{40}$/i;

/** A backup folder opened for reading; `close()` releases its Manifest.db. */
export class IosBackup {
  private closed = false;
  /** The database `database` opened last, kept open for the next module reading the same file. */
  private kept: { fileID: string; db: Database } | undefined;
  /** Where the contents are instead of the backup folder (an encrypted backup's decrypted copy). */
  private locate: ((file: BackupFile) => string | undefined) | undefined;

  private constructor(
    /** The backup folder (the one holding Manifest.db). */
    readonly root: string,
    private readonly db: Database,
    private readonly hasMetadata: boolean,
  ) {}

  /**
   * Opens the backup at `dir` (or the one backup folder inside it, as in `MobileSync/Backup`).
   * Throws `validation_failed` when it is not a backup, when it is encrypted, or when its
   * Manifest.db cannot be read.
   */
  static async open(dir: string, options: { password?: string } = {}): Promise<IosBackup> {
    const root = findBackupRoot(dir);
    const manifest = readManifestPlist(root);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(root, 'Manifest.db'));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw RempartError.validation(`${dir}: not an iOS backup: its Manifest.db cannot be read (${reason})`);
    }
    refuseEncrypted(dir, manifest, isSqlite(bytes), options.password);

    let db: Database | undefined;
    try {
      db = await openDatabase(bytes, 'Manifest.db');
      const have = columns(db, 'Files');
      const missing = ['fileid', 'domain', 'relativepath'].filter((c) => !have.has(c));
      if (missing.length > 0)
        throw new Error(
          have.size === 0 ? 'it has no Files table' : `its Files table has no ${missing.join(', ')} column`,
        );
      // A damaged database can open and still fail on its first page read: read one row now.
      rows(db, 'SELECT fileID FROM Files LIMIT 1');
      return new IosBackup(root, db, have.has('file'));
    } catch (error) {
      db?.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw RempartError.validation(`${dir}: not an iOS backup: its Manifest.db cannot be read (${reason})`);
    }
  }

  /** The row of the file `relativePath` of `domain`, when the backup lists it. */
  find(domain: string, relativePath: string): BackupFile | undefined {
    return this.query('WHERE domain = ? AND relativePath = ? LIMIT 1', [domain, relativePath])[0];
  }

  /**
   * The rows whose relative path is LIKE `pathLike` (SQLite LIKE: `%` any run, `_` one character,
   * ASCII case-insensitive), in `domain` when given, by domain and path.
   */
  search(pathLike: string, domain?: string): BackupFile[] {
    return domain === undefined
      ? this.query('WHERE relativePath LIKE ? ORDER BY domain, relativePath', [pathLike])
      : this.query('WHERE domain = ? AND relativePath LIKE ? ORDER BY relativePath', [domain, pathLike]);
  }

  /** Calls `visit` with every row of the Files table in turn, without holding them all. */
  each(visit: (file: BackupFile) => void): void {
    this.assertOpen();
    eachRow(this.db, `SELECT ${this.selected()} FROM Files ORDER BY domain, relativePath`, [], (row) =>
      visit(toFile(row)),
    );
  }

  /**
   * Where the content of `file` is in the backup folder, or undefined when it is not there (a
   * folder, a link, a backup cut short, or a fileID that is not a SHA-1, which no backup writes).
   */
  contentPath(file: BackupFile): string | undefined {
    if (this.locate !== undefined) return this.locate(file);
    if (!FILE_ID.test(file.fileID)) return undefined;
    for (const path of [join(this.root, file.fileID.slice(0, 2), file.fileID), join(this.root, file.fileID)])
      if (existsSync(path) && statSync(path).isFile()) return path;
    return undefined;
  }

  /**
   * Reads each file's content from where `locate` says from now on: an encrypted backup's files
   * are decrypted into a private folder as they are asked for.
   */
  readContentsFrom(locate: (file: BackupFile) => string | undefined): void {
    this.locate = locate;
  }

  /** The content of `file`, or undefined when the backup does not hold it. */
  read(file: BackupFile): Uint8Array | undefined {
    const path = this.contentPath(file);
    return path === undefined ? undefined : readFileSync(path);
  }

  /**
   * The content of `file` opened as a SQLite database (read-only, in memory), or undefined when
   * the backup does not hold it; throws when it is not one. Callers do not close it: the last one
   * opened stays open for the next module reading the same file (sms.db's messages and its
   * attachments are two modules; reading and opening its hundred megabytes once is enough), until
   * another is opened or the backup is closed.
   */
  async database(file: BackupFile): Promise<Database | undefined> {
    this.assertOpen();
    if (this.kept?.fileID === file.fileID) return this.kept.db;
    this.releaseKept();
    const bytes = this.read(file);
    if (bytes === undefined) return undefined;
    const db = await openDatabase(bytes, label(file));
    this.kept = { fileID: file.fileID, db };
    return db;
  }

  /**
   * A root plist of the backup folder, undefined when absent. Throws when it is unreadable or not
   * a dictionary, so that the module reading it fails with the reason.
   */
  rootPlist(name: RootPlist): PlistDict | undefined {
    const path = join(this.root, name);
    if (!existsSync(path)) return undefined;
    const value = readPlist(readFileSync(path));
    if (!isDict(value)) throw new Error(`${name} is not a dictionary`);
    return value;
  }

  /** Releases Manifest.db. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseKept();
    this.db.close();
  }

  private releaseKept(): void {
    this.kept?.db.close();
    this.kept = undefined;
  }

  private selected(): string {
    return `fileID, domain, relativePath, flags${this.hasMetadata ? ', file' : ''}`;
  }

  private query(where: string, params: string[]): BackupFile[] {
    this.assertOpen();
    return rows(this.db, `SELECT ${this.selected()} FROM Files ${where}`, params).map(toFile);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the backup is closed');
  }
}

/** `domain/relativePath`: how records name the file they were read from. */
export function label(file: BackupFile): string {
  return `${file.domain}/${file.relativePath}`;
}

/**
 * What a Files row's `file` blob says of the file. The blob is an NSKeyedArchiver archive: `$top`
 * holds the UID of the MBFile object in `$objects`, whose `Birth`, `LastModified` and
 * `LastStatusChange` are Unix times in seconds. Undefined when the blob is absent or unreadable.
 */
export function fileMetadata(file: BackupFile): FileMetadata | undefined {
  if (file.metadata === null || file.metadata.byteLength === 0) return undefined;
  let archive: PlistValue;
  try {
    archive = readPlist(file.metadata);
  } catch {
    return undefined;
  }
  if (!isDict(archive) || !Array.isArray(archive.$objects) || !isDict(archive.$top)) return undefined;
  const reference = archive.$top.root;
  const index = isDict(reference) ? plistNumber(reference.UID) : plistNumber(reference);
  const object = index === undefined ? undefined : archive.$objects[index];
  if (!isDict(object)) return undefined;
  const time = (key: string): Date | null => {
    const seconds = plistNumber(object[key]);
    return seconds === undefined || seconds <= 0 ? null : new Date(seconds * 1000);
  };
  return {
    birth: time('Birth'),
    modified: time('LastModified'),
    changed: time('LastStatusChange'),
    size: plistNumber(object.Size),
    mode: plistNumber(object.Mode),
  };
}

function toFile(row: Row): BackupFile {
  return {
    fileID: asText(row.fileID) ?? '',
    domain: asText(row.domain) ?? '',
    relativePath: asText(row.relativePath) ?? '',
    flags: typeof row.flags === 'number' ? row.flags : 0,
    metadata: row.file instanceof Uint8Array ? row.file : null,
  };
}

const LAYOUT =
  'a backup made by Finder, iTunes or idevicebackup2 is a folder named after the device (its UDID) ' +
  'holding Manifest.db, Manifest.plist, Info.plist and Status.plist';

/** The backup folder at `dir`, or the one backup folder inside it. */
function findBackupRoot(dir: string): string {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw RempartError.validation(`${dir}: not an iOS backup: no such folder`);
  }
  if (!stat.isDirectory())
    throw RempartError.validation(`${dir}: not an iOS backup: not a folder (${LAYOUT})`);
  if (existsSync(join(dir, 'Manifest.db'))) return dir;
  if (existsSync(join(dir, 'Manifest.mbdb')))
    throw RempartError.validation(
      `${dir}: an iOS backup made by iOS 9 or earlier (Manifest.mbdb), which is not supported: make a new backup`,
    );
  const inside = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'Manifest.db')))
    .map((entry) => join(dir, entry.name));
  if (inside.length === 1) return inside[0]!;
  if (inside.length > 1)
    throw RempartError.validation(
      `${dir}: holds ${inside.length} iOS backups (${inside.map((b) => relative(dir, b)).join(', ')}): name one`,
    );
  throw RempartError.validation(`${dir}: not an iOS backup: no Manifest.db in it (${LAYOUT})`);
}

/** Manifest.plist, when present and readable: its absence or damage is judged with Manifest.db. */
function readManifestPlist(root: string): PlistDict | undefined {
  const path = join(root, 'Manifest.plist');
  if (!existsSync(path)) return undefined;
  try {
    const value = readPlist(readFileSync(path));
    return isDict(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses an encrypted backup. Manifest.plist's `IsEncrypted` says so; when it is absent or
 * unreadable, a Manifest.db that is not SQLite is what encryption looks like (it is then
 * AES-encrypted with the `ManifestKey`). A Manifest.plist that says "not encrypted" with such a
 * Manifest.db means a damaged backup.
 */
function refuseEncrypted(
  dir: string,
  manifest: PlistDict | undefined,
  sqlite: boolean,
  password?: string,
): void {
  const declared = manifest?.IsEncrypted;
  if (declared !== true && sqlite) return;
  if (declared === false)
    throw RempartError.validation(
      `${dir}: not an iOS backup: its Manifest.db is not a SQLite database although Manifest.plist says the backup is not encrypted (the backup is damaged or incomplete: make a new one)`,
    );
  const why =
    declared === true
      ? 'the backup is encrypted ("Encrypt local backup" was on when it was made)'
      : 'its Manifest.db is not a SQLite database: the backup is encrypted (or damaged)';
  if (password === undefined || password === '')
    throw RempartError.validation(
      `${dir}: ${why}: give the backup's password to scan it (the CLI reads it from the REMPART_BACKUP_PASSWORD environment variable)`,
      { encrypted: true, passwordGiven: false },
    );
  throw RempartError.validation(
    `${dir}: ${why}: it must be decrypted with its password before it is opened (a scan does so)`,
    { encrypted: true, passwordGiven: true },
  );
}
