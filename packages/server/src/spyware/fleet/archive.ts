/**
 * Safe extraction of an uploaded zip (an iOS backup folder, a sysdiagnose, an Android bug report or
 * an androidqf acquisition, zipped by whoever took it): the archive comes from a phone that may be
 * in an attacker's hands, so it is read as hostile.
 *
 * The central directory (PKWARE APPNOTE.TXT §4.3.12, and its ZIP64 form, §4.3.14 and §4.5.3) is
 * read first and the whole archive refused before a byte is written when an entry's name is
 * absolute or climbs out with `..`, when an entry is a symbolic link (its Unix mode in the
 * external attributes, §4.4.15), when it is encrypted or compressed otherwise than stored or
 * deflated, or when the entries or their declared sizes go over the limits. Then each file is
 * streamed to disk through an inflater that counts what comes out: a bomb whose declared sizes
 * lie is stopped at the limit, and each entry's CRC-32 (§4.4.7) is checked.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { RempartError } from '@rempart/core';

/** One entry of the central directory. */
export interface ZipEntry {
  /** The name as the archive gives it. */
  name: string;
  /** The name's path components, checked (no `..`, not absolute, no empty part). */
  parts: string[];
  directory: boolean;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ExtractLimits {
  /** Entries (files and folders) at most. */
  maxEntries: number;
  /** Bytes written at most, all entries together. */
  maxBytes: number;
}

/** Random access to the archive's bytes. */
export interface ByteSource {
  size: number;
  /** `length` bytes at `offset`, fewer at the end. */
  read(offset: number, length: number): Buffer;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The end record is 22 bytes and its comment at most 65,535 (§4.3.16). */
const EOCD_MAX_SEARCH = 22 + 0xffff;
/** A central directory larger than this is not an artifact's (1.5 million names of 100 bytes). */
const CENTRAL_MAX_BYTES = 256 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Folders macOS's Finder adds to a zip (resource forks): never part of an artifact. */
const FINDER_DEBRIS = '__MACOSX';

function invalid(message: string): RempartError {
  return new RempartError('artifact_invalid', `The artifact is not a usable zip: ${message}.`);
}

/** A source over bytes in memory (tests, fuzzing). */
export function bufferSource(bytes: Uint8Array): ByteSource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buffer.length,
    read: (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length)),
  };
}

/**
 * The checked path components of an entry's name, or a reason to refuse it. Backslashes are read
 * as separators (zips made on Windows), so that `..\x` is caught too.
 *
 * @example
 *   entryParts('backup/Manifest.db') // ['backup', 'Manifest.db']
 *   entryParts('../etc/passwd')      // 'climbs out of the archive with ..'
 */
