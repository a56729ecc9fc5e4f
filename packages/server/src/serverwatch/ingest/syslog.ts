/**
 * The syslog receiver: UDP (RFC 5426), TCP (RFC 6587) and, given a key and certificate, TLS
 * (RFC 5425), each message delivered to the queue whole, its `<pri>` prefix intact, for the parsers
 * to read the RFC 3164 or RFC 5424 header.
 *
 * Back-pressure: when the queue is full a TCP or TLS connection stops reading (the kernel's window
 * then slows the sender) and resumes once the queue drains; nothing it sent is lost. A datagram
 * cannot be held back, so what does not fit is dropped and counted by the queue.
 *
 * @example
 *   const queue = new LineQueue({ capacity: 50_000 });
 *   const syslog = await startSyslog({ host: '0.0.0.0', port: 514 }, queue);
 *   // syslog.port, syslog.stats()
 *   await syslog.close();
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { RempartError } from '@rempart/core';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { SyslogFramer, type FramedMessage } from './framer.js';
import type { IngestItem, LineQueue } from './queue.js';

const Port = z.number().int().min(0).max(65_535);

export const SyslogOptions = z
  .object({
    /** The address to listen on (loopback unless told otherwise: a receiver is opened on purpose). */
    host: z.string().min(1).default('127.0.0.1'),
    /** UDP and TCP share this port, as syslog's 514 does; 0 picks a free one. */
    port: Port.default(514),
    udp: z.boolean().default(true),
    tcp: z.boolean().default(true),
    /** Syslog over TLS on its own port (RFC 5425 §4.1: 6514). */
    tls: z.object({ key: z.string().min(1), cert: z.string().min(1), port: Port.default(6514) }).optional(),
    /**
     * The longest message kept, in octets; longer ones are cut and counted. RFC 5425 §4.3.1: a
     * receiver SHOULD take 8192 octets, and RFC 5426 §3.2 bounds what UDP can carry anyway.
     */
    maxMessage: z.number().int().min(480).max(1_048_576).default(8192),
    /**
     * The UDP socket's kernel receive buffer, in bytes (the system's default when unset): a burst
     * beyond it is lost in the kernel before the queue can count it.
     */
    udpReceiveBuffer: z.number().int().min(4096).max(268_435_456).optional(),
    /** Connections beyond this are refused and counted. */
    maxConnections: z.number().int().min(1).max(100_000).default(1000),
    /** On close, how long connections get to finish before they are cut. */
    closeGraceMs: z.number().int().min(0).max(60_000).default(2000),
  })
  .refine((o) => o.udp || o.tcp || o.tls !== undefined, { message: 'Turn on UDP, TCP or TLS.' });
export type SyslogOptions = z.input<typeof SyslogOptions> & { log?: Logger };

type Transport = 'udp' | 'tcp' | 'tls';

export interface SyslogStats {
  /** Messages received, by transport. */
  messages: Record<Transport, number>;
  /** Messages cut at `maxMessage`. */
  truncated: number;
  /** Stream garbage skipped to the next line (a bad octet count). */
  framingErrors: number;
  connections: number;
  connectionsTotal: number;
  /** Connections refused beyond `maxConnections`. */
  connectionsRefused: number;
  /** Times a connection stopped reading because the queue was full. */
  pauses: number;
}

interface Connection {
  socket: Socket;
  framer: SyslogFramer;
  source: string;
  peer: string;
  /** Messages framed but not yet queued: at most one chunk's worth, while the socket is paused. */
  pending: IngestItem[];
  pumping: boolean;
  /** Resolves when the socket is gone: a pump waiting for room stops waiting. */
  gone: Promise<void>;
}

/** A running receiver; see `startSyslog`. */
export class SyslogReceiver {
  /** The UDP/TCP port (the one chosen when 0 was asked). */
  port = 0;
  /** The TLS port, when TLS is on. */
  tlsPort: number | undefined;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private tls: TlsServer | undefined;
  private readonly connections = new Set<Connection>();
  private closing: Promise<void> | undefined;
  private readonly counts: Omit<SyslogStats, 'connections'> = {
    messages: { udp: 0, tcp: 0, tls: 0 },
    truncated: 0,
    framingErrors: 0,
    connectionsTotal: 0,
    connectionsRefused: 0,
    pauses: 0,
  };

