import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildBinary } from 'plist';
import { afterAll, describe, expect, it } from 'vitest';
import { RempartError, type ScanReport } from '@rempart/core';
import {
  backupContentPath,
  CLEAN_IOS_BACKUP,
  fileIdOf,
  IOS_ARTIFACT_FILES,
  writeIosBackup,
  type IosBackupFixture,
} from '../../test-support/ios-backup.js';
import { IndicatorMatcher } from '../matcher.js';
import { toldReport, type ScanProgress } from '../scan.js';
import { loadIndicatorFolder } from '../stix.js';
import { scanIosBackup as scanBackup } from './backup.js';
import { fileEncryption, openEncryptedBackup } from './decrypt.js';
import { isDict, readPlist, type PlistDict } from './plist.js';

/** The scan, its timeline told whole (these backups are small). */
const scanIosBackup = async (...args: Parameters<typeof scanBackup>) => toldReport(await scanBackup(...args));

const matcher = IndicatorMatcher.from(loadIndicatorFolder());
const scratch = mkdtempSync(join(tmpdir(), 'rempart-ios-decrypt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
/** A new folder path (not created) for one backup. */
function folder(name: string): string {
  return join(scratch, `${name}-${folders++}`);
}
/** A new, empty folder for the scan's decrypted copy, so that what it leaves behind shows. */
function tempParent(): string {
  const dir = folder('tmp');
  mkdirSync(dir);
  return dir;
}

const PASSWORD = 'Tr0ub4dor&3 — été';
const now = () => new Date('2026-01-01T00:00:00Z');
const PHOTO = { domain: 'CameraRollDomain', path: 'Media/DCIM/100APPLE/IMG_0001.HEIC' };

/** The clean backup with a Pegasus link in a text message, and a photo no module reads. */
const INFECTED: IosBackupFixture = {
  ...CLEAN_IOS_BACKUP,
  sms: [
    ...CLEAN_IOS_BACKUP.sms!,
    {
      text: 'Your parcel is waiting: https://weather4free.com/track?id=77',
      handle: '+33699999999',
      at: new Date('2023-02-03T09:20:15Z'),
    },
  ],
  files: [...CLEAN_IOS_BACKUP.files!, { ...PHOTO, content: 'a photo of the family' }],
};

function encrypted(name: string, fixture = INFECTED): Promise<string> {
  return writeIosBackup(folder(name), fixture, { password: PASSWORD, iterations: 1000 });
}

async function failure(promise: Promise<unknown>): Promise<RempartError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RempartError);
  return error as RempartError;
}

/** Every file under `dir` with its size and modification time: what a scan must leave as it was. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((path) => {
      const stat = statSync(join(dir, path));
      return `${path} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

/** Rewrites the backup's Manifest.plist with `change` applied. */
function editManifestPlist(dir: string, change: (plist: PlistDict) => void): void {
  const plist = readPlist(readFileSync(join(dir, 'Manifest.plist')));
  if (!isDict(plist)) throw new Error('Manifest.plist is not a dictionary');
  change(plist);
  writeFileSync(join(dir, 'Manifest.plist'), buildBinary(plist));
}

function detections(report: ScanReport) {
  return report.detections.map((e) => [e.artifact, e.detection?.indicator, e.detection?.malware, e.record]);
}

