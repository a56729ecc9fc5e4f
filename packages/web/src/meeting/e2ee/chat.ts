/**
 * End-to-end encrypted chat: each message is sealed in the sender's browser with the sender's
 * chat key of the current MLS epoch (`chatKeyFor`, an exporter secret of its own label, so a
 * chat key is never a media key) and opened in each receiver's browser. The server relays and
 * keeps the sealed blob only.
 *
 * - AES-128-GCM with a random 96-bit IV per message (NIST SP 800-38D §8.2.2).
 * - The additional authenticated data binds the meeting id, the sender's participant id (as
 *   the server names them on the relayed message), the epoch and the leaf: a blob replayed in
 *   another meeting, or under another sender's name, or relabelled to another epoch or leaf,
 *   does not open.
 * - A receiver keeps the keys of a few recent epochs (`KEPT_CHAT_EPOCHS`) for messages still
 *   in flight when the epoch moves on. A newcomer never held the keys of the epochs before the
 *   one that added them, so the history the server hands them stays sealed ("sent before you
 *   joined"); a removed member holds none of the epochs after their removal.
 */
import type { SealedChat } from '@rempart/core';
import { IV_BYTES } from './frame';
import { fromBase64, toBase64, type EpochKeys } from './group';

/** Epochs whose chat keys a receiver keeps, the current one included. */
export const KEPT_CHAT_EPOCHS = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Who sealed a message, and where: everything the additional authenticated data binds. */
export interface ChatContext {
  meetingId: string;
  /** The sender's participant id. */
  from: string;
  epoch: number;
  leaf: number;
}

/** Length-prefixed fields, so that no two different contexts give the same bytes. */
export function chatAad(context: ChatContext): Uint8Array {
  const fields = [
    encoder.encode('rempart chat v1'),
    encoder.encode(context.meetingId),
    encoder.encode(context.from),
  ];
  const size = fields.reduce((sum, f) => sum + 2 + f.length, 0) + 4 + 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const field of fields) {
    view.setUint16(at, field.length);
    out.set(field, at + 2);
    at += 2 + field.length;
  }
  view.setUint32(at, context.epoch);
  view.setUint16(at + 4, context.leaf);
  return out;
}

/** Imports a raw 16-byte chat key for AES-128-GCM, usable for nothing else and not extractable. */
export function importChatKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/** Seals one chat message with the sender's chat key of `context.epoch`. */
export async function sealChat(text: string, key: CryptoKey, context: ChatContext): Promise<SealedChat> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: chatAad(context) as BufferSource },
      key,
      encoder.encode(text),
    ),
  );
  const data = new Uint8Array(IV_BYTES + sealed.length);
  data.set(iv, 0);
  data.set(sealed, IV_BYTES);
  return { epoch: context.epoch, leaf: context.leaf, data: toBase64(data) };
}

/** Opens a sealed message; rejects when the key is wrong or anything bound to it was changed. */
export async function openChat(
  sealed: SealedChat,
  key: CryptoKey,
  context: { meetingId: string; from: string },
): Promise<string> {
  const data = fromBase64(sealed.data);
  const plain = await crypto.subtle.decrypt(
    {
      name: 'AES-GCM',
      iv: data.subarray(0, IV_BYTES) as BufferSource,
      additionalData: chatAad({ ...context, epoch: sealed.epoch, leaf: sealed.leaf }) as BufferSource,
    },
    key,
    data.subarray(IV_BYTES) as BufferSource,
  );
  return decoder.decode(plain);
}

/** What a receiver makes of a sealed message. */
export type OpenedChat =
  | { kind: 'text'; text: string }
  /** Sealed under an epoch this participant never held: sent before they joined. */
  | { kind: 'before-join' }
  /** Its epoch's keys were held once but are gone, or it does not open: shown as sealed. */
  | { kind: 'unreadable' };

interface EpochChatKeys {
  leaves: Map<number, { participantId: string; key: CryptoKey }>;
}

/**
 * The chat keys of the last few epochs this participant held, and its own sealing key.
 * `firstEpoch` is the epoch in which this participant came in: anything older was never theirs.
 */
export class ChatKeyring {
  private readonly epochs = new Map<number, EpochChatKeys>();
  private firstEpoch: number | undefined;
  private current: { epoch: number; leaf: number; key: CryptoKey } | undefined;

  constructor(private readonly meetingId: string) {}

  async install(keys: EpochKeys): Promise<void> {
    const leaves = new Map<number, { participantId: string; key: CryptoKey }>();
    for (const [leaf, raw] of keys.chatKeys) {
      const participantId = keys.members.get(leaf);
      if (participantId !== undefined) leaves.set(leaf, { participantId, key: await importChatKey(raw) });
    }
    this.epochs.set(keys.epoch, { leaves });
    for (const old of [...this.epochs.keys()].sort((a, b) => b - a).slice(KEPT_CHAT_EPOCHS))
      this.epochs.delete(old);
    if (this.firstEpoch === undefined || keys.epoch < this.firstEpoch) this.firstEpoch = keys.epoch;
    const own = leaves.get(keys.ownLeaf);
    if (own && (!this.current || keys.epoch >= this.current.epoch))
      this.current = { epoch: keys.epoch, leaf: keys.ownLeaf, key: own.key };
  }

  /** True once this participant can seal: it holds a current epoch's key. */
  get ready(): boolean {
    return this.current !== undefined;
  }

  /** Seals with the newest epoch held; undefined before any. */
  async seal(text: string, selfId: string): Promise<SealedChat | undefined> {
    const current = this.current;
    if (!current) return undefined;
    return sealChat(text, current.key, {
      meetingId: this.meetingId,
      from: selfId,
      epoch: current.epoch,
      leaf: current.leaf,
    });
  }

  /**
   * Opens a message the server relayed as sent by `from`. The leaf must be `from`'s in that
   * epoch's group: a server that relabels a message as someone else's gets it refused.
   */
  async open(sealed: SealedChat, from: string): Promise<OpenedChat> {
    if (this.firstEpoch === undefined || sealed.epoch < this.firstEpoch) return { kind: 'before-join' };
    const sender = this.epochs.get(sealed.epoch)?.leaves.get(sealed.leaf);
    if (!sender || sender.participantId !== from) return { kind: 'unreadable' };
    try {
      return { kind: 'text', text: await openChat(sealed, sender.key, { meetingId: this.meetingId, from }) };
    } catch {
      return { kind: 'unreadable' };
    }
  }

  close(): void {
    this.epochs.clear();
    this.current = undefined;
  }
}