  private constructor(
    private readonly options: z.output<typeof SyslogOptions>,
    private readonly queue: LineQueue,
    private readonly log: Logger | undefined,
  ) {}

  /** Listens as `options` say; rejects (and leaves nothing open) when a port cannot be bound. */
  static async start(input: SyslogOptions, queue: LineQueue): Promise<SyslogReceiver> {
    const { log, ...rest } = input;
    const parsed = SyslogOptions.safeParse(rest);
    if (!parsed.success) {
      throw RempartError.validation('Invalid syslog receiver options.', { issues: parsed.error.issues });
    }
    const receiver = new SyslogReceiver(parsed.data, queue, log);
    try {
      await receiver.listen();
    } catch (error) {
      await receiver.close();
      throw error;
    }
    log?.info({ port: receiver.port, tlsPort: receiver.tlsPort }, 'syslog receiver started');
    return receiver;
  }

  // Arrow properties: `const { close, stats } = await startSyslog(…)` keeps working.
  readonly stats = (): SyslogStats => {
    let framingErrors = this.counts.framingErrors;
    for (const conn of this.connections) framingErrors += conn.framer.framingErrors;
    return {
      ...this.counts,
      messages: { ...this.counts.messages },
      framingErrors,
      connections: this.connections.size,
    };
  };

