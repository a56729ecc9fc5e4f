import { sql } from 'drizzle-orm';
import { openDatabase } from '../../db/client.js';
import { WatchRepository } from './watch.repository.js';
import { parseSearch } from './search.js';
const withBtree = process.env.BTREE === '1';
const database = await openDatabase({ kind: 'pglite', dataDir: undefined });
if (withBtree) await database.db.execute(sql`create index watch_events_at_id_idx on watch_events (at, id)`);
const repo = new WatchRepository(database.db, database.copyRows);
const N = 200_000;
const t0 = Date.now();
for (let b = 0; b < N; b += 5000) {
  const inputs = Array.from({ length: 5000 }, (_, j) => {
    const i = b + j;
    return {
      event: { time: 1796266606985 + i * 100, logsource: { product: 'linux', service: 'dovecot' }, fields: { user: `u${i % 5000}`, action: 'login', outcome: i % 3 ? 'success' : 'failure', src_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, raw: `Dec  3 05:20:21 mx1 dovecot: imap-login: Login: user=<u${i % 5000}>, method=PLAIN, rip=10.0.0.1 line ${i}`, parsed: true, source: 'syslog-udp' },
      format: 'dovecot' as const,
      receivedAt: 1796266606985,
    };
  });
  await repo.appendEvents(inputs);
}
const t1 = Date.now();
await database.db.execute(sql`analyze watch_events`);
const time = async (q: string) => {
  const s = Date.now();
  await repo.search({ query: parseSearch(q), limit: 100 });
  return Date.now() - s;
};
console.log(`btree=${withBtree} append ${N} in ${t1 - t0} ms; latest page '' ${await time('')} ms; 'outcome:failure' ${await time('outcome:failure')} ms; 'imap-login' ${await time('imap-login')} ms; user:u42 ${await time('user:u42')} ms`);
await database.close();
