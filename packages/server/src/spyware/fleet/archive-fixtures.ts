/**
 * What the fleet's archive tests share: gzipped tars written as GNU tar and iOS write them
 * (ustar headers with their checksum, each entry's data padded to 512 bytes, two blocks of zeros
 * at the end), what an extraction left on disk, and the refusal every bad archive gets.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RempartError } from '@rempart/core';
import { expect } from 'vitest';

export interface TarFixtureEntry {
  name: string;
  data?: Uint8Array | string;
  /** `0` file (the default), `5` folder, `1`/`2` links, `L` GNU long name, `x` pax header. */
  type?: string;
}

/** One entry: its ustar header block and its data, padded. */
export function tarEntry({ name, data = new Uint8Array(), type = '0' }: TarFixtureEntry): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const header = Buffer.alloc(512);
  // ustar: a name over 100 bytes is cut at a slash, its folders going to the prefix field.
  const cut = Buffer.byteLength(name) > 100 ? name.lastIndexOf('/', name.length - 2) : -1;
  header.write(cut < 0 ? name.slice(0, 100) : name.slice(cut + 1), 0, 'utf8');
  if (cut >= 0) header.write(name.slice(0, cut).slice(0, 155), 345, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${bytes.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('14000000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([header, bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512)]);
}

/** The tar of `entries`, with its end blocks. */
export function tar(entries: readonly TarFixtureEntry[]): Buffer {
  return Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)]);
}

export function tarGz(entries: readonly TarFixtureEntry[]): Buffer {
  return gzipSync(tar(entries));
}

/** A pax record, `<length> <key>=<value>\n`, whose length counts its own digits (POSIX pax). */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return Buffer.from(`${length}${body}`);
}

/** Every file under `dir`, relative, with `/`. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** The error `promise` fails with, checked to be the refusal of a bad archive. */
export async function refusal(promise: Promise<unknown>): Promise<RempartError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RempartError);
  expect((error as RempartError).code).toBe('artifact_invalid');
  return error as RempartError;
}
