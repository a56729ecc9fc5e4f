/**
 * The fleet's files: each scan's folder under `<data dir>/spyware/<scanId>/`, holding the upload
 * as received (`artifact`, a zip or a tar.gz, kept for retro-hunts until the scan's retention ends) and, while a
 * scan runs, its extraction. The only part of the fleet that touches the disk.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  closeSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RempartError } from '@rempart/core';

const UPLOAD = 'artifact';

/** A zip starts with a local file header, or is empty and starts with its end record (APPNOTE §4.3.7, §4.3.16). */
const ZIP_MAGICS = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];
/** gzip's ID1, ID2 and CM (deflate), RFC 1952 §2.3.1. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

export class FleetFiles {
  constructor(readonly root: string) {}

  scanDir(scanId: string): string {
    return join(this.root, scanId);
  }

  uploadPath(scanId: string): string {
    return join(this.scanDir(scanId), UPLOAD);
  }

  hasUpload(scanId: string): boolean {
    return existsSync(this.uploadPath(scanId));
  }

  /** A fresh, empty folder for one extraction of the scan's upload. */
  extractionDir(scanId: string, name: string): string {
    const dir = join(this.scanDir(scanId), name);
    rmSync(dir, { recursive: true, force: true });
    return dir;
  }

  remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }

  /**
   * Removes the extractions a stopped server left behind (nothing runs at start): only the
   * uploads are kept between scans.
   */
  removeLeftovers(): void {
    if (!existsSync(this.root)) return;
    for (const scan of readdirSync(this.root, { withFileTypes: true })) {
      if (!scan.isDirectory()) continue;
      for (const name of readdirSync(join(this.root, scan.name)))
        if (name !== UPLOAD) this.remove(join(this.root, scan.name, name));
    }
  }

  /** Removes everything kept for the scan. */
  removeScan(scanId: string): void {
    this.remove(this.scanDir(scanId));
  }

  /**
   * Writes `body` as the scan's upload, replacing any earlier one; `payload_too_large` beyond
   * `maxBytes` (nothing is kept then). Returns its size and SHA-256, for the audit log.
   */
  async saveUpload(
    scanId: string,
    body: Readable,
    maxBytes: number,
  ): Promise<{ bytes: number; sha256: string }> {
    this.removeScan(scanId);
    mkdirSync(this.scanDir(scanId), { recursive: true });
    const meter = new UploadMeter(maxBytes);
    try {
      await pipeline(body, meter, createWriteStream(this.uploadPath(scanId), { flags: 'wx' }));
    } catch (error) {
      this.removeScan(scanId);
      if (error instanceof RempartError) throw error;
      throw RempartError.badRequest('The upload was interrupted before its end.');
    }
    return { bytes: meter.bytes, sha256: meter.hash.digest('hex') };
  }

  /** The upload's format, by its first bytes. */
  uploadFormat(scanId: string): 'zip' | 'tar.gz' | undefined {
    const fd = openSync(this.uploadPath(scanId), 'r');
    try {
      const head = Buffer.alloc(4);
      const n = readSync(fd, head, 0, 4, 0);
      if (n === 4 && ZIP_MAGICS.some((m) => m.equals(head))) return 'zip';
      if (n >= 3 && head.subarray(0, 3).equals(GZIP_MAGIC)) return 'tar.gz';
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  readUpload(scanId: string): Readable {
    return createReadStream(this.uploadPath(scanId));
  }
}

class UploadMeter extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes)
      return done(
        new RempartError(
          'payload_too_large',
          `The artifact is larger than the ${this.maxBytes} bytes accepted.`,
          {
            details: { maxBytes: this.maxBytes },
          },
        ),
      );
    this.hash.update(chunk);
    done(null, chunk);
  }
}
