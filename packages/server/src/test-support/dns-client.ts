/**
 * A DNS client for tests: real queries over UDP and TCP (RFC 7766 framing) to a resolver on
 * 127.0.0.1, decoded with dns-packet.
 */
import dgram from 'node:dgram';
import { Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { expect } from 'vitest';

export type Decoded = dnsPacket.DecodedPacket & { rcode: string };

export function encodeQuery(
  name: string,
  type: dnsPacket.RecordType = 'A',
  options: { id?: number; edns?: number } = {},
): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: options.id ?? Math.floor(Math.random() * 65_536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals:
      options.edns === undefined
        ? []
        : [{ type: 'OPT', name: '.', udpPayloadSize: options.edns, flags: 0 } as dnsPacket.Answer],
  });
}

/** Sends one datagram from a fresh socket; the first datagram back, or undefined after `timeoutMs`. */
export async function udpExchange(
  port: number,
  message: Buffer,
  options: { timeoutMs?: number; from?: string } = {},
): Promise<Buffer | undefined> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, options.from ?? '127.0.0.1', resolve));
  try {
    return await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), options.timeoutMs ?? 3000);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

export async function ask(
  port: number,
  name: string,
  type: dnsPacket.RecordType = 'A',
  edns?: number,
): Promise<Decoded> {
  const id = Math.floor(Math.random() * 65_536);
  const answer = await udpExchange(port, encodeQuery(name, type, { id, ...(edns ? { edns } : {}) }));
  if (!answer) throw new Error(`no answer for ${name} ${type}`);
  const decoded = dnsPacket.decode(answer) as Decoded;
  expect(decoded.id).toBe(id);
  return decoded;
}

/** A TCP client speaking RFC 7766 framing. */
export class TcpClient {
  private buffered = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private readonly waiting: ((msg: Buffer) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 2 && this.buffered.length >= 2 + this.buffered.readUInt16BE(0)) {
        const msg = this.buffered.subarray(2, 2 + this.buffered.readUInt16BE(0));
        this.buffered = this.buffered.subarray(2 + msg.length);
        const waiter = this.waiting.shift();
        if (waiter) waiter(msg);
        else this.messages.push(msg);
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Connects to 127.0.0.1:`port`; `track` receives the client so the test can close it. */
  static async connect(port: number, track?: (client: TcpClient) => void): Promise<TcpClient> {
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    const client = new TcpClient(socket);
    track?.(client);
    return client;
  }

  /** Writes the messages framed, all in one write: pipelined. */
  send(...messages: Buffer[]): void {
    this.socket.write(
      Buffer.concat(
        messages.flatMap((m) => {
          const length = Buffer.alloc(2);
          length.writeUInt16BE(m.length);
          return [length, m];
        }),
      ),
    );
  }

  next(timeoutMs = 3000): Promise<Decoded> {
    const ready = this.messages.shift();
    if (ready) return Promise.resolve(dnsPacket.decode(ready) as Decoded);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no TCP answer')), timeoutMs);
      this.waiting.push((msg) => {
        clearTimeout(timer);
        resolve(dnsPacket.decode(msg) as Decoded);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The addresses of an answer's records. */
export const addresses = (m: Decoded): string[] =>
  (m.answers ?? []).map((a) => (a as dnsPacket.StringAnswer).data);
