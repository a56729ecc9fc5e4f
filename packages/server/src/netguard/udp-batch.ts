/**
 * The resolver's UDP socket. On Linux it reads and answers queries in batches through the
 * `@rempart/udp-batch` addon (recvmmsg and sendmmsg, one JavaScript call per batch of up to 64
 * datagrams), which answers about twice as many queries per second on a core as node:dgram's one
 * system call, one JavaScript call and two objects per datagram. Where the addon is not built
 * (another system, no compiler at install), node:dgram serves, and `batched` says which one runs.
 *
 * Either way the resolver sees one call per query: `answer(query, client)` returns the answer to
 * send now, or undefined (no answer, or one given later with `send`). In a batch, `query` is a
 * view of a buffer the next batch overwrites: a caller that keeps it past the call copies it.
 *
 * @example
 *   const endpoint = await openUdp('127.0.0.1', 53, (query, client, port) => handle(query, client));
 *   endpoint.send(laterAnswer, clientPort, clientAddress);
 *   await endpoint.close();
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { isIP, SocketAddress } from 'node:net';
import process from 'node:process';
import { plainAddress } from './rate-limit.js';

/**
 * Answers one datagram: the answer to send back at once, or undefined. `client` is the sender's
 * address as the policy sees it (IPv4-mapped IPv6 written as IPv4); `port` and `address` say where a
 * later answer goes.
 */
export type UdpAnswerer = (
  query: Buffer,
  client: string,
  port: number,
  address: string,
) => Buffer | undefined;

export interface UdpEndpoint {
  readonly port: number;
  /** True when the batched addon serves, false for node:dgram. */
  readonly batched: boolean;
  /** Sends an answer given later (after an upstream exchange). */
  send(answer: Buffer, port: number, address: string): void;
  /** Answers lost by the kernel (a full send buffer, an unreachable sender). */
  sendFailures(): number;
  close(): Promise<void>;
}

interface Binding {
  open(
    host: string,
    port: number,
    recv: Buffer,
    meta: Int32Array,
    send: Buffer,
    sendMeta: Int32Array,
    onBatch: (count: number) => number,
  ): object;
  port(handle: object): number;
  sendTo(handle: object, answer: Buffer, address: string, port: number): number;
  failures(handle: object): number;
  close(handle: object, onClosed: () => void): void;
  readonly SLOTS: number;
  readonly SLOT_SIZE: number;
  readonly META_STRIDE: number;
}

/** The addon, or why it is not used. */
export const udpBatching: { binding: Binding; reason?: undefined } | { binding: undefined; reason: string } =
  load();

function load(): typeof udpBatching {
  if (process.platform !== 'linux')
    return { binding: undefined, reason: `are not built on ${process.platform}` };
  try {
    return { binding: createRequire(import.meta.url)('@rempart/udp-batch/binding') as Binding };
  } catch (error) {
    return {
      binding: undefined,
      reason: `were not built at install (${(error as Error).message.split('\n')[0]})`,
    };
  }
}

/**
 * Binds `host:port` (an IP address; port 0 picks one) and answers every datagram with `answer`,
 * in batches unless `batch` is false or the addon is not built.
 */
