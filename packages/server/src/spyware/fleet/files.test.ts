import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RempartError } from '@rempart/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetFiles } from './files.js';

const root = mkdtempSync(join(tmpdir(), 'rempart-fleet-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const files = new FleetFiles(root);

/** `bytes` as a request body arrives: in chunks. */
const body = (bytes: Buffer) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) =>
      bytes.subarray(i * 4096, (i + 1) * 4096),
    ),
  );

describe("a scan's upload", () => {
  it('is written as it comes, with its size and SHA-256 for the audit log', async () => {
    const bytes = randomBytes(50_000);
    const saved = await files.saveUpload('scan-a', body(bytes), 100_000);
    expect(saved).toEqual({ bytes: 50_000, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(readFileSync(files.uploadPath('scan-a'))).toEqual(bytes);
  });

  it('is refused past the limit even when no Content-Length announced it, and nothing is kept', async () => {
    const error = await files
      .saveUpload('scan-b', body(randomBytes(20_000)), 10_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('payload_too_large');
    expect(existsSync(files.scanDir('scan-b'))).toBe(false);
  });

  it('is refused as bad_request when the sender stops half-way, and nothing is kept', async () => {
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('socket hang up'));
      },
    });
    const error = await files.saveUpload('scan-c', broken, 10_000).catch((e: unknown) => e);
    expect((error as RempartError).code).toBe('bad_request');
    expect(existsSync(files.scanDir('scan-c'))).toBe(false);
  });

  it('is told a zip or a tar.gz by its first bytes, whatever it was called', async () => {
    await files.saveUpload('zip', body(Buffer.from('PK\x03\x04rest', 'latin1')), 100);
    await files.saveUpload('gz', body(Buffer.from([0x1f, 0x8b, 0x08, 0])), 100);
    await files.saveUpload('pdf', body(Buffer.from('%PDF-1.7')), 100);
    expect([files.uploadFormat('zip'), files.uploadFormat('gz'), files.uploadFormat('pdf')]).toEqual([
      'zip',
      'tar.gz',
      undefined,
    ]);
  });

  it('is all that is kept of a scan after a restart: extractions left behind are removed', async () => {
    await files.saveUpload('scan-d', body(Buffer.from('PK\x05\x06', 'latin1')), 100);
    mkdirSync(join(files.extractionDir('scan-d', 'extracted'), 'deep'), { recursive: true });
    files.removeLeftovers();
    expect(readdirSync(files.scanDir('scan-d'))).toEqual(['artifact']);
  });
});
