/**
 * The sign-in benchmark's peer: the cost floor of a sign-in, i.e. argon2id verifies of a hash
 * Rempart made, with nothing around them (no HTTP, database, TOTP or session). signin.mjs runs
 * it on the server's core with UV_THREADPOOL_SIZE=1, at the same concurrency and for the same
 * time as the sign-in load, and reads the one JSON line it prints.
 *
 * Usage (internal): BENCH_ARGON2_HASH=… BENCH_ARGON2_PASSWORD=… \
 *   node bench/lib/argon2-floor.mjs --concurrency 8 --warmup 2 --seconds 10
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { verify } from '@node-rs/argon2';
import { latencySummary } from './stats.mjs';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string' },
    warmup: { type: 'string' },
    seconds: { type: 'string' },
  },
  strict: true,
});
const concurrency = Number(values.concurrency);
const warmupMs = Number(values.warmup) * 1000;
const measureMs = Number(values.seconds) * 1000;
const hash = process.env.BENCH_ARGON2_HASH ?? '';
const password = process.env.BENCH_ARGON2_PASSWORD ?? '';
if (!(concurrency > 0 && warmupMs >= 0 && measureMs > 0 && hash && password)) {
  console.error(
    'argon2-floor: needs --concurrency, --warmup, --seconds, BENCH_ARGON2_HASH, BENCH_ARGON2_PASSWORD',
  );
  process.exit(2);
}

const startedAt = performance.now();
const measureFrom = startedAt + warmupMs;
const endAt = measureFrom + measureMs;
const latencies = [];
let failures = 0;

// Same shape as the sign-in load: each worker starts its next verify as soon as one ends,
// and only verifies that finish inside the measured window count.
const worker = async () => {
  while (performance.now() < endAt) {
    const began = performance.now();
    const ok = await verify(hash, password);
    const ended = performance.now();
    if (!ok) failures++;
    else if (ended >= measureFrom && ended <= endAt) latencies.push(ended - began);
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));

process.stdout.write(
  `${JSON.stringify({
    verifies: latencies.length,
    seconds: measureMs / 1000,
    perSecond: latencies.length / (measureMs / 1000),
    failures,
    latency: latencySummary(latencies),
  })}\n`,
);
