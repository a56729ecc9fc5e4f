import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { crc32 } from 'node:zlib';
import { RempartError } from '@rempart/core';
import fc from 'fast-check';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { filesUnder, refusal } from './archive-fixtures.js';
import { bufferSource, entryParts, extractZip, readZipDirectory } from './archive.js';

const work = mkdtempSync(join(tmpdir(), 'rempart-archive-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LIMITS = { maxEntries: 1000, maxBytes: 10 * 1024 * 1024 };
let counter = 0;

/** Writes `bytes` as a zip file and gives a fresh folder to extract it into. */
function place(bytes: Uint8Array): { file: string; dest: string } {
  const n = counter++;
  const file = join(work, `a${n}.zip`);
  writeFileSync(file, bytes);
  mkdirSync(join(work, `x${n}`));
  return { file, dest: join(work, `x${n}`, 'out') };
}

const BACKUP: Zippable = {
  '00008110-001A2B3C4D5E6F70': {
    'Manifest.db': randomBytes(5000),
    'Info.plist': strToU8('<plist version="1.0"><dict/></plist>'),
    '3d': { '3d0d7e5fb2ce288813306e4d4636395e047a3d28': strToU8('x'.repeat(100_000)) },
  },
};

describe('extracting an uploaded zip', () => {
  it('writes every file of the archive, byte for byte, deflated or stored', async () => {
    const zip = zipSync({
      ...BACKUP,
      'stored.bin': [randomBytes(300), { level: 0 }],
      'empty.txt': new Uint8Array(),
    });
    const { file, dest } = place(zip);
    const entries = await extractZip(file, dest, LIMITS);
    expect(filesUnder(dest)).toEqual([
      '00008110-001A2B3C4D5E6F70/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28',
      '00008110-001A2B3C4D5E6F70/Info.plist',
      '00008110-001A2B3C4D5E6F70/Manifest.db',
      'empty.txt',
      'stored.bin',
    ]);
    expect(readFileSync(join(dest, '00008110-001A2B3C4D5E6F70', 'Manifest.db'))).toEqual(
      Buffer.from((BACKUP['00008110-001A2B3C4D5E6F70'] as Record<string, Uint8Array>)['Manifest.db']!),
    );
    expect(entries.filter((e) => !e.directory)).toHaveLength(5);
  });

  it("leaves out the __MACOSX folder macOS's Finder adds", async () => {
    const { file, dest } = place(
      zipSync({ 'a.txt': strToU8('a'), __MACOSX: { '._a.txt': strToU8('fork') } }),
    );
    await extractZip(file, dest, LIMITS);
    expect(filesUnder(dest)).toEqual(['a.txt']);
  });

  it.each([
    ['../evil.txt'],
    ['backup/../../evil.txt'],
    ['/etc/cron.d/evil'],
    ['..\\evil.txt'],
    ['C:\\Windows\\evil.txt'],
    ['C:evil.txt'],
  ])('refuses the whole archive when an entry is named %s, writing nothing', async (name) => {
    const { file, dest } = place(zipSync({ 'first.txt': strToU8('ok'), [name]: strToU8('pwned') }));
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toContain(JSON.stringify(name));
    expect(filesUnder(join(dest, '..', '..'))).not.toContainEqual(expect.stringContaining('evil'));
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a symbolic link, wherever it points', async () => {
    const link: Zippable = {
      'ok.txt': strToU8('ok'),
      'Manifest.db': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
    };
    const { file, dest } = place(zipSync(link));
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/symbolic link/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a bomb whose declared sizes are over the limit before writing anything', async () => {
    const { file, dest } = place(zipSync({ 'zeros.bin': new Uint8Array(20 * 1024 * 1024) }));
    expect(readFileSync(file).length).toBeLessThan(100_000);
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/more than the 10485760 bytes/);
    expect(existsSync(dest)).toBe(false);
  });

  it('stops a bomb that lies about its size when its output passes the declared size', async () => {
    const zip = Buffer.from(zipSync({ 'zeros.bin': new Uint8Array(20 * 1024 * 1024) }));
    // The central directory's uncompressed size (offset 24 of its record) says 1 KB.
    const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(1024, central + 24);
    const { file, dest } = place(zip);
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/inflates past its declared size/);
    const written = filesUnder(dest).map((f) => readFileSync(join(dest, f)).length);
    expect(Math.max(0, ...written)).toBeLessThanOrEqual(1024 + 64 * 1024);
  });

  it('refuses a name that is both a file and a folder', async () => {
    const { file, dest } = place(zipSync({ 'a/b': strToU8('file'), 'a/b/c': strToU8('below a file') }));
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/there twice/);
  });

  it('refuses more entries than the limit', async () => {
    const many: Zippable = {};
    for (let i = 0; i < 30; i++) many[`f${i}.txt`] = strToU8(String(i));
    const { file, dest } = place(zipSync(many));
    const error = await refusal(extractZip(file, dest, { ...LIMITS, maxEntries: 20 }));
    expect(error.message).toMatch(/30 entries, more than the 20 accepted/);
  });

  it('refuses an entry whose content was damaged (its CRC-32 does not match)', async () => {
    const content = strToU8('a stored file whose bytes will change');
    const zip = Buffer.from(zipSync({ 'file.txt': [content, { level: 0 }] }));
    const at = zip.indexOf(Buffer.from('will change'));
    zip[at] = 'W'.charCodeAt(0);
    const { file, dest } = place(zip);
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/CRC-32/);
  });

  it('refuses what is not a zip', async () => {
    const { file, dest } = place(strToU8('%PDF-1.7 not a zip at all'));
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/no end of central directory/);
  });

  it('refuses a zip cut short at any point, with artifact_invalid and nothing outside its folder', async () => {
    const zip = zipSync(BACKUP);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: zip.length - 1 }), async (cut) => {
        const { file, dest } = place(zip.subarray(0, cut));
        await refusal(extractZip(file, dest, LIMITS));
        rmSync(join(dest, '..'), { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
  });

  it('either extracts a zip with random damage inside its folder or refuses it with artifact_invalid', async () => {
    const zip = zipSync({
      'a/b.txt': strToU8('hello '.repeat(50)),
      'c.bin': [randomBytes(200), { level: 0 }],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: zip.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        async (changes) => {
          const damaged = Buffer.from(zip);
          for (const [at, value] of changes) damaged[at] = value;
          const { file, dest } = place(damaged);
          const outcome = await extractZip(file, dest, LIMITS).then(
            () => 'extracted',
            (e: unknown) => e,
          );
          if (outcome !== 'extracted') {
            expect(outcome).toBeInstanceOf(RempartError);
            expect((outcome as RempartError).code).toBe('artifact_invalid');
          }
          // Whatever happened, nothing was written beside the destination folder.
          expect(readdirSync(join(dest, '..')).filter((n) => n !== 'out')).toEqual([]);
          rmSync(join(dest, '..'), { recursive: true, force: true });
        },
      ),
      { numRuns: 150 },
    );
  });
});

