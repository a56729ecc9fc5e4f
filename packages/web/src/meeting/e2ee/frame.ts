/**
 * The encrypted media frame: what the browser's encoded transform makes of every audio and
 * video frame before it is packetised, and undoes after the receiver has reassembled it.
 *
 *   | clear header | AES-GCM ciphertext + 16-byte tag | IV (12) | epoch (4) | leaf (2) | clear (1) | magic (1) |
 *
 * - The clear header is the part of the codec payload that the packetiser and the receiver's
 *   depacketiser read: VP8's payload header (RFC 6386 §9.1: 3 bytes, plus 7 more on a keyframe
 *   for the start code and the dimensions) and Opus's TOC byte (RFC 6716 §3.1). The rest is
 *   ciphertext; the SFU forwards it untouched and could not read it.
 * - `epoch` is the MLS epoch whose key encrypted the frame and `leaf` the sender's MLS leaf
 *   index: together they pick the sender's key for that epoch (see `mediaKeyFor`).
 * - The clear header and the whole trailer but the IV are the additional authenticated data
 *   (NIST SP 800-38D): a changed header, epoch or leaf makes the frame fail, never decode wrong.
 * - IVs are random (96 bits per frame); keys change with every epoch, long before the
 *   2^32-invocation bound of SP 800-38D §8.3 could matter.
 */

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** IV, epoch, leaf, clear-header length, magic. */
export const TRAILER_BYTES = IV_BYTES + 4 + 2 + 1 + 1;
/** Marks a frame in this format (version 1), so that a clear frame is told apart at once. */
export const FRAME_MAGIC = 0xe1;
export const MAX_CLEAR_BYTES = 10;

export type FrameKind = 'audio' | 'video';

/** How many leading bytes stay in clear for the packetiser (VP8 keyframe 10, delta 3; Opus 1). */
export function clearBytes(kind: FrameKind, keyframe: boolean): number {
  if (kind === 'audio') return 1;
  return keyframe ? 10 : 3;
}

export interface SenderKey {
  epoch: number;
  leaf: number;
  key: CryptoKey;
}

export interface FrameTrailer {
  epoch: number;
  leaf: number;
  clear: number;
}

/** Imports a raw 16-byte media key for AES-128-GCM, usable for nothing else and not extractable. */
export function importMediaKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/** Encrypts one encoded frame; `clear` leading bytes stay readable (fewer when the frame is shorter). */
export async function encryptFrame(
  frame: ArrayBuffer,
  sender: SenderKey,
  clear: number,
  iv: Uint8Array = crypto.getRandomValues(new Uint8Array(IV_BYTES)),
): Promise<ArrayBuffer> {
  const data = new Uint8Array(frame);
  const keep = Math.min(clear, data.length, MAX_CLEAR_BYTES);
  const trailer = new Uint8Array(TRAILER_BYTES);
  trailer.set(iv, 0);
  const view = new DataView(trailer.buffer);
  view.setUint32(IV_BYTES, sender.epoch);
  view.setUint16(IV_BYTES + 4, sender.leaf);
  trailer[IV_BYTES + 6] = keep;
  trailer[IV_BYTES + 7] = FRAME_MAGIC;
  const header = data.subarray(0, keep);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad(header, trailer) as BufferSource },
      sender.key,
      data.subarray(keep),
    ),
  );
  const out = new Uint8Array(keep + sealed.length + TRAILER_BYTES);
  out.set(header, 0);
  out.set(sealed, keep);
  out.set(trailer, keep + sealed.length);
  return out.buffer;
}

/** Reads the trailer of an encrypted frame; null when the frame is not in this format. */
export function readTrailer(frame: ArrayBuffer): FrameTrailer | null {
  const data = new Uint8Array(frame);
  if (data.length < TRAILER_BYTES + TAG_BYTES) return null;
  const trailer = data.subarray(data.length - TRAILER_BYTES);
  if (trailer[IV_BYTES + 7] !== FRAME_MAGIC) return null;
  const clear = trailer[IV_BYTES + 6] ?? 0xff;
  if (clear > MAX_CLEAR_BYTES || data.length < clear + TAG_BYTES + TRAILER_BYTES) return null;
  const view = new DataView(trailer.buffer, trailer.byteOffset, TRAILER_BYTES);
  return { epoch: view.getUint32(IV_BYTES), leaf: view.getUint16(IV_BYTES + 4), clear };
}

/** Decrypts one frame with its sender's key; rejects when anything was changed or the key is wrong. */
export async function decryptFrame(frame: ArrayBuffer, key: CryptoKey): Promise<ArrayBuffer> {
  const trailerInfo = readTrailer(frame);
  if (!trailerInfo) throw new Error('not an encrypted frame');
  const data = new Uint8Array(frame);
  const { clear } = trailerInfo;
  const trailer = data.subarray(data.length - TRAILER_BYTES);
  const header = data.subarray(0, clear);
  const plain = new Uint8Array(
    await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: trailer.slice(0, IV_BYTES) as BufferSource,
        additionalData: aad(header, trailer) as BufferSource,
      },
      key,
      data.subarray(clear, data.length - TRAILER_BYTES),
    ),
  );
  const out = new Uint8Array(clear + plain.length);
  out.set(header, 0);
  out.set(plain, clear);
  return out.buffer;
}

function aad(header: Uint8Array, trailer: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + TRAILER_BYTES - IV_BYTES);
  out.set(header, 0);
  out.set(trailer.subarray(IV_BYTES), header.length);
  return out;
}
