/**
 * The floor of a DNS server in Node: a UDP socket that answers every query NXDOMAIN by turning the
 * query itself into its answer (the QR and RA bits set, the response code; nothing parsed, looked
 * up or logged). It reads and answers through the resolver's own UDP transport
 * (packages/server/src/netguard/udp-batch.ts): `batched` (the default, recvmmsg/sendmmsg through
 * the addon) or `dgram` (node:dgram, one system call and one JavaScript call per datagram). No
 * resolver on the same transport answers more queries per second on a core; bench/dns.mjs measures
 * both in the same run as the resolvers, with the blocked-names workload.
 *
 *   node bench/lib/udp-floor.mjs PORT [batched|dgram]     (listens on 127.0.0.1:PORT until stopped)
 */
import process from 'node:process';
import { openUdp } from '../../packages/server/dist/netguard/udp-batch.js';

const port = Number(process.argv[2]);
const transport = process.argv[3] ?? 'batched';
if (!Number.isInteger(port) || port < 1 || port > 65535 || !['batched', 'dgram'].includes(transport)) {
  console.error('usage: node bench/lib/udp-floor.mjs PORT [batched|dgram]');
  process.exit(2);
}
const endpoint = await openUdp(
  '127.0.0.1',
  port,
  (query) => {
    if (query.length < 12 || (query[2] & 0x80) !== 0) return undefined; // not a query
    query[2] |= 0x80; // QR: a response (opcode and RD kept)
    query[3] = 0x80 | 3; // RA, NXDOMAIN
    return query;
  },
  transport === 'batched',
);
if (transport === 'batched' && !endpoint.batched) {
  console.error('udp-floor: the batched transport is not built (packages/udp-batch)');
  process.exit(1);
}
process.on('SIGTERM', () => void endpoint.close().then(() => process.exit(0)));
