/**
 * Safe extraction of a gzipped tar, the form iOS gives a sysdiagnose (`sysdiagnose_….tar.gz`):
 * read as hostile, like a zip (see archive.ts). The tar is read as POSIX.1-2001 ustar (IEEE Std
 * 1003.1-2001, "pax" format), with GNU's long names (type `L`) and pax extended headers (type `x`,
 * their `path` record); only regular files and folders are written. A link of either kind, a
 * device or a FIFO refuses the archive, as do a name that is absolute or climbs out with `..`, a
 * header whose checksum is wrong, an archive cut short, and more entries or bytes than the limits.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RempartError } from '@rempart/core';
import { entryParts, type ExtractLimits } from './archive.js';

const BLOCK = 512;

function invalid(message: string): RempartError {
  return new RempartError('artifact_invalid', `The artifact is not a usable tar.gz: ${message}.`);
}

/** One header of the archive, as read. */
export interface TarHeader {
  name: string;
  /** `0` (or NUL) file, `5` folder, `L` GNU long name, `x`/`g` pax headers, others refused. */
  type: string;
  size: number;
}

/**
 * Reads one 512-byte header; undefined for a block of zeros (the end of the archive). Throws
 * `artifact_invalid` when its checksum (ustar: the sum of its bytes, the checksum field read as
 * spaces) or its size is wrong.
 */
export function parseTarHeader(block: Uint8Array): TarHeader | undefined {
  if (block.length !== BLOCK) throw invalid('a header cut short');
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  const stored = octal(block.subarray(148, 156));
  if (stored !== sum) throw invalid('a header whose checksum is wrong');
  const size = sizeOf(block.subarray(124, 136));
  const text = (from: number, to: number) => {
    const field = Buffer.from(block.subarray(from, to));
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
  };
  let name = text(0, 100);
  // ustar keeps a name's folders in the prefix field (offset 345) when it is over 100 bytes.
  if (text(257, 262) === 'ustar') {
    const prefix = text(345, 500);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const flag = block[156]!;
  return { name, type: flag === 0 ? '0' : String.fromCharCode(flag), size };
}

/** A numeric field: octal digits, NUL- or space-ended; GNU's base-256 for sizes of 8 GB and more. */
function sizeOf(field: Uint8Array): number {
  if (field[0]! & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) {
      value = value * 256 + field[i]!;
      if (value > Number.MAX_SAFE_INTEGER) throw invalid('an entry larger than a file can be');
    }
    return value;
  }
  return octal(field);
}

function octal(field: Uint8Array): number {
  const text = Buffer.from(field)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (!/^[0-7]{1,12}$/.test(text)) throw invalid('a header with a number that is not octal');
  return parseInt(text, 8);
}

/** The `path` record of a pax extended header ("<length> path=<name>\n" records), if any. */
export function paxPath(data: Uint8Array): string | undefined {
  const text = Buffer.from(data).toString('utf8');
  let at = 0;
  let path: string | undefined;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    if (space < 0) break;
    const length = Number(text.slice(at, space));
    if (!Number.isInteger(length) || length <= space - at || at + length > text.length)
      throw invalid('a pax header whose records are malformed');
    const record = text.slice(space + 1, at + length - 1);
    if (record.startsWith('path=')) path = record.slice(5);
    at += length;
  }
  return path;
}

type TarState =
  | { kind: 'header' }
  /** Padding or data not written; a long name's or pax header's data collected. */
  | { kind: 'skip'; left: number; collect?: { chunks: Buffer[]; size: number; as: 'long' | 'pax' } }
  | { kind: 'file'; fd: number; left: number; pad: number }
  | { kind: 'end' };

/**
 * Extracts the gzipped tar `input` into `dest` within `limits`; returns the number of files
 * written. Throws `artifact_invalid` for a refused or damaged archive; `dest` may then hold part of
 * it, for the caller to remove.
 */
