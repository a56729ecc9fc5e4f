/**
 * The floor of a DNS server written for Node: one UDP socket that answers every query NXDOMAIN by
 * turning the query itself into its answer (the QR and RA bits set, the response code, nothing
 * parsed, looked up, allocated or logged). No resolver running in Node answers more queries per
 * second on a core than this; bench/dns.mjs measures it in the same run as the resolvers, with
 * the blocked-names workload.
 *
 *   node bench/lib/udp-floor.mjs PORT     (listens on 127.0.0.1:PORT until stopped)
 */
import dgram from 'node:dgram';
import process from 'node:process';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node bench/lib/udp-floor.mjs PORT');
  process.exit(2);
}
const socket = dgram.createSocket('udp4');
socket.on('message', (query, from) => {
  if (query.length < 12 || (query[2] & 0x80) !== 0) return; // not a query
  query[2] |= 0x80; // QR: a response (opcode and RD kept)
  query[3] = 0x80 | 3; // RA, NXDOMAIN
  socket.send(query, from.port, from.address);
});
socket.bind(port, '127.0.0.1');
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