export function entryParts(name: string): string[] | string {
  if (name.length === 0) return 'has an empty name';
  if (name.includes('\0')) return 'has a NUL byte in its name';
  const unified = name.replaceAll('\\', '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) return 'has an absolute path';
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'climbs out of the archive with ..';
  if (parts.length === 0) return 'names no file';
  if (parts.some((p) => Buffer.byteLength(p) > 255)) return 'has a name part longer than 255 bytes';
  return parts;
}

/**
 * Reads and checks the central directory. Throws `artifact_invalid` naming the first entry that
 * is refused, or what is wrong with the archive (not a zip, cut short, over the limits).
 */
export function readZipDirectory(source: ByteSource, limits: ExtractLimits): ZipEntry[] {
  const searchFrom = Math.max(0, source.size - EOCD_MAX_SEARCH);
  const tail = source.read(searchFrom, source.size - searchFrom);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    // The comment length must reach the end exactly: a signature inside a comment is not the record.
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw invalid('no end of central directory (not a zip, or cut short)');
  let count = tail.readUInt16LE(at + 10);
  let centralSize = tail.readUInt32LE(at + 12);
  let centralOffset = tail.readUInt32LE(at + 16);
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0)
    throw invalid('it spans several disks');
  if (count === 0xffff || centralSize === 0xffffffff || centralOffset === 0xffffffff) {
    const eocdOffset = searchFrom + at;
    const locator = source.read(eocdOffset - 20, 20);
    if (eocdOffset < 20 || locator.length < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR)
      throw invalid('a ZIP64 archive without its locator');
    const recordOffset = safeNumber(locator.readBigUInt64LE(8));
    const record = source.read(recordOffset, 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD)
      throw invalid('a ZIP64 archive without its end record');
    count = safeNumber(record.readBigUInt64LE(32));
    centralSize = safeNumber(record.readBigUInt64LE(40));
    centralOffset = safeNumber(record.readBigUInt64LE(48));
  }
  if (count > limits.maxEntries)
    throw invalid(`${count} entries, more than the ${limits.maxEntries} accepted`);
  if (centralSize > CENTRAL_MAX_BYTES) throw invalid('its central directory is too large');
  if (centralOffset + centralSize > source.size) throw invalid('its central directory is cut short');
  const central = source.read(centralOffset, centralSize);
  const entries: ZipEntry[] = [];
  let declared = 0;
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > central.length || central.readUInt32LE(p) !== CENTRAL)
      throw invalid(`entry ${n + 1} of the central directory is damaged`);
    const flags = central.readUInt16LE(p + 8);
    const method = central.readUInt16LE(p + 10);
    const crc = central.readUInt32LE(p + 16);
    let compressedSize = central.readUInt32LE(p + 20);
    let size = central.readUInt32LE(p + 24);
    const nameLength = central.readUInt16LE(p + 28);
    const extraLength = central.readUInt16LE(p + 30);
    const commentLength = central.readUInt16LE(p + 32);
    const madeBy = central.readUInt16LE(p + 4) >> 8;
    const external = central.readUInt32LE(p + 38);
    let localHeaderOffset = central.readUInt32LE(p + 42);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > central.length) throw invalid(`entry ${n + 1} of the central directory is cut short`);
    // Bit 11: the name is UTF-8 (§4.4.4); otherwise IBM 437, of which ASCII names are the same.
    const rawName = central.subarray(p + 46, p + 46 + nameLength);
    const name = flags & 0x800 ? rawName.toString('utf8') : rawName.toString('latin1');
    const extra = central.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    ({ compressedSize, size, localHeaderOffset } = zip64Sizes(extra, {
      compressedSize,
      size,
      localHeaderOffset,
    }));
    p = end;

    const parts = entryParts(name);
    if (typeof parts === 'string') throw invalid(`the entry ${JSON.stringify(name)} ${parts}`);
    if (parts[0] === FINDER_DEBRIS) continue;
    // Unix (3) and macOS (19) keep the file's mode in the high half of the external attributes.
    if ((madeBy === 3 || madeBy === 19) && ((external >>> 16) & S_IFMT) === S_IFLNK)
      throw invalid(`the entry ${JSON.stringify(name)} is a symbolic link`);
    if (flags & 0x1) throw invalid(`the entry ${JSON.stringify(name)} is encrypted`);
    const directory = name.endsWith('/') || name.endsWith('\\');
    if (!directory && method !== 0 && method !== 8)
      throw invalid(
        `the entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflated are read)`,
      );
    if (localHeaderOffset + 30 + compressedSize > source.size)
      throw invalid(`the entry ${JSON.stringify(name)} lies past the end of the archive`);
    declared += directory ? 0 : size;
    if (declared > limits.maxBytes)
      throw invalid(`its files hold more than the ${limits.maxBytes} bytes accepted`);
    entries.push({ name, parts, directory, method, crc32: crc, compressedSize, size, localHeaderOffset });
  }
  return entries;
}

/** The ZIP64 extended information (§4.5.3): the fields the central record set to 0xFFFFFFFF, in order. */
function zip64Sizes(
  extra: Buffer,
  values: { compressedSize: number; size: number; localHeaderOffset: number },
): { compressedSize: number; size: number; localHeaderOffset: number } {
  const needed = [
    values.size === 0xffffffff,
    values.compressedSize === 0xffffffff,
    values.localHeaderOffset === 0xffffffff,
  ];
  if (!needed.some(Boolean)) return values;
  for (let i = 0; i + 4 <= extra.length;) {
    const id = extra.readUInt16LE(i);
    const length = extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      const field = extra.subarray(i + 4, i + 4 + length);
      let q = 0;
      const next = () => {
        if (q + 8 > field.length) throw invalid('a ZIP64 entry whose sizes are missing');
        const value = safeNumber(field.readBigUInt64LE(q));
        q += 8;
        return value;
      };
      const size = needed[0] ? next() : values.size;
      const compressedSize = needed[1] ? next() : values.compressedSize;
      const localHeaderOffset = needed[2] ? next() : values.localHeaderOffset;
      return { size, compressedSize, localHeaderOffset };
    }
    i += 4 + length;
  }
  throw invalid('a ZIP64 entry whose sizes are missing');
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('a size or offset beyond what a file can hold');
  return Number(value);
}