export function openUdp(host: string, port: number, answer: UdpAnswerer, batch = true): Promise<UdpEndpoint> {
  const binding = batch ? udpBatching.binding : undefined;
  if (binding === undefined) return openDgram(host, port, answer);
  try {
    return Promise.resolve(openBatched(binding, host, port, answer));
  } catch (error) {
    // Errors carry errno codes (EADDRINUSE…), as node:dgram's do.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function openBatched(b: Binding, host: string, port: number, answer: UdpAnswerer): UdpEndpoint {
  const recv = Buffer.alloc(b.SLOTS * b.SLOT_SIZE);
  const meta = new Int32Array(b.SLOTS * b.META_STRIDE);
  const metaBytes = new Uint8Array(meta.buffer);
  const send = Buffer.alloc(b.SLOTS * b.SLOT_SIZE);
  const sendMeta = new Int32Array(b.SLOTS * 3);
  const names = new SenderNames();
  let closing: Promise<void> | undefined;
  /** Read when closing: the handle is freed once closed. */
  let failuresAtClose = 0;
  const onBatch = (count: number): number => {
    let answers = 0;
    for (let slot = 0; slot < count; slot++) {
      const m = slot * b.META_STRIDE;
      const length = meta[m]!;
      const senderPort = meta[m + 1]!;
      if (senderPort === 0) continue; // no answer can reach port 0
      const from = m * 4 + 12;
      const address = meta[m + 2] === 4 ? names.v4(metaBytes, from) : names.v6(metaBytes, from);
      const start = slot * b.SLOT_SIZE;
      // A datagram larger than a slot is no query a client sends: it is read as an empty message.
      const query = recv.subarray(start, length < 0 ? start : start + length);
      let response: Buffer | undefined;
      try {
        response = answer(query, address, senderPort, address);
      } catch {
        response = undefined; // `answer` counts and reports its own failures
      }
      // (Answers of a batch during which the socket was closed are not sent: the addon checks.)
      if (response === undefined) continue;
      // maxUdpPayload (at most 4,096 bytes) keeps every UDP answer within a slot.
      response.copy(send, start);
      sendMeta[answers * 3] = slot;
      sendMeta[answers * 3 + 1] = start;
      sendMeta[answers * 3 + 2] = response.length;
      answers++;
    }
    return answers;
  };
  const handle = b.open(host, port, recv, meta, send, sendMeta, onBatch);
  return {
    port: b.port(handle),
    batched: true,
    send: (answer, toPort, toAddress) => {
      if (closing === undefined) b.sendTo(handle, answer, toAddress, toPort);
    },
    sendFailures: () => (closing === undefined ? b.failures(handle) : failuresAtClose),
    close: () => {
      if (closing === undefined) {
        failuresAtClose = b.failures(handle);
        closing = new Promise<void>((resolve) => b.close(handle, resolve));
      }
      return closing;
    },
  };
}

/** Senders' addresses as text, remembered: a resolver hears from the same clients again and again. */
class SenderNames {
  private readonly seen4 = new Map<number, string>();
  private readonly seen6 = new Map<string, string>();

  v4(bytes: Uint8Array, at: number): string {
    const key = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    let text = this.seen4.get(key);
    if (text === undefined) {
      text = `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
      if (this.seen4.size >= 65_536) this.seen4.clear();
      this.seen4.set(key, text);
    }
    return text;
  }

  v6(bytes: Uint8Array, at: number): string {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[at + i]! << 8) | bytes[at + i + 1]!).toString(16));
    const full = groups.join(':');
    let text = this.seen6.get(full);
    if (text === undefined) {
      // The canonical text form (RFC 5952), as node:dgram gives it.
      text = new SocketAddress({ address: full, family: 'ipv6' }).address;
      if (this.seen6.size >= 65_536) this.seen6.clear();
      this.seen6.set(full, text);
    }
    return text;
  }
}

function openDgram(host: string, port: number, answer: UdpAnswerer): Promise<UdpEndpoint> {
  const socket = dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  let failures = 0;
  let closing: Promise<void> | undefined;
  const reply = (response: Buffer, toPort: number, toAddress: string) => {
    if (closing === undefined)
      socket.send(response, toPort, toAddress, (error) => {
        if (error) failures++;
      });
  };
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      socket.on('error', () => failures++);
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port === 0) return; // no answer can reach port 0
        const client = rinfo.family === 'IPv6' ? plainAddress(rinfo.address) : rinfo.address;
        let response: Buffer | undefined;
        try {
          response = answer(msg, client, rinfo.port, rinfo.address);
        } catch {
          return; // as in a batch
        }
        if (response !== undefined) reply(response, rinfo.port, rinfo.address);
      });
      try {
        // Bursts of queries wait in the kernel while a batch is answered (the kernel caps it).
        socket.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // the default size serves too
      }
      resolve({
        port: socket.address().port,
        batched: false,
        send: reply,
        sendFailures: () => failures,
        close: () => (closing ??= new Promise<void>((done) => socket.close(() => done()))),
      });
    });
  });
}