/**
 * A ZIP64 archive of one stored file, as tools write archives over 4 GB (APPNOTE §4.3.14, §4.5.3):
 * the sizes and offset in the extra field, the counts in the ZIP64 end record.
 */
function zip64(name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(45, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(0xffffffff, 18);
  local.writeUInt32LE(0xffffffff, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.writeUInt16LE(20, 28);
  const localExtra = Buffer.alloc(20);
  localExtra.writeUInt16LE(1, 0);
  localExtra.writeUInt16LE(16, 2);
  localExtra.writeBigUInt64LE(BigInt(data.length), 4);
  localExtra.writeBigUInt64LE(BigInt(data.length), 12);
  const head = Buffer.concat([local, nameBytes, localExtra, data]);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE((3 << 8) | 45, 4);
  central.writeUInt16LE(45, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(0xffffffff, 20);
  central.writeUInt32LE(0xffffffff, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt16LE(28, 30);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  central.writeUInt32LE(0xffffffff, 42);
  const centralExtra = Buffer.alloc(28);
  centralExtra.writeUInt16LE(1, 0);
  centralExtra.writeUInt16LE(24, 2);
  centralExtra.writeBigUInt64LE(BigInt(data.length), 4);
  centralExtra.writeBigUInt64LE(BigInt(data.length), 12);
  centralExtra.writeBigUInt64LE(0n, 20);
  const directory = Buffer.concat([central, nameBytes, centralExtra]);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(1n, 24);
  record.writeBigUInt64LE(1n, 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(head.length), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(head.length + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([head, directory, record, locator, end]);
}

describe('zips with names made to escape', () => {
  it('never write outside their folder, whatever the entries are named', async () => {
    const part = fc.constantFrom('..', '.', '', 'a', 'b', 'C:', '..\\x', '\\', 'é');
    const name = fc.array(part, { minLength: 1, maxLength: 5 }).map((p) => p.join('/'));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), async (names) => {
        const entries: Zippable = {};
        for (const n of names) entries[n] = strToU8('x');
        const { file, dest } = place(zipSync(entries));
        const outcome = await extractZip(file, dest, LIMITS).then(
          () => 'extracted',
          (e: unknown) => e,
        );
        if (outcome !== 'extracted') expect((outcome as RempartError).code).toBe('artifact_invalid');
        expect(readdirSync(join(dest, '..')).filter((n) => n !== 'out')).toEqual([]);
        expect(filesUnder(work).filter((f) => !/^(a\d+\.zip|x\d+\/out\/.*)$/.test(f))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe('a ZIP64 archive', () => {
  it('is read through its ZIP64 end record and extra fields', async () => {
    const data = randomBytes(1000);
    const { file, dest } = place(zip64('backup/Manifest.db', data));
    const entries = await extractZip(file, dest, LIMITS);
    expect(entries.map((e) => [e.name, e.size])).toEqual([['backup/Manifest.db', 1000]]);
    expect(readFileSync(join(dest, 'backup', 'Manifest.db'))).toEqual(data);
  });

  it('is refused when its locator is missing', async () => {
    const whole = zip64('a.txt', Buffer.from('hello'));
    const broken = Buffer.from(whole);
    broken.writeUInt32LE(0, whole.length - 22 - 20);
    const { file, dest } = place(broken);
    const error = await refusal(extractZip(file, dest, LIMITS));
    expect(error.message).toMatch(/ZIP64 archive without its locator/);
  });
});

describe('reading the central directory', () => {
  it('never throws anything but artifact_invalid on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          readZipDirectory(bufferSource(bytes), LIMITS);
        } catch (error) {
          expect(error).toBeInstanceOf(RempartError);
          expect((error as RempartError).code).toBe('artifact_invalid');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('lists the entries of a zip with their names and sizes', () => {
    const entries = readZipDirectory(bufferSource(zipSync({ 'x/y.txt': strToU8('12345') })), LIMITS);
    expect(entries.filter((e) => !e.directory).map((e) => [e.name, e.size])).toEqual([['x/y.txt', 5]]);
  });
});

describe("an entry's name", () => {
  it('keeps every path inside the destination, whatever the name', () => {
    const dest = join(work, 'dest');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .array(fc.constantFrom('..', '.', '', 'a', 'b\\..', '/', 'C:', '..\\x'), { maxLength: 8 })
            .map((p) => p.join('/')),
        ),
        (name) => {
          const parts = entryParts(name);
          if (typeof parts === 'string') return;
          expect(parts.length).toBeGreaterThan(0);
          expect(parts).not.toContain('..');
          expect(parts).not.toContain('');
          const target = join(dest, ...parts);
          expect(target.startsWith(dest + sep)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads backslashes as separators and drops empty and dot parts', () => {
    expect(entryParts('a\\b/./c//d')).toEqual(['a', 'b', 'c', 'd']);
    expect(entryParts('a/../b')).toBe('climbs out of the archive with ..');
    expect(entryParts('/abs')).toBe('has an absolute path');
  });
});