/** Counts and checksums what comes out of an entry, stopping it at its declared size. */
class EntryMeter extends Transform {
  written = 0;
  crc = 0;

  constructor(
    private readonly entry: ZipEntry,
    private readonly budget: { left: number },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.written += chunk.length;
    this.budget.left -= chunk.length;
    if (this.written > this.entry.size)
      return done(invalid(`the entry ${JSON.stringify(this.entry.name)} inflates past its declared size`));
    if (this.budget.left < 0) return done(invalid('its files inflate past the bytes accepted'));
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
}

/**
 * Extracts the zip at `file` into the folder `dest` (created; it should be empty), within
 * `limits`. Returns the entries written. Throws `artifact_invalid` for a refused or damaged
 * archive; `dest` may then hold part of it, for the caller to remove.
 */
export async function extractZip(file: string, dest: string, limits: ExtractLimits): Promise<ZipEntry[]> {
  const fd = openSync(file, 'r');
  const dataStart = new Map<ZipEntry, number>();
  let entries: ZipEntry[];
  let size: number;
  try {
    size = fstatSync(fd).size;
    const source: ByteSource = {
      size,
      read: (offset, length) => {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        let got = 0;
        while (got < buffer.length) {
          const n = readSync(fd, buffer, got, buffer.length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return buffer.subarray(0, got);
      },
    };
    entries = readZipDirectory(source, limits);
    // Where each entry's data starts: after its local header, whose name and extra lengths may
    // differ from the central directory's (§4.3.7).
    for (const entry of entries) {
      if (entry.directory) continue;
      const header = source.read(entry.localHeaderOffset, 30);
      if (header.length < 30 || header.readUInt32LE(0) !== LOCAL)
        throw invalid(`the entry ${JSON.stringify(entry.name)} has no local header`);
      const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      if (start + entry.compressedSize > size)
        throw invalid(`the entry ${JSON.stringify(entry.name)} is cut short`);
      dataStart.set(entry, start);
    }
  } finally {
    closeSync(fd);
  }
  mkdirSync(dest, { recursive: true });
  const budget = { left: limits.maxBytes };
  for (const entry of entries) {
    const target = join(dest, ...entry.parts);
    // A folder where a file of the same name was written, or the other way round, is refused.
    const folder = (path: string) => {
      try {
        mkdirSync(path, { recursive: true });
      } catch {
        throw invalid(`the entry ${JSON.stringify(entry.name)} is there twice, as a file and a folder`);
      }
    };
    if (entry.directory) {
      folder(target);
      continue;
    }
    folder(join(dest, ...entry.parts.slice(0, -1)));
    const start = dataStart.get(entry)!;
    const meter = new EntryMeter(entry, budget);
    const input =
      entry.compressedSize === 0
        ? Readable.from([])
        : createReadStream(file, { start, end: start + entry.compressedSize - 1 });
    // 'wx': a second entry of the same name is refused rather than written over the first.
    const output = createWriteStream(target, { flags: 'wx' });
    try {
      if (entry.method === 8) await pipeline(input, createInflateRaw(), meter, output);
      else await pipeline(input, meter, output);
    } catch (error) {
      if (error instanceof RempartError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw invalid(
        code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR'
          ? `the entry ${JSON.stringify(entry.name)} is there twice`
          : `the entry ${JSON.stringify(entry.name)} cannot be inflated (${(error as Error).message})`,
      );
    }
    if (meter.written !== entry.size)
      throw invalid(
        `the entry ${JSON.stringify(entry.name)} holds ${meter.written} bytes, not ${entry.size}`,
      );
    if (meter.crc >>> 0 !== entry.crc32 >>> 0)
      throw invalid(`the entry ${JSON.stringify(entry.name)} is damaged (CRC-32 mismatch)`);
  }
  return entries;
}
