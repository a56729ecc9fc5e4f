import { LEAKCHECK_MAX_BYTES, type LeakCheckResult } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import {
  acceptedFiles,
  decodeBase64,
  formatSize,
  redactedFile,
  redactedFileName,
  redactedSource,
  refuseImage,
} from './image';

const MB = 1024 * 1024;

function result(redacted?: LeakCheckResult['redacted']): LeakCheckResult {
  return {
    image: { format: 'jpeg', width: 800, height: 600, bytes: 120_000 },
    findings: [],
    ...(redacted ? { redacted } : {}),
    elapsedMs: 900,
  };
}

describe('which files are refused before any upload', () => {
  it('refuses a file over 20 MB, saying how large it is and what the limit is', () => {
    expect(refuseImage({ name: 'photo.jpg', size: 25 * MB, type: 'image/jpeg' })).toEqual({
      reason: 'too_large',
      bytes: 25 * MB,
      max: LEAKCHECK_MAX_BYTES,
    });
    expect(
      refuseImage({ name: 'photo.jpg', size: LEAKCHECK_MAX_BYTES + 1, type: 'image/jpeg' })?.reason,
    ).toBe('too_large');
  });

  it('takes a file of exactly 20 MB', () => {
    expect(refuseImage({ name: 'photo.jpg', size: LEAKCHECK_MAX_BYTES, type: 'image/jpeg' })).toBeUndefined();
  });

  it('refuses an empty file', () => {
    expect(refuseImage({ name: 'photo.png', size: 0, type: 'image/png' })).toEqual({ reason: 'empty' });
  });

  it('refuses a document or a photo format the server cannot read', () => {
    expect(refuseImage({ name: 'minutes.pdf', size: 1000, type: 'application/pdf' })).toEqual({
      reason: 'not_readable',
      type: 'application/pdf',
    });
    expect(refuseImage({ name: 'IMG_0001.HEIC', size: 1000, type: 'image/heic' })?.reason).toBe(
      'not_readable',
    );
    expect(refuseImage({ name: 'logo.svg', size: 1000, type: 'image/svg+xml' })?.reason).toBe('not_readable');
  });

  it('sends every accepted format, an oddly named JPEG and a file whose type the browser does not know', () => {
    for (const type of ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif'])
      expect(refuseImage({ name: 'x', size: 10, type })).toBeUndefined();
    expect(refuseImage({ name: 'photo.jpg', size: 10, type: 'image/jpg' })).toBeUndefined();
    expect(refuseImage({ name: 'scan', size: 10, type: '' })).toBeUndefined();
    expect(refuseImage({ name: 'scan.bin', size: 10, type: 'application/octet-stream' })).toBeUndefined();
  });

  it('offers the accepted formats in the file picker, by type and by extension', () => {
    const offered = acceptedFiles.split(',');
    expect(offered).toEqual(
      expect.arrayContaining(['image/jpeg', 'image/avif', '.jpg', '.jpeg', '.tif', '.webp']),
    );
    expect(offered).not.toContain('image/heic');
  });
});

describe('the redacted copy', () => {
  it('is named after the original, marked as redacted', () => {
    expect(redactedFileName('invitation.png', 'png')).toBe('invitation-redacted.png');
    expect(redactedFileName('IMG_0042.JPG', 'jpeg')).toBe('IMG_0042-redacted.JPG');
    expect(redactedFileName('scan.tif', 'tiff')).toBe('scan-redacted.tif');
    expect(redactedFileName('réunion du 12.03.jpeg', 'jpeg')).toBe('réunion du 12.03-redacted.jpeg');
  });

  it('gets the extension of its own format when the original had another or none', () => {
    expect(redactedFileName('screenshot', 'png')).toBe('screenshot-redacted.png');
    expect(redactedFileName('photo.heic', 'jpeg')).toBe('photo-redacted.jpg');
    expect(redactedFileName('', 'webp')).toBe('image-redacted.webp');
    expect(redactedFileName('.png', 'png')).toBe('.png-redacted.png');
    expect(redactedFileName('C:\\Users\\agent\\capture.gif', 'gif')).toBe('capture-redacted.gif');
  });

  it('downloads as exactly the bytes the server sent, typed by its format', async () => {
    const bytes = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9];
    const base64 = btoa(String.fromCharCode(...bytes));
    const file = redactedFile(result({ mediaType: 'image/jpeg', base64 }), 'board meeting.jpeg');
    expect(file?.fileName).toBe('board meeting-redacted.jpeg');
    expect(file?.blob.type).toBe('image/jpeg');
    expect([...new Uint8Array(await file!.blob.arrayBuffer())]).toEqual(bytes);
  });

  it('is neither shown nor offered when the server sent none', () => {
    expect(redactedFile(result(), 'photo.jpg')).toBeUndefined();
    expect(redactedSource(result())).toBeUndefined();
  });

  it('is shown from a data: URL of its own image type, whatever else the server names', () => {
    expect(redactedSource(result({ mediaType: 'image/png', base64: 'iVBORw0KGgo=' }))).toBe(
      'data:image/png;base64,iVBORw0KGgo=',
    );
    expect(redactedSource(result({ mediaType: 'text/html', base64: 'AAAA' }))).toBe(
      'data:image/jpeg;base64,AAAA',
    );
  });

  it('decodes base64 with line breaks in it', () => {
    expect([...decodeBase64('AAEC\r\nAwQ=')]).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('file sizes', () => {
  it('are written in the reader’s language, rounded up so that a file over the limit never reads as the limit', () => {
    expect(formatSize(LEAKCHECK_MAX_BYTES, 'en')).toBe('20 MB');
    expect(formatSize(LEAKCHECK_MAX_BYTES + 1, 'en')).toBe('20.1 MB');
    expect(formatSize(25 * MB, 'fr')).toMatch(/^25\sMo$/);
    expect(formatSize(1536, 'nl')).toMatch(/^1,5\skB$/);
  });
});
