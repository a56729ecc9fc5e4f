/**
 * Encrypted iOS backups ("Encrypt local backup" in Finder or iTunes, iOS 10.2 and later), opened
 * with their password. Everything but the root plists is encrypted:
 *
 * - Manifest.plist's `BackupKeyBag` holds the class keys, wrapped under a key derived from the
 *   password (keybag.ts);
 * - its `ManifestKey` is a 4-byte little-endian protection class and Manifest.db's key wrapped
 *   (RFC 3394) under that class's key; Manifest.db is AES-256-CBC with a zero IV under it;
 * - each file's record in Manifest.db (the MBFile archive) holds `EncryptionKey`, the same 4-byte
 *   class and the file's own wrapped key, and `ProtectionClass`; the file's content is
 *   AES-256-CBC with a zero IV and PKCS#7 padding, cut to the record's `Size`.
 *
 * The backup is decrypted into a private temporary folder laid out as an unencrypted backup, which
 * the scan reads like any other. Manifest.db is decrypted up front; a file's content only when a
 * module reads it: a backup holds gigabytes of photos no module looks at, and every decrypted file
 * is a copy of the agent's private data on the analyst's disk. The folder is deleted when the scan
 * ends, whatever the outcome. The password is never logged, written or put in a message.
 */
import { createDecipheriv, type Decipher } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildBinary } from 'plist';
import { RempartError, isRempartError } from '@rempart/core';
import type { ScanOptions } from '../scan.js';
import { aesUnwrap, parseKeybag, passwordKey, unwrapClassKeys } from './keybag.js';
import { IosBackup, label, type BackupFile } from './manifest.js';
import { isDict, plistNumber, readPlist, type PlistDict, type PlistValue } from './plist.js';
import { isSqlite } from './sqlite.js';

export interface DecryptOptions {
  /** The backup's password ("Encrypt local backup"). */
  password?: string;
  /**
   * Where the private folder of the decrypted copy is made (created when missing): the system's
   * temporary folder by default.
   */
  tempDir?: string;
  onProgress?: ScanOptions['onProgress'];
}

/** An encrypted backup opened for one scan. `close()` releases it and deletes the decrypted copy. */
export interface DecryptedBackup {
  /** The backup, reading the decrypted copy (file contents decrypted as they are read). */
  backup: IosBackup;
  close(): void;
}

/** The steps before the modules run, as progress (the key derivation takes seconds). */
export const DECRYPT_STEPS = ['deriving the key from the password', 'decrypting Manifest.db'] as const;

const ZERO_IV = Buffer.alloc(16);
const AES_BLOCK = 16;
const FILE_ID = /^[0-9a-f]{40}$/i;
/** Contents are decrypted a chunk at a time (a multiple of the AES block), so a big file costs no memory. */
const CHUNK = 1 << 20;

/**
 * Opens the backup at `dir` (or the one backup folder inside it) when Manifest.plist says it is
 * encrypted, decrypting it with `options.password`. Undefined when it is not an encrypted backup
 * (or not a backup): `IosBackup.open` then reads or judges it.
 *
 * Throws `backup_encrypted` when no password is given, `backup_password_wrong` when the password
 * does not unwrap the keys (nothing is written then), and `validation_failed` when the keybag, the
 * ManifestKey or Manifest.db cannot be read.
 *
 * @example
 *   const decrypted = await openEncryptedBackup(dir, { password });
 *   try { … decrypted.backup.find('HomeDomain', 'Library/SMS/sms.db') … } finally { decrypted.close(); }
 */
