import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { RempartError } from '@rempart/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { filesUnder, paxRecord, refusal, tarEntry } from './archive-fixtures.js';
import { extractTarGz, parseTarHeader, paxPath } from './tar.js';

const work = mkdtempSync(join(tmpdir(), 'rempart-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const LIMITS = { maxEntries: 1000, maxBytes: 10 * 1024 * 1024 };
let counter = 0;

/** One ustar entry (its header and padded data), given as tar.test.ts has always named them. */
function entry(name: string, data?: Uint8Array, type = '0'): Buffer {
  return tarEntry({ name, ...(data === undefined ? {} : { data }), type });
}

const END = Buffer.alloc(1024);
const tarGz = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, END]));

function folder(): string {
  const dir = join(work, `t${counter++}`);
  mkdirSync(dir);
  return join(dir, 'out');
}

const SHUTDOWN = Buffer.from(
  'remaining client pid: 4242 (/private/var/db/com.apple.xpc.roleaccountd.staging/bh)\n',
);
const LONG = `sysdiagnose_2024.01.10_15-32-10+0100_iPhone-OS_iPhone_21C66/${'deep/'.repeat(30)}file.txt`;

describe('extracting a sysdiagnose .tar.gz', () => {
  it('writes its folders and files byte for byte, long names included', async () => {
    const big = randomBytes(70_000);
    const dest = folder();
    const files = await extractTarGz(
      Readable.from([
        tarGz(
          entry('sysdiagnose_x/', undefined, '5'),
          entry('sysdiagnose_x/system_logs.logarchive/Extra/shutdown.log', SHUTDOWN),
          entry('sysdiagnose_x/big.bin', big),
          entry('././@LongLink', Buffer.from(`${LONG}\0`), 'L'),
          entry('truncated-name', Buffer.from('by GNU')),
          entry('PaxHeader', paxRecord('path', `${LONG}.pax`), 'x'),
          entry('other-truncated-name', Buffer.from('by pax')),
        ),
      ]),
      dest,
      LIMITS,
    );
    expect(files).toBe(4);
    expect(readFileSync(join(dest, 'sysdiagnose_x/system_logs.logarchive/Extra/shutdown.log'))).toEqual(
      SHUTDOWN,
    );
    expect(readFileSync(join(dest, 'sysdiagnose_x/big.bin'))).toEqual(big);
    expect(readFileSync(join(dest, LONG), 'utf8')).toBe('by GNU');
    expect(readFileSync(join(dest, `${LONG}.pax`), 'utf8')).toBe('by pax');
  });

  it.each([
    ['a link', entry('sysdiagnose_x/log', undefined, '2')],
    ['a hard link', entry('sysdiagnose_x/log', undefined, '1')],
    ['a device', entry('sysdiagnose_x/dev', undefined, '3')],
    ['a name climbing out', entry('../../evil.txt', Buffer.from('pwned'))],
    ['an absolute name', entry('/etc/evil.txt', Buffer.from('pwned'))],
  ])('refuses an archive holding %s', async (_what, bad) => {
    const dest = folder();
    await refusal(
      extractTarGz(Readable.from([tarGz(entry('ok.txt', Buffer.from('ok')), bad)]), dest, LIMITS),
    );
    expect(filesUnder(join(dest, '..')).filter((f) => !f.startsWith('out/'))).toEqual([]);
  });

  it('refuses a name that is both a file and a folder, or there twice', async () => {
    const clash = tarGz(entry('a/b', Buffer.from('file')), entry('a/b/c', Buffer.from('below a file')));
    expect((await refusal(extractTarGz(Readable.from([clash]), folder(), LIMITS))).message).toMatch(
      /there twice/,
    );
    const twice = tarGz(entry('a.txt', Buffer.from('one')), entry('a.txt', Buffer.from('two')));
    expect((await refusal(extractTarGz(Readable.from([twice]), folder(), LIMITS))).message).toMatch(
      /there twice/,
    );
  });

  it('refuses files over the byte limit from their headers, before inflating them', async () => {
    const dest = folder();
    const error = await refusal(
      extractTarGz(Readable.from([tarGz(entry('zeros.bin', new Uint8Array(3 * 1024 * 1024)))]), dest, {
        ...LIMITS,
        maxBytes: 1024 * 1024,
      }),
    );
    expect(error.message).toMatch(/more than the 1048576 bytes/);
    expect(filesUnder(dest)).toEqual([]);
  });

  it('refuses more entries than the limit', async () => {
    const many = Array.from({ length: 30 }, (_, i) => entry(`f${i}.txt`, Buffer.from(String(i))));
    await refusal(extractTarGz(Readable.from([tarGz(...many)]), folder(), { ...LIMITS, maxEntries: 20 }));
  });

  it('refuses a header whose checksum is wrong', async () => {
    const damaged = entry('a.txt', Buffer.from('hello'));
    damaged[0] = 'b'.charCodeAt(0);
    const error = await refusal(extractTarGz(Readable.from([tarGz(damaged)]), folder(), LIMITS));
    expect(error.message).toMatch(/checksum/);
  });

  it('refuses what is not gzip', async () => {
    await refusal(extractTarGz(Readable.from([Buffer.from('PK\x03\x04 not a tar.gz')]), folder(), LIMITS));
  });

  it('refuses an archive cut short at any point', async () => {
    const whole = tarGz(entry('sysdiagnose_x/shutdown.log', SHUTDOWN), entry('b.bin', randomBytes(3000)));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: whole.length - 1 }), async (cut) => {
        const dest = folder();
        await refusal(extractTarGz(Readable.from([whole.subarray(0, cut)]), dest, LIMITS));
      }),
      { numRuns: 60 },
    );
  });

  it('either extracts a damaged tar inside its folder or refuses it with artifact_invalid', async () => {
    const tar = Buffer.concat([
      entry('dir/', undefined, '5'),
      entry('dir/a.txt', Buffer.from('hello '.repeat(100))),
      entry('b.bin', randomBytes(700)),
      END,
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: tar.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        async (changes) => {
          const damaged = Buffer.from(tar);
          for (const [at, value] of changes) damaged[at] = value;
          const dest = folder();
          const outcome = await extractTarGz(Readable.from([gzipSync(damaged)]), dest, LIMITS).then(
            () => 'extracted',
            (e: unknown) => e,
          );
          if (outcome !== 'extracted') {
            expect(outcome).toBeInstanceOf(RempartError);
            expect((outcome as RempartError).code).toBe('artifact_invalid');
          }
          expect(readdirSync(join(dest, '..')).filter((n) => n !== 'out')).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('reading tar headers', () => {
  it('answers a header, the end, or artifact_invalid for any 512 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), (block) => {
        try {
          const header = parseTarHeader(block);
          if (header) expect(header.size).toBeGreaterThanOrEqual(0);
        } catch (error) {
          expect((error as RempartError).code).toBe('artifact_invalid');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the checksum, the size and the type of a real header', () => {
    const header = parseTarHeader(entry('x/y.txt', Buffer.from('12345')).subarray(0, 512));
    expect(header).toEqual({ name: 'x/y.txt', type: '0', size: 5 });
    expect(parseTarHeader(new Uint8Array(512))).toBeUndefined();
  });

  it('reads the path of a pax header, and refuses malformed records', () => {
    expect(paxPath(Buffer.from('9 path=a\n20 mtime=1700000000.5\n'))).toBe('a');
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          paxPath(Buffer.from(text));
        } catch (error) {
          expect((error as RempartError).code).toBe('artifact_invalid');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