export async function extractTarGz(input: Readable, dest: string, limits: ExtractLimits): Promise<number> {
  mkdirSync(dest, { recursive: true });
  const gunzip = createGunzip();
  const source = input.pipe(gunzip);
  input.on('error', (error) => gunzip.destroy(error));
  // Headers and padding cost at most 1,024 bytes an entry beyond the files' own bytes.
  const streamCap = limits.maxBytes + limits.maxEntries * 2 * BLOCK + 1024 * 1024;
  let streamed = 0;
  let pending: Buffer = Buffer.alloc(0);
  let entries = 0;
  let written = 0;
  let files = 0;
  let longName: string | undefined;
  // Asserted wide: the state changes inside `step`, where the compiler does not follow it.
  let state = { kind: 'header' } as TarState;

  const take = (n: number): Buffer | undefined => {
    if (pending.length < n) return undefined;
    const out = pending.subarray(0, n);
    pending = pending.subarray(n);
    return out;
  };
  const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

  const step = (): boolean => {
    switch (state.kind) {
      case 'end':
        pending = Buffer.alloc(0);
        return false;
      case 'header': {
        const block = take(BLOCK);
        if (!block) return false;
        const header = parseTarHeader(block);
        if (!header) {
          state = { kind: 'end' };
          return true;
        }
        if (++entries > limits.maxEntries)
          throw invalid(`more than the ${limits.maxEntries} entries accepted`);
        if (header.type === 'L' || header.type === 'x') {
          if (header.size > 64 * 1024) throw invalid('a long name over 64 KB');
          state = {
            kind: 'skip',
            left: padded(header.size),
            collect: { chunks: [], size: header.size, as: header.type === 'L' ? 'long' : 'pax' },
          };
          return true;
        }
        if (header.type === 'g') {
          state = { kind: 'skip', left: padded(header.size) };
          return true;
        }
        const name = longName ?? header.name;
        longName = undefined;
        const parts = entryParts(name);
        if (typeof parts === 'string') throw invalid(`the entry ${JSON.stringify(name)} ${parts}`);
        if (parts[0] === '__MACOSX' || parts.at(-1)?.startsWith('._')) {
          // Finder's resource forks (AppleDouble files) are not part of an artifact.
          state = { kind: 'skip', left: padded(header.size) };
          return true;
        }
        const folder = (path: string) => {
          try {
            mkdirSync(path, { recursive: true });
          } catch {
            throw invalid(`the entry ${JSON.stringify(name)} is there twice, as a file and a folder`);
          }
        };
        if (header.type === '5') {
          folder(join(dest, ...parts));
          state = { kind: 'skip', left: padded(header.size) };
          return true;
        }
        if (header.type !== '0' && header.type !== '7')
          throw invalid(
            `the entry ${JSON.stringify(name)} is ${header.type === '1' || header.type === '2' ? 'a link' : `of type ${JSON.stringify(header.type)}`}`,
          );
        written += header.size;
        if (written > limits.maxBytes)
          throw invalid(`its files hold more than the ${limits.maxBytes} bytes accepted`);
        folder(join(dest, ...parts.slice(0, -1)));
        let fd: number;
        try {
          // 'wx': a second entry of the same name is refused rather than written over the first.
          fd = openSync(join(dest, ...parts), 'wx');
        } catch {
          throw invalid(`the entry ${JSON.stringify(name)} is there twice`);
        }
        files++;
        state = { kind: 'file', fd, left: header.size, pad: padded(header.size) - header.size };
        return true;
      }
      case 'file': {
        if (state.left === 0) {
          closeSync(state.fd);
          state = { kind: 'skip', left: state.pad };
          return true;
        }
        if (pending.length === 0) return false;
        const n = Math.min(state.left, pending.length);
        writeSync(state.fd, pending, 0, n);
        pending = pending.subarray(n);
        state.left -= n;
        return true;
      }
      case 'skip': {
        if (state.left === 0) {
          const collect = state.collect;
          if (collect) {
            const data = Buffer.concat(collect.chunks).subarray(0, collect.size);
            if (collect.as === 'long') longName = data.toString('utf8').replace(/\0+$/, '');
            else longName = paxPath(data) ?? longName;
          }
          state = { kind: 'header' };
          return true;
        }
        if (pending.length === 0) return false;
        const n = Math.min(state.left, pending.length);
        state.collect?.chunks.push(Buffer.from(pending.subarray(0, n)));
        pending = pending.subarray(n);
        state.left -= n;
        return true;
      }
    }
  };

  try {
    for await (const chunk of source) {
      const bytes = chunk as Buffer;
      streamed += bytes.length;
      if (streamed > streamCap) throw invalid('it inflates past the bytes accepted');
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
      // After the end blocks the stream is still read to its end: gzip's trailer (RFC 1952 §2.3.1,
      // CRC-32 and size) is what tells an archive cut short or damaged there.
      while (step());
    }
  } catch (error) {
    if (state.kind === 'file') closeSync(state.fd);
    source.destroy();
    if (error instanceof RempartError) throw error;
    throw invalid(`it cannot be decompressed (${(error as Error).message})`);
  }
  source.destroy();
  if (state.kind !== 'end' && !(state.kind === 'header' && pending.length === 0 && entries > 0)) {
    if (state.kind === 'file') closeSync(state.fd);
    throw invalid('it is cut short');
  }
  return files;
}