  /**
   * Stops listening, asks every connection to finish (their last messages are still queued) and
   * cuts those still open after `closeGraceMs`; messages still waiting for room then are counted
   * dropped. Idempotent.
   */
  readonly close = (): Promise<void> => {
    this.closing ??= (async () => {
      const servers = [this.tcp, this.tls].filter((s) => s !== undefined);
      const stopped = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      const udp = this.udp;
      if (udp) stopped.push(closeUdp(udp));
      const ended = [...this.connections].map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.socket.destroyed) return resolve();
            conn.socket.once('close', () => resolve());
            conn.socket.end();
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeGraceMs);
      });
      await Promise.race([Promise.all(ended), grace]);
      clearTimeout(timer);
      for (const conn of this.connections) conn.socket.destroy();
      await Promise.all(stopped);
      this.log?.info({ port: this.port }, 'syslog receiver stopped');
    })();
    return this.closing;
  };

  private async listen(): Promise<void> {
    const { host, port, udp, tcp, tls } = this.options;
    // A free port for TCP may be taken for UDP: with port 0, try a few until both are bound.
    for (let attempt = 0; ; attempt++) {
      try {
        if (tcp) {
          this.tcp = createServer((socket) => this.accept(socket, 'tcp'));
          this.port = await this.listenStream(this.tcp, host, port);
        }
        if (udp) this.port = await this.bindUdp(host, tcp ? this.port : port);
        break;
      } catch (error) {
        const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        await this.closeListeners();
        if (!(busy && port === 0 && tcp && attempt < 10)) throw error;
      }
    }
    if (tls) {
      try {
        this.tls = createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, (socket) =>
          this.accept(socket, 'tls'),
        );
      } catch (error) {
        throw RempartError.validation('The syslog TLS key or certificate cannot be used.', {
          reason: (error as Error).message,
        });
      }
      this.tlsPort = await this.listenStream(this.tls, host, tls.port);
    }
  }

  private async closeListeners(): Promise<void> {
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    if (tcp?.listening) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (udp) await closeUdp(udp);
  }

  private listenStream(server: Server, host: string, port: number): Promise<number> {
    server.maxConnections = this.options.maxConnections;
    server.on('drop', () => this.counts.connectionsRefused++);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        server.on('error', (error) => this.log?.warn({ err: error }, 'syslog listener error'));
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private bindUdp(host: string, port: number): Promise<number> {
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.udp = socket;
    socket.on('message', (msg, rinfo) => this.datagram(msg, `${rinfo.address}:${rinfo.port}`));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host, port }, () => {
        socket.off('error', reject);
        socket.on('error', (error) => this.log?.warn({ err: error }, 'syslog UDP socket error'));
        const size = this.options.udpReceiveBuffer;
        if (size !== undefined) {
          try {
            socket.setRecvBufferSize(size);
          } catch (error) {
            // The system caps it (net.core.rmem_max): a smaller buffer still works.
            this.log?.warn({ err: error, size }, 'cannot set the syslog UDP receive buffer');
          }
        }
        resolve(socket.address().port);
      });
    });
  }

  /** RFC 5426 §3.1: one datagram, one message. Trailing line ends and NULs some senders add go. */
  private datagram(msg: Buffer, peer: string): void {
    const max = this.options.maxMessage;
    let end = Math.min(msg.length, max);
    while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0x0d || msg[end - 1] === 0)) end--;
    if (end === 0) return;
    this.counts.messages.udp++;
    if (msg.length > max) this.counts.truncated++;
    const item = { line: msg.toString('utf8', 0, end), source: 'syslog-udp', receivedAt: Date.now(), peer };
    this.queue.offerOrDrop(item);
  }

  private accept(socket: Socket, transport: 'tcp' | 'tls'): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    let gone: () => void = () => undefined;
    const conn: Connection = {
      socket,
      framer: new SyslogFramer(this.options.maxMessage),
      source: `syslog-${transport}`,
      peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      pending: [],
      pumping: false,
      gone: new Promise((resolve) => (gone = resolve)),
    };
    this.connections.add(conn);
    this.counts.connectionsTotal++;
    socket.on('data', (chunk: Buffer) => this.deliver(conn, transport, conn.framer.push(chunk)));
    socket.on('end', () => this.deliver(conn, transport, conn.framer.end()));
    // A reset or a failed TLS handshake ends that connection only.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      gone();
      this.connections.delete(conn);
      this.counts.framingErrors += conn.framer.framingErrors;
      if (conn.pending.length > 0) {
        this.queue.drop(conn.source, 'closed', conn.pending.length);
        conn.pending = [];
      }
    });
  }

  private deliver(conn: Connection, transport: 'tcp' | 'tls', messages: FramedMessage[]): void {
    if (messages.length === 0) return;
    const receivedAt = Date.now();
    for (const m of messages) {
      this.counts.messages[transport]++;
      if (m.truncated) this.counts.truncated++;
      const item = { line: m.text, source: conn.source, receivedAt, peer: conn.peer };
      if (conn.pending.length > 0 || !this.queue.offer(item)) {
        if (this.queue.closed) continue; // counted dropped by the queue
        conn.pending.push(item);
      }
    }
    if (conn.pending.length > 0 && !conn.pumping) void this.pump(conn);
  }

  /** Holds the connection's reading until its pending messages are queued. */
  private async pump(conn: Connection): Promise<void> {
    conn.pumping = true;
    conn.socket.pause();
    this.counts.pauses++;
    while (conn.pending.length > 0 && !conn.socket.destroyed) {
      const need = (conn.pending[0] as IngestItem).line.length;
      await Promise.race([this.queue.whenWritable(need), conn.gone]);
      if (conn.socket.destroyed) break;
      if (this.queue.closed) {
        this.queue.drop(conn.source, 'closed', conn.pending.length);
        conn.pending = [];
        break;
      }
      let sent = 0;
      while (sent < conn.pending.length && this.queue.offer(conn.pending[sent] as IngestItem)) sent++;
      conn.pending = conn.pending.slice(sent);
    }
    conn.pumping = false;
    if (!conn.socket.destroyed) conn.socket.resume();
  }
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * Starts a syslog receiver delivering to `queue`.
 *
 * @example
 *   const { port, close, stats } = await startSyslog({ port: 0 }, queue);
 */
export function startSyslog(options: SyslogOptions, queue: LineQueue): Promise<SyslogReceiver> {
  return SyslogReceiver.start(options, queue);
}
