#!/usr/bin/env node
/**
 * The upstream of the DNS benchmark: a small authoritative server on 127.0.0.1 (UDP) that
 * answers every name under one test zone with one A record, as fast as Node's dgram can.
 * It decodes nothing but the question's end: the answer is the query's own header and
 * question with flags patched, followed by a prebuilt record that points at the question's
 * name (RFC 1035 §4.1.4 compression), so the three resolvers measured never wait on it.
 *
 * Run as a child with an IPC channel: `node dns-upstream.mjs ZONE`. It sends
 * `{ ready: port }` once bound, answers `'stats'` with `{ stats: { queries, answered } }`,
 * and stops when the channel closes (its parent gone) or on SIGTERM.
 *
 * Answers: an A query under the zone gets 192.0.2.1 with a one-hour TTL (so that cached
 * answers stay fresh for the whole benchmark); other types under the zone get NODATA with the
 * zone's SOA (RFC 2308 §2.2); names outside the zone get REFUSED; anything unreadable is dropped.
 * A query's EDNS OPT record (RFC 6891 §6.1.1) gets one back advertising 1232 bytes.
 */
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import process from 'node:process';

const zone = (process.argv[2] ?? 'rempart-bench.test').toLowerCase();
const TTL = 3600;

/** A name in wire format (RFC 1035 §3.1). */
function wireName(name) {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])),
    Buffer.from([0]),
  ]);
}

const zoneWire = wireName(zone);
const ANSWER_A = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, ...u32(TTL), 0, 4, 192, 0, 2, 1]);
const SOA = Buffer.concat([
  zoneWire,
  Buffer.from([0, 6, 0, 1, ...u32(60)]),
  (() => {
    const rdata = Buffer.concat([
      wireName(`ns.${zone}`),
      wireName(`hostmaster.${zone}`),
      Buffer.from([...u32(1), ...u32(3600), ...u32(600), ...u32(86_400), ...u32(60)]),
    ]);
    return Buffer.concat([Buffer.from([rdata.length >> 8, rdata.length & 0xff]), rdata]);
  })(),
]);
const OPT = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);

function u32(n) {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** Whether the name at `start` (uncompressed, as a question's is) ends with the zone, ignoring case. */
function inZone(msg, start, nameEnd) {
  const length = nameEnd - start;
  if (length < zoneWire.length) return false;
  const from = nameEnd - zoneWire.length;
  // The zone's labels must start on a label boundary of the name.
  let at = start;
  while (at < from) at += msg[at] + 1;
  if (at !== from) return false;
  for (let i = 0; i < zoneWire.length; i++) {
    const a = msg[from + i];
    const b = zoneWire[i];
    if (a !== b && (a | 0x20) !== b) return false;
  }
  return true;
}

let queries = 0;
let answered = 0;
const socket = dgram.createSocket('udp4');

socket.on('message', (msg, rinfo) => {
  queries++;
  if (msg.length < 17 || msg[2] & 0x80 || msg.readUInt16BE(4) !== 1) return;
  let end = 12;
  while (end < msg.length && msg[end] !== 0) {
    if (msg[end] & 0xc0) return;
    end += msg[end] + 1;
  }
  const nameEnd = end + 1;
  const questionEnd = nameEnd + 4;
  if (questionEnd > msg.length) return;
  const qtype = msg.readUInt16BE(nameEnd);
  const hasOpt =
    msg.readUInt16BE(10) > 0 &&
    msg.length >= questionEnd + 11 &&
    msg[questionEnd] === 0 &&
    msg.readUInt16BE(questionEnd + 1) === 41;
  const ours = inZone(msg, 12, nameEnd);
  const body = !ours ? undefined : qtype === 1 ? ANSWER_A : SOA;
  const parts = [msg.subarray(0, questionEnd)];
  if (body) parts.push(body);
  if (hasOpt) parts.push(OPT);
  const response = Buffer.concat(parts);
  // QR, the query's opcode and RD, AA when ours; RA clear; NOERROR, or REFUSED (5) outside the zone.
  response[2] = 0x80 | (msg[2] & 0x79) | (ours ? 0x04 : 0);
  response[3] = ours ? 0 : 5;
  response.writeUInt16BE(ours && qtype === 1 ? 1 : 0, 6);
  response.writeUInt16BE(ours && qtype !== 1 ? 1 : 0, 8);
  response.writeUInt16BE(hasOpt ? 1 : 0, 10);
  answered++;
  socket.send(response, rinfo.port, rinfo.address);
});

socket.bind(0, '127.0.0.1', () => {
  try {
    socket.setRecvBufferSize(8 * 1024 * 1024);
    socket.setSendBufferSize(8 * 1024 * 1024);
  } catch {
    // the default sizes serve too
  }
  process.send?.({ ready: socket.address().port });
});

process.on('message', (message) => {
  if (message === 'stats') process.send?.({ stats: { queries, answered } });
});
process.on('disconnect', () => socket.close());
process.on('SIGTERM', () => {
  socket.close();
  process.disconnect?.();
});
