/**
 * The encoded-transform worker (WebRTC Encoded Transform, `RTCRtpScriptTransform`): every
 * outgoing audio and video frame is encrypted here, every incoming one decrypted, off the main
 * thread. Keys arrive from the page (`FrameKeysMessage`), imported as non-extractable keys.
 * A frame is never sent in clear: without a key, it is dropped. A received frame that does not
 * decrypt is dropped and counted, never handed to the decoder.
 */
import {
  clearBytes,
  decryptFrame,
  encryptFrame,
  importMediaKey,
  readTrailer,
  type FrameKind,
  type SenderKey,
} from './frame';
import type { FrameKeysMessage, FrameStats, TransformOptions } from './transform-protocol';

interface EncodedFrame {
  data: ArrayBuffer;
  type?: string;
}

interface ScriptTransformer {
  readonly options: TransformOptions;
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
}

interface WorkerScope {
  onrtctransform: ((event: { transformer: ScriptTransformer }) => void) | null;
  onmessage: ((event: MessageEvent<FrameKeysMessage>) => void) | null;
  postMessage(message: FrameStats): void;
}

/** Epochs kept for frames still in flight when the next epoch starts. */
const KEPT_EPOCHS = 3;
const STATS_INTERVAL_MS = 2000;

const scope = globalThis as unknown as WorkerScope;
let sending: SenderKey | undefined;
const receiving = new Map<number, Map<number, CryptoKey>>();
const stats: FrameStats = { encrypted: 0, decrypted: 0, failed: 0, noKey: 0, unsent: 0 };
let reported = '';

scope.onmessage = (event) => {
  void installKeys(event.data);
};

async function installKeys(message: FrameKeysMessage): Promise<void> {
  const keys = new Map<number, CryptoKey>();
  for (const [leaf, raw] of message.keys) keys.set(leaf, await importMediaKey(raw));
  receiving.set(message.epoch, keys);
  for (const epoch of [...receiving.keys()].sort((a, b) => b - a).slice(KEPT_EPOCHS)) receiving.delete(epoch);
  const own = keys.get(message.ownLeaf);
  if (own && (!sending || message.epoch >= sending.epoch))
    sending = { epoch: message.epoch, leaf: message.ownLeaf, key: own };
}

scope.onrtctransform = (event) => {
  const { readable, writable, options } = event.transformer;
  const transform =
    options.side === 'send'
      ? new TransformStream<EncodedFrame, EncodedFrame>({
          transform: (frame, c) => encrypt(frame, options.kind, c),
        })
      : new TransformStream<EncodedFrame, EncodedFrame>({ transform: (frame, c) => decrypt(frame, c) });
  void readable
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch(() => undefined);
};

async function encrypt(
  frame: EncodedFrame,
  kind: FrameKind,
  controller: TransformStreamDefaultController<EncodedFrame>,
): Promise<void> {
  const key = sending;
  if (!key) {
    stats.unsent++;
    return;
  }
  frame.data = await encryptFrame(frame.data, key, clearBytes(kind, frame.type === 'key'));
  stats.encrypted++;
  controller.enqueue(frame);
}

async function decrypt(
  frame: EncodedFrame,
  controller: TransformStreamDefaultController<EncodedFrame>,
): Promise<void> {
  const trailer = readTrailer(frame.data);
  if (!trailer) {
    stats.failed++;
    return;
  }
  const key = receiving.get(trailer.epoch)?.get(trailer.leaf);
  if (!key) {
    stats.noKey++;
    return;
  }
  try {
    frame.data = await decryptFrame(frame.data, key);
  } catch {
    stats.failed++;
    return;
  }
  stats.decrypted++;
  controller.enqueue(frame);
}

setInterval(() => {
  const now = JSON.stringify(stats);
  if (now === reported) return;
  reported = now;
  scope.postMessage({ ...stats });
}, STATS_INTERVAL_MS);