export async function openEncryptedBackup(
  dir: string,
  options: DecryptOptions,
): Promise<DecryptedBackup | undefined> {
  const root = backupRoot(dir);
  if (root === undefined) return undefined;
  const manifestPlist = readRootPlist(join(root, 'Manifest.plist'));
  if (manifestPlist?.IsEncrypted !== true) {
    // Without Manifest.plist, a Manifest.db that is not SQLite is what encryption looks like; the
    // keys are in Manifest.plist, so a password cannot help. Without a password, IosBackup.open
    // says the backup seems encrypted.
    const given = options.password !== undefined && options.password !== '';
    if (given && manifestPlist?.IsEncrypted === undefined && !startsAsSqlite(join(root, 'Manifest.db')))
      throw refused(
        'validation_failed',
        `${dir}: its Manifest.db is not a SQLite database, so the backup seems encrypted, but its Manifest.plist, which holds the keys, is missing or unreadable: copy the whole backup folder again`,
        true,
      );
    return undefined;
  }

  const password = options.password;
  if (password === undefined || password === '')
    throw refused(
      'backup_encrypted',
      `${dir}: the backup is encrypted ("Encrypt local backup" was on when it was made): give the backup's password to scan it (the CLI reads it from the REMPART_BACKUP_PASSWORD environment variable)`,
      false,
    );
  const damaged = (why: string) =>
    refused('validation_failed', `${dir}: the backup is encrypted but ${why}: make a new backup`, true);

  const bagBytes = manifestPlist.BackupKeyBag;
  if (!(bagBytes instanceof Uint8Array)) throw damaged('its Manifest.plist has no BackupKeyBag (its keys)');
  const bag = parseKeybag(bagBytes);
  if (!bag.ok) throw damaged(`its keybag (Manifest.plist BackupKeyBag) is damaged: ${bag.error}`);
  const manifestKey = manifestPlist.ManifestKey;
  // iOS 10.0 and 10.1 left Manifest.db unencrypted and wrote no ManifestKey.
  if (manifestKey !== undefined && !isWrappedKeyWithClass(manifestKey))
    throw damaged('its ManifestKey (in Manifest.plist) is not a protection class and a wrapped key');

  options.onProgress?.({ artifact: DECRYPT_STEPS[0], done: 0, total: DECRYPT_STEPS.length });
  const key = await passwordKey(bag.keybag, password);
  const classKeys = unwrapClassKeys(bag.keybag, key);
  key.fill(0);
  if (classKeys === undefined)
    throw refused(
      'backup_password_wrong',
      `${dir}: this is not the backup's password: the backup's keys do not unwrap with it (check the password, and the keyboard layout it was typed with)`,
      true,
    );
  const forget = () => {
    for (const k of classKeys.values()) k.fill(0);
  };

  let folder: string | undefined;
  try {
    if (classKeys.size === 0) throw damaged('no key of its keybag is wrapped by the password');
    options.onProgress?.({ artifact: DECRYPT_STEPS[1], done: 1, total: DECRYPT_STEPS.length });
    const manifestDb = decryptManifestDb(readFileSync(join(root, 'Manifest.db')), manifestKey, classKeys);
    if (typeof manifestDb === 'string') throw damaged(manifestDb);

    const parent = options.tempDir ?? tmpdir();
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    folder = mkdtempSync(join(parent, 'rempart-ios-backup-'));
    // mkdtemp makes it 0700 already; say so explicitly, whatever the umask or the platform.
    chmodSync(folder, 0o700);
    writeFileSync(join(folder, 'Manifest.db'), manifestDb, { mode: 0o600 });
    writeDecryptedRootPlists(root, folder, manifestPlist);
    // Its messages name the folder it was given: name the backup instead.
    const opened = await IosBackup.open(folder).catch((error: unknown) => {
      throw isRempartError(error) && folder !== undefined
        ? new RempartError(error.code, error.message.replaceAll(folder, dir), {
            details: error.details,
            cause: error,
          })
        : error;
    });
    const contents = new DecryptedContents(root, folder, classKeys);
    const made = folder;
    let closed = false;
    // Every module reads through `read` and `contentPath`: each file is decrypted on first use.
    opened.readContentsFrom((file) => contents.path(file));
    return {
      backup: opened,
      close() {
        if (closed) return;
        closed = true;
        try {
          opened.close();
        } finally {
          forget();
          rmSync(made, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    forget();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/** `backup_encrypted`, `backup_password_wrong`, or `validation_failed` for a damaged backup. */
function refused(
  code: 'backup_encrypted' | 'backup_password_wrong' | 'validation_failed',
  message: string,
  passwordGiven: boolean,
): RempartError {
  return new RempartError(code, message, { details: { encrypted: true, passwordGiven } });
}

/** The backup folder at `dir`, or the one inside it; undefined otherwise (IosBackup.open explains). */
function backupRoot(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
    if (existsSync(join(dir, 'Manifest.db'))) return dir;
    const inside = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'Manifest.db')))
      .map((entry) => join(dir, entry.name));
    return inside.length === 1 ? inside[0] : undefined;
  } catch {
    return undefined;
  }
}

function readRootPlist(path: string): PlistDict | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = readPlist(readFileSync(path));
    return isDict(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function startsAsSqlite(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(16);
      return isSqlite(head.subarray(0, readSync(fd, head, 0, 16, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** A 4-byte little-endian class followed by an RFC 3394 wrapped key (§2.2.1: n + 1 blocks, n ≥ 2). */
function isWrappedKeyWithClass(value: PlistValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength >= 4 + 24 && (value.byteLength - 4) % 8 === 0;
}

function classOf(value: Uint8Array): number {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32LE(0);
}

/** Manifest.db's plaintext, or why it cannot be had. */
function decryptManifestDb(
  bytes: Uint8Array,
  manifestKey: Uint8Array | undefined,
  classKeys: Map<number, Buffer>,
): Uint8Array | string {
  if (manifestKey === undefined)
    return isSqlite(bytes)
      ? bytes
      : 'its Manifest.plist has no ManifestKey and its Manifest.db is not a SQLite database';
  const protectionClass = classOf(manifestKey);
  const classKey = classKeys.get(protectionClass);
  if (classKey === undefined)
    return `its ManifestKey names protection class ${protectionClass}, which its keybag has no key for`;
  const dbKey = aesUnwrap(classKey, manifestKey.subarray(4));
  if (dbKey === undefined || dbKey.byteLength !== 32)
    return 'its ManifestKey does not unwrap with the key of its class';
  if (bytes.byteLength === 0 || bytes.byteLength % AES_BLOCK !== 0)
    return `its Manifest.db (${bytes.byteLength} bytes) is not AES ciphertext (a multiple of 16 bytes)`;
  const decipher = cbcDecipher(dbKey);
  dbKey.fill(0);
  let plain = Buffer.concat([decipher.update(bytes), decipher.final()]);
  // A SQLite file is whole pages (512 bytes or more, SQLite file format §1.3.2): PKCS#7 padding is
  // what makes it otherwise; a database whose last byte merely looks like padding keeps it.
  if (plain.byteLength % 512 !== 0)
    plain = plain.subarray(0, plain.byteLength - paddingOf(plain.subarray(-AES_BLOCK)));
  return isSqlite(plain) ? plain : 'its Manifest.db does not decrypt to a SQLite database';
}

/**
 * Info.plist and Status.plist as they are (they are not encrypted), and Manifest.plist without the
 * keys and saying "not encrypted", as the copy is not. When Manifest.plist cannot be written back,
 * the copy goes without it: the device's identity then comes from Info.plist alone.
 */
function writeDecryptedRootPlists(root: string, folder: string, manifestPlist: PlistDict): void {
  for (const name of ['Info.plist', 'Status.plist'])
    if (existsSync(join(root, name))) copyFileSync(join(root, name), join(folder, name));
  const { BackupKeyBag: _keybag, ManifestKey: _manifestKey, ...rest } = manifestPlist;
  let bytes: Uint8Array;
  try {
    bytes = buildBinary({ ...rest, IsEncrypted: false });
  } catch {
    return;
  }
  writeFileSync(join(folder, 'Manifest.plist'), bytes, { mode: 0o600 });
}

/** The contents of an encrypted backup, decrypted into the private folder on first read. */
class DecryptedContents {
  private readonly done = new Map<string, string | undefined>();

  constructor(
    private readonly root: string,
    private readonly folder: string,
    private readonly classKeys: Map<number, Buffer>,
  ) {}

  /**
   * Where the decrypted content of `file` is, undefined when the backup does not hold it (a
   * folder, a link, a backup cut short). Throws, naming the file, when it cannot be decrypted.
   */
  path(file: BackupFile): string | undefined {
    if (!FILE_ID.test(file.fileID)) return undefined;
    const id = file.fileID;
    if (this.done.has(id)) return this.done.get(id);
    const source = [join(this.root, id.slice(0, 2), id), join(this.root, id)].find(
      (path) => existsSync(path) && statSync(path).isFile(),
    );
    let target: string | undefined;
    if (source !== undefined) {
      target = join(this.folder, id.slice(0, 2), id);
      try {
        this.decrypt(file, source, target);
      } catch (error) {
        rmSync(target, { force: true });
        throw new Error(
          `${label(file)} cannot be decrypted: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
    this.done.set(id, target);
    return target;
  }

  private decrypt(file: BackupFile, source: string, target: string): void {
    const record = fileEncryption(file.metadata);
    if (typeof record === 'string') throw new Error(record);
    const classKey = this.classKeys.get(record.protectionClass);
    if (classKey === undefined)
      throw new Error(`its protection class ${record.protectionClass} has no key in the keybag`);
    const key = aesUnwrap(classKey, record.wrappedKey);
    if (key === undefined || key.byteLength !== 32)
      throw new Error('its key does not unwrap with the key of its class (its record is damaged)');
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    try {
      decryptFile(source, target, key, record.size);
    } finally {
      key.fill(0);
    }
  }
}

/** What a file's record says of its encryption. */
export interface FileEncryption {
  protectionClass: number;
  /** The file's key, wrapped (RFC 3394) under its class key. */
  wrappedKey: Uint8Array;
  /** The size of the plaintext, when the record says it. */
  size: number | undefined;
}

/**
 * The encryption of a file, from its MBFile record (NSKeyedArchiver: `$top.root` is the UID of the
 * MBFile in `$objects`; its `EncryptionKey` the UID of an NSData holding a 4-byte little-endian
 * class and the wrapped key). `ProtectionClass` names the class; the NSData's own is used when it
 * is absent. A string saying what is wrong when the record has none of it.
 */
export function fileEncryption(metadata: Uint8Array | null): FileEncryption | string {
  if (metadata === null || metadata.byteLength === 0) return 'Manifest.db has no record of it';
  let archive: PlistValue;
  try {
    archive = readPlist(metadata);
  } catch (error) {
    return `its record is unreadable (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!isDict(archive) || !Array.isArray(archive.$objects) || !isDict(archive.$top))
    return 'its record is not an archived MBFile';
  const objects = archive.$objects;
  const deref = (value: PlistValue | undefined): PlistValue | undefined => {
    const index = isDict(value) ? plistNumber(value.UID) : undefined;
    return index === undefined ? value : objects[index];
  };
  const mbFile = deref(archive.$top.root);
  if (!isDict(mbFile)) return 'its record is not an archived MBFile';
  const data = deref(mbFile.EncryptionKey);
  const key = isDict(data) ? data['NS.data'] : data;
  if (!isWrappedKeyWithClass(key)) return 'its record holds no EncryptionKey';
  const count = (value: PlistValue | undefined) => {
    const n = plistNumber(value);
    return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  };
  return {
    protectionClass: count(mbFile.ProtectionClass) ?? classOf(key),
    wrappedKey: key.subarray(4),
    size: count(mbFile.Size),
  };
}

/**
 * Decrypts `source` into `target` (created, 0600) a chunk at a time, then cuts it to `size` when
 * the record gives one, or removes the PKCS#7 padding (RFC 5652 §6.3) when it does not.
 */
function decryptFile(source: string, target: string, key: Uint8Array, size: number | undefined): void {
  const length = statSync(source).size;
  if (length % AES_BLOCK !== 0)
    throw new Error(`its content (${length} bytes) is not AES ciphertext (a multiple of 16 bytes)`);
  const decipher = cbcDecipher(key);
  const input = openSync(source, 'r');
  let output: number | undefined;
  try {
    output = openSync(target, 'wx', 0o600);
    const chunk = Buffer.alloc(Math.min(CHUNK, Math.max(length, AES_BLOCK)));
    let written = 0;
    let tail = Buffer.alloc(0);
    for (let read: number; (read = readSync(input, chunk, 0, chunk.length, null)) > 0;) {
      const plain = decipher.update(chunk.subarray(0, read));
      if (plain.byteLength > 0) {
        writeSync(output, plain);
        written += plain.byteLength;
        tail = Buffer.from(plain.subarray(Math.max(0, plain.byteLength - AES_BLOCK)));
      }
    }
    decipher.final();
    const end = size !== undefined && size <= written ? size : written - paddingOf(tail);
    if (end < written) ftruncateSync(output, end);
  } finally {
    closeSync(input);
    if (output !== undefined) closeSync(output);
  }
}

function cbcDecipher(key: Uint8Array): Decipher {
  // The padding is removed by hand: a file is cut to its record's size, which ignores the padding.
  return createDecipheriv('aes-256-cbc', key, ZERO_IV).setAutoPadding(false);
}

/** The length of a valid PKCS#7 padding at the end of `block`, 0 when there is none. */
function paddingOf(block: Uint8Array): number {
  const n = block[block.byteLength - 1] ?? 0;
  if (n < 1 || n > AES_BLOCK || n > block.byteLength) return 0;
  for (let i = block.byteLength - n; i < block.byteLength; i++) if (block[i] !== n) return 0;
  return n;
}
