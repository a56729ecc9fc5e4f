/**
 * One DNS question over UDP and its answer, read just enough for the benchmark's checks: the
 * response code and the addresses of A and AAAA answers (RFC 1035 §4.1). Not a resolver: no
 * retries, no TCP fallback, no validation beyond the ID.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';

const TYPES = { A: 1, AAAA: 28 };
export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** A query for `name` and `type` with the RD bit set (RFC 1035 §4.1.1). */
export function encodeQuery(id, name, type = 'A') {
  const labels = name.split('.').filter(Boolean);
  const question = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0, 0, TYPES[type], 0, 1]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, question]);
}

/** Skips a possibly compressed name (RFC 1035 §4.1.4) and returns the offset after it. */
function skipName(msg, at) {
  while (at < msg.length) {
    const length = msg[at];
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    at += length + 1;
  }
  throw new Error('truncated name');
}

/** The response code, and the A and AAAA addresses of the answer section. */
export function decodeResponse(msg) {
  const id = msg.readUInt16BE(0);
  const rcode = msg[3] & 0x0f;
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  let at = 12;
  for (let i = 0; i < qdcount; i++) at = skipName(msg, at) + 4;
  const addresses = [];
  for (let i = 0; i < ancount; i++) {
    at = skipName(msg, at);
    const type = msg.readUInt16BE(at);
    const length = msg.readUInt16BE(at + 8);
    const rdata = msg.subarray(at + 10, at + 10 + length);
    if (type === 1 && length === 4) addresses.push([...rdata].join('.'));
    if (type === 28 && length === 16) addresses.push(rdata.toString('hex').replace(/(.{4})(?!$)/g, '$1:'));
    at += 10 + length;
  }
  return { id, rcode: RCODES[rcode] ?? `RCODE${rcode}`, addresses };
}

/**
 * Asks `name` of the server on 127.0.0.1:`port`; resolves to `{ rcode, addresses }`, or to
 * undefined when no answer came within `timeoutMs` (or the port is closed).
 */
export function ask({ port, name, type = 'A', timeoutMs = 500, host = '127.0.0.1' }) {
  const id = randomInt(0x10000);
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const done = (result) => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('message', (msg) => {
      try {
        const response = decodeResponse(msg);
        if (response.id === id) done(response);
      } catch {
        // Unreadable: keep waiting for the real answer until the timeout.
      }
    });
    socket.send(encodeQuery(id, name, type), port, host);
  });
}