describe('an encrypted backup', () => {
  it('gives, with its password, the same report as the same backup unencrypted: the Pegasus link found', async () => {
    const locked = await encrypted('locked');
    const open = await writeIosBackup(folder('open'), INFECTED);
    const fromLocked = await scanIosBackup(locked, { matcher, password: PASSWORD, now });
    const fromOpen = await scanIosBackup(open, { matcher, now });
    expect(detections(fromLocked)).toEqual([
      [
        'sms',
        'weather4free.com',
        ['Pegasus'],
        expect.stringContaining('https://weather4free.com/track?id=77'),
      ],
    ]);
    expect(detections(fromLocked)).toEqual(detections(fromOpen));
    expect(fromLocked.timeline).toEqual(fromOpen.timeline);
    expect(fromLocked.artifacts).toEqual(fromOpen.artifacts);
    expect(fromLocked.artifacts.every((a) => a.status === 'read')).toBe(true);
    expect(fromLocked.device).toEqual(fromOpen.device);
  });

  it('is really encrypted: neither Manifest.db nor sms.db is readable in the backup folder', async () => {
    const locked = await encrypted('really');
    const sms = IOS_ARTIFACT_FILES.sms;
    for (const path of [join(locked, 'Manifest.db'), backupContentPath(locked, sms.domain, sms.path)]) {
      const bytes = readFileSync(path);
      expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
      expect(bytes.includes('weather4free')).toBe(false);
    }
  });

  it('reports deriving the key from the password, then decrypting Manifest.db, before the modules', async () => {
    const progress: ScanProgress[] = [];
    await scanIosBackup(await encrypted('progress'), {
      matcher,
      password: PASSWORD,
      onProgress: (p) => progress.push(p),
    });
    expect(progress.slice(0, 3)).toEqual([
      { artifact: 'deriving the key from the password', done: 0, total: 2 },
      { artifact: 'decrypting Manifest.db', done: 1, total: 2 },
      { artifact: 'device', done: 0, total: 13 },
    ]);
    expect(progress.at(-1)).toEqual({ artifact: '', done: 13, total: 13 });
  });

  it('is decrypted into a private folder, only the files the modules read, and the folder is gone when the scan ends', async () => {
    const locked = await encrypted('private');
    const before = snapshot(locked);
    const tempDir = tempParent();
    const seen: { copies: string[]; mode: number; manifestMode: number; smsDb: string; photo: boolean }[] =
      [];
    const report = await scanIosBackup(locked, {
      matcher,
      password: PASSWORD,
      tempDir,
      onProgress: ({ artifact }) => {
        if (artifact !== 'safari_history' && artifact !== '') return;
        const copies = readdirSync(tempDir);
        const copy = join(tempDir, copies[0]!);
        const sms = IOS_ARTIFACT_FILES.sms;
        seen.push({
          copies,
          mode: statSync(copy).mode & 0o777,
          manifestMode: statSync(join(copy, 'Manifest.db')).mode & 0o777,
          smsDb: readFileSync(backupContentPath(copy, sms.domain, sms.path))
            .subarray(0, 15)
            .toString('latin1'),
          photo: readdirSync(copy, { recursive: true, encoding: 'utf8' }).some((p) =>
            p.endsWith(fileIdOf(PHOTO.domain, PHOTO.path)),
          ),
        });
      },
    });
    expect(report.detections).toHaveLength(1);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.copies).toEqual([expect.stringMatching(/^rempart-ios-backup-/)]);
      expect(s.mode).toBe(0o700);
      expect(s.manifestMode).toBe(0o600);
      expect(s.smsDb).toBe('SQLite format 3');
      // The photo is listed (the files module saw it) but no module read its content.
      expect(s.photo).toBe(false);
    }
    expect(report.timeline.some((e) => e.file === `${PHOTO.domain}/${PHOTO.path}`)).toBe(true);
    expect(readdirSync(tempDir)).toEqual([]);
    expect(snapshot(locked)).toEqual(before);
  });

  it('leaves no decrypted copy behind when the scan fails midway', async () => {
    const tempDir = tempParent();
    const scan = scanIosBackup(await encrypted('midway'), {
      matcher,
      password: PASSWORD,
      tempDir,
      onProgress: ({ artifact }) => {
        if (artifact === 'safari_history') throw new Error('the analyst cancelled');
      },
    });
    await expect(scan).rejects.toThrow('the analyst cancelled');
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('refuses a wrong password with backup_password_wrong, and writes nothing anywhere', async () => {
    const locked = await encrypted('wrong');
    const before = snapshot(locked);
    const tempDir = tempParent();
    const progress: string[] = [];
    for (const password of ['Tr0ub4dor&3 — ete', 'tr0ub4dor&3 — été', `${PASSWORD} `]) {
      const error = await failure(
        scanIosBackup(locked, { matcher, password, tempDir, onProgress: (p) => progress.push(p.artifact) }),
      );
      expect(error.code).toBe('backup_password_wrong');
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/not the backup's password/);
      expect(error.message).not.toContain(password);
      expect(error.details).toEqual({ encrypted: true, passwordGiven: true });
    }
    // It got as far as deriving the key, and no further.
    expect(new Set(progress)).toEqual(new Set(['deriving the key from the password']));
    expect(readdirSync(tempDir)).toEqual([]);
    expect(snapshot(locked)).toEqual(before);
  });

  it('refuses to scan without the password, with backup_encrypted saying how to give it', async () => {
    const locked = await encrypted('no-password');
    const tempDir = tempParent();
    for (const password of [undefined, '']) {
      const error = await failure(scanIosBackup(locked, { matcher, password, tempDir }));
      expect(error.code).toBe('backup_encrypted');
      expect(error.message).toMatch(
        /the backup is encrypted.*give the backup's password.*REMPART_BACKUP_PASSWORD/,
      );
      expect(error.details).toEqual({ encrypted: true, passwordGiven: false });
    }
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('scans an encrypted backup named by the folder holding it, or stored flat', async () => {
    const parent = folder('parent');
    await writeIosBackup(join(parent, '00008110-001A2B3C4D5E6F70'), INFECTED, {
      password: PASSWORD,
      iterations: 10,
    });
    expect(detections(await scanIosBackup(parent, { matcher, password: PASSWORD }))).toHaveLength(1);
    const flat = await encrypted('flat', { ...INFECTED, flat: true });
    expect(detections(await scanIosBackup(flat, { matcher, password: PASSWORD }))).toHaveLength(1);
  });

  it('marks failed only the modules whose file does not decrypt, naming it, and the others still run', async () => {
    const locked = await encrypted('damaged-sms');
    const sms = IOS_ARTIFACT_FILES.sms;
    const path = backupContentPath(locked, sms.domain, sms.path);
    truncateSync(path, statSync(path).size - 3);
    const tempDir = tempParent();
    const report = await scanIosBackup(locked, { matcher, password: PASSWORD, tempDir });
    const failed = report.artifacts.filter((a) => a.status === 'failed');
    expect(failed.map((a) => a.artifact)).toEqual(['sms', 'sms_attachments']);
    expect(failed[0]?.message).toMatch(
      /HomeDomain\/Library\/SMS\/sms\.db cannot be decrypted: .*not AES ciphertext/,
    );
    expect(report.artifacts.find((a) => a.artifact === 'safari_history')?.status).toBe('read');
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it("reads a file whose ciphertext is swapped with another file's as garbage, not as the other file", async () => {
    // Each file has its own key: a file moved in the folder does not decrypt to anything readable.
    const locked = await encrypted('swapped');
    const { sms, tcc } = IOS_ARTIFACT_FILES;
    writeFileSync(
      backupContentPath(locked, sms.domain, sms.path),
      readFileSync(backupContentPath(locked, tcc.domain, tcc.path)),
    );
    const report = await scanIosBackup(locked, { matcher, password: PASSWORD });
    expect(report.artifacts.find((a) => a.artifact === 'sms')?.status).toBe('failed');
    expect(report.detections).toEqual([]);
  });
});

describe('the decrypted copy of an encrypted backup', () => {
  it('gives each file back exactly, whatever its size, from the first read on', async () => {
    const sizes = [0, 1, 15, 16, 17, 4096, 2 * 1024 * 1024 + 7, 3 * 1024 * 1024];
    const files = sizes.map((size) => ({
      domain: 'HomeDomain',
      path: `Library/Test/file-${size}.bin`,
      content: new Uint8Array(randomBytes(size)),
    }));
    const locked = await writeIosBackup(folder('sizes'), { files }, { password: PASSWORD, iterations: 10 });
    const tempDir = tempParent();
    const decrypted = await openEncryptedBackup(locked, { password: PASSWORD, tempDir });
    expect(decrypted).toBeDefined();
    try {
      for (const file of files) {
        const row = decrypted!.backup.find(file.domain, file.path);
        expect(row).toBeDefined();
        // Compared as buffers: a diff of megabytes byte by byte would take the test's time.
        const expected = Buffer.from(file.content);
        expect(Buffer.from(decrypted!.backup.read(row!)!).equals(expected)).toBe(true);
        // Read again: from the copy already decrypted.
        expect(readFileSync(decrypted!.backup.contentPath(row!)!).equals(expected)).toBe(true);
      }
      const folderRow = decrypted!.backup.find('HomeDomain', 'Library/Test');
      expect(folderRow?.flags).toBe(2);
      expect(decrypted!.backup.read(folderRow!)).toBeUndefined();
    } finally {
      decrypted?.close();
      decrypted?.close();
    }
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('reads a backup of iOS 10.0 or 10.1, whose Manifest.db was not encrypted (no ManifestKey)', async () => {
    const locked = await encrypted('ios10');
    const tempDir = tempParent();
    const decrypted = await openEncryptedBackup(locked, { password: PASSWORD, tempDir });
    const [copy] = readdirSync(tempDir);
    const manifestDb = readFileSync(join(tempDir, copy!, 'Manifest.db'));
    decrypted?.close();
    writeFileSync(join(locked, 'Manifest.db'), manifestDb);
    editManifestPlist(locked, (plist) => {
      delete plist.ManifestKey;
    });
    const report = await scanIosBackup(locked, { matcher, password: PASSWORD, tempDir });
    expect(detections(report)).toHaveLength(1);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('is not made for a backup that is not encrypted', async () => {
    const open = await writeIosBackup(folder('plain'), CLEAN_IOS_BACKUP);
    const tempDir = tempParent();
    expect(await openEncryptedBackup(open, { password: PASSWORD, tempDir })).toBeUndefined();
    expect(readdirSync(tempDir)).toEqual([]);
  });
});

describe('an encrypted backup the scan refuses', () => {
  it.each([
    [
      'a keybag cut short',
      (p: PlistDict) => {
        p.BackupKeyBag = (p.BackupKeyBag as Uint8Array).subarray(0, 100);
      },
      /its keybag \(Manifest\.plist BackupKeyBag\) is damaged: truncated at byte \d+/,
    ],
    [
      'no keybag',
      (p: PlistDict) => {
        delete p.BackupKeyBag;
      },
      /has no BackupKeyBag/,
    ],
    [
      'a ManifestKey that is not one',
      (p: PlistDict) => {
        p.ManifestKey = new Uint8Array(7);
      },
      /its ManifestKey .* is not a protection class and a wrapped key/,
    ],
    [
      'a ManifestKey of a class the keybag lacks',
      (p: PlistDict) => {
        const key = Buffer.from(p.ManifestKey as Uint8Array);
        key.writeUInt32LE(42);
        p.ManifestKey = new Uint8Array(key);
      },
      /names protection class 42, which its keybag has no key for/,
    ],
    [
      'a ManifestKey damaged',
      (p: PlistDict) => {
        const key = Buffer.from(p.ManifestKey as Uint8Array);
        key[10]! ^= 0xff;
        p.ManifestKey = new Uint8Array(key);
      },
      /its ManifestKey does not unwrap/,
    ],
  ])('refuses %s with a validation error, and writes nothing', async (_name, change, message) => {
    const locked = await encrypted('bad-plist', CLEAN_IOS_BACKUP);
    editManifestPlist(locked, change);
    const tempDir = tempParent();
    const error = await failure(scanIosBackup(locked, { matcher, password: PASSWORD, tempDir }));
    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/make a new backup$/);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('refuses a Manifest.db that is not whole AES blocks, or that does not decrypt to SQLite', async () => {
    const tempDir = tempParent();
    const cut = await encrypted('cut-db', CLEAN_IOS_BACKUP);
    truncateSync(join(cut, 'Manifest.db'), statSync(join(cut, 'Manifest.db')).size - 5);
    expect((await failure(scanIosBackup(cut, { matcher, password: PASSWORD, tempDir }))).message).toMatch(
      /its Manifest\.db \(\d+ bytes\) is not AES ciphertext/,
    );
    // Another backup's Manifest.db: whole blocks, under another key.
    const other = await encrypted('other-db', CLEAN_IOS_BACKUP);
    const donor = await encrypted('donor', CLEAN_IOS_BACKUP);
    writeFileSync(join(other, 'Manifest.db'), readFileSync(join(donor, 'Manifest.db')));
    expect((await failure(scanIosBackup(other, { matcher, password: PASSWORD, tempDir }))).message).toMatch(
      /its Manifest\.db does not decrypt to a SQLite database/,
    );
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('says the keys are missing when Manifest.plist is gone and a password is given', async () => {
    const locked = await encrypted('no-plist', CLEAN_IOS_BACKUP);
    rmSync(join(locked, 'Manifest.plist'));
    const error = await failure(scanIosBackup(locked, { matcher, password: PASSWORD }));
    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(
      /seems encrypted, but its Manifest\.plist, which holds the keys, is missing/,
    );
  });
});

describe("a file's record in an encrypted backup", () => {
  it('never throws on arbitrary bytes, nor on arbitrary archives', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = fileEncryption(bytes);
        expect(typeof result === 'string' || result.wrappedKey.byteLength >= 24).toBe(true);
      }),
    );
    const value = fc.oneof(
      fc.integer(),
      fc.string(),
      fc.uint8Array({ maxLength: 60 }),
      fc.record({ UID: fc.nat({ max: 6 }) }),
      fc.record({ 'NS.data': fc.uint8Array({ maxLength: 60 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(value, fc.dictionary(fc.constantFrom('EncryptionKey', 'ProtectionClass', 'Size'), value)),
          {
            maxLength: 6,
          },
        ),
        value,
        (objects, root) => {
          const archive = buildBinary({ $archiver: 'NSKeyedArchiver', $top: { root }, $objects: objects });
          const result = fileEncryption(archive);
          if (typeof result !== 'string') {
            expect(result.wrappedKey.byteLength % 8).toBe(0);
            expect(Number.isInteger(result.protectionClass)).toBe(true);
          }
        },
      ),
    );
  });

  it('says when there is no record, or no key in it', () => {
    expect(fileEncryption(null)).toBe('Manifest.db has no record of it');
    expect(fileEncryption(new Uint8Array(0))).toBe('Manifest.db has no record of it');
    expect(fileEncryption(new Uint8Array([1, 2, 3]))).toMatch(/its record is unreadable/);
    const noKey = buildBinary({
      $top: { root: { UID: 1 } },
      $objects: ['$null', { Size: 3, ProtectionClass: 3 }],
    });
    expect(fileEncryption(noKey)).toBe('its record holds no EncryptionKey');
  });

  it('takes the class from ProtectionClass, else from the key', () => {
    const key = Buffer.concat([Buffer.from([7, 0, 0, 0]), Buffer.alloc(40, 1)]);
    const record = (mbFile: PlistDict) =>
      buildBinary({
        $top: { root: { UID: 1 } },
        $objects: ['$null', { ...mbFile, EncryptionKey: { UID: 2 } }, { 'NS.data': key }],
      });
    expect(fileEncryption(record({ ProtectionClass: 3, Size: 10 }))).toEqual({
      protectionClass: 3,
      wrappedKey: new Uint8Array(key.subarray(4)),
      size: 10,
    });
    expect(fileEncryption(record({}))).toMatchObject({ protectionClass: 7, size: undefined });
  });
});
