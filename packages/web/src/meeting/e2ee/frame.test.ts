import { describe, expect, it } from 'vitest';
import {
  TAG_BYTES,
  TRAILER_BYTES,
  clearBytes,
  decryptFrame,
  encryptFrame,
  importMediaKey,
  readTrailer,
  type SenderKey,
} from './frame';

const rawKey = (fill: number) => new Uint8Array(16).fill(fill);

async function sender(epoch = 7, leaf = 2, fill = 1): Promise<SenderKey> {
  return { epoch, leaf, key: await importMediaKey(rawKey(fill)) };
}

/** A VP8 keyframe's first bytes (frame tag, start code, 640×480), then a payload. */
function vp8Keyframe(): ArrayBuffer {
  const header = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
  const payload = Array.from({ length: 500 }, (_, i) => (i * 31) & 0xff);
  return new Uint8Array([...header, ...payload]).buffer;
}

describe('the encrypted media frame', () => {
  it('decrypts back to the very frame that was encrypted', async () => {
    const key = await sender();
    const frame = vp8Keyframe();
    const sealed = await encryptFrame(frame, key, clearBytes('video', true));
    expect(sealed.byteLength).toBe(frame.byteLength + TAG_BYTES + TRAILER_BYTES);
    expect(new Uint8Array(await decryptFrame(sealed, key.key))).toEqual(new Uint8Array(frame));
  });

  it('keeps the VP8 keyframe header (10 bytes) in clear and hides the rest', async () => {
    const frame = vp8Keyframe();
    const sealed = new Uint8Array(await encryptFrame(frame, await sender(), clearBytes('video', true)));
    expect(sealed.subarray(0, 10)).toEqual(new Uint8Array(frame).subarray(0, 10));
    expect(sealed.subarray(10, 30)).not.toEqual(new Uint8Array(frame).subarray(10, 30));
  });

  it('keeps 3 bytes of a VP8 delta frame and 1 byte of Opus in clear', async () => {
    expect(clearBytes('video', false)).toBe(3);
    expect(clearBytes('audio', false)).toBe(1);
    const opus = new Uint8Array([0xfc, 1, 2, 3, 4, 5, 6, 7, 8]);
    const sealed = new Uint8Array(
      await encryptFrame(opus.buffer, await sender(), clearBytes('audio', false)),
    );
    expect(sealed[0]).toBe(0xfc);
    expect(readTrailer(sealed.buffer)).toEqual({ epoch: 7, leaf: 2, clear: 1 });
  });

  it('names the epoch and the sender leaf in its trailer', async () => {
    const sealed = await encryptFrame(vp8Keyframe(), await sender(123456, 9), 10);
    expect(readTrailer(sealed)).toEqual({ epoch: 123456, leaf: 9, clear: 10 });
  });

  it('is refused when one byte of ciphertext was changed', async () => {
    const key = await sender();
    const sealed = new Uint8Array(await encryptFrame(vp8Keyframe(), key, 10));
    sealed[40] = (sealed[40] ?? 0) ^ 0x01;
    await expect(decryptFrame(sealed.buffer, key.key)).rejects.toThrow();
  });

  it('is refused when the clear header was changed (it is authenticated)', async () => {
    const key = await sender();
    const sealed = new Uint8Array(await encryptFrame(vp8Keyframe(), key, 10));
    sealed[7] = (sealed[7] ?? 0) ^ 0x01;
    await expect(decryptFrame(sealed.buffer, key.key)).rejects.toThrow();
  });

  it('is refused when its epoch or sender in the trailer was rewritten', async () => {
    const key = await sender();
    const sealed = new Uint8Array(await encryptFrame(vp8Keyframe(), key, 10));
    const epochAt = sealed.length - TRAILER_BYTES + 12;
    const relabelled = sealed.slice();
    relabelled[epochAt + 3] = 8;
    await expect(decryptFrame(relabelled.buffer, key.key)).rejects.toThrow();
    const otherLeaf = sealed.slice();
    otherLeaf[epochAt + 5] = 3;
    await expect(decryptFrame(otherLeaf.buffer, key.key)).rejects.toThrow();
  });

  it('is refused with the key of another epoch', async () => {
    const sealed = await encryptFrame(vp8Keyframe(), await sender(7, 2, 1), 10);
    const nextEpoch = await sender(8, 2, 2);
    await expect(decryptFrame(sealed, nextEpoch.key)).rejects.toThrow();
  });

  it('tells a clear frame apart from an encrypted one', () => {
    expect(readTrailer(vp8Keyframe())).toBeNull();
    expect(readTrailer(new Uint8Array([1, 2, 3]).buffer)).toBeNull();
  });

  it('encrypts a frame shorter than its clear header without failing', async () => {
    const key = await sender();
    const tiny = new Uint8Array([0x50, 0x42]).buffer;
    const sealed = await encryptFrame(tiny, key, 10);
    expect(new Uint8Array(await decryptFrame(sealed, key.key))).toEqual(new Uint8Array(tiny));
  });
});
