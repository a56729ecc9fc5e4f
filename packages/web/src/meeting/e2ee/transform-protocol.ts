/** Messages between the page and the encoded-transform worker. */
import type { FrameKind } from './frame';

export interface TransformOptions {
  side: 'send' | 'receive';
  kind: FrameKind;
}

/** The media keys of one epoch: one per member's MLS leaf, raw bytes, imported in the worker. */
export interface FrameKeysMessage {
  epoch: number;
  ownLeaf: number;
  keys: [number, Uint8Array][];
}

/** Frame counters since the worker started. */
export interface FrameStats {
  encrypted: number;
  decrypted: number;
  /** Received frames that were not in the format or did not authenticate: dropped. */
  failed: number;
  /** Received frames of an epoch or sender without a key (yet): dropped. */
  noKey: number;
  /** Own frames dropped because no key was agreed yet. */
  unsent: number;
}
