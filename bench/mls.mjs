#!/usr/bin/env node
/**
 * Key agreement of end-to-end encrypted meetings as the group grows: MLS (RFC 9420, ts-mls, the
 * meeting client's ciphersuite and options) from 2 to N members, one member added per commit as
 * when people join one after the other, then removals one at a time and one batch, as when a
 * host removes people or they leave. For each membership change it prints the handshake bytes
 * (commit, Welcome, KeyPackage), the committer's time to create the commit, a member's time to
 * process it and the newcomer's time to join from the Welcome.
 *
 * Peer, same run: the flat rekey that MLS replaces, where the committer seals a fresh group key
 * to every other member with HPKE (RFC 9180, same KEM and AEAD): O(N) bytes and work per change
 * against MLS's O(log N) path for a removal. Beside it, derived from the flat rekey's bytes, the
 * pairwise rekey of per-sender keys (each member seals its new key to every other one, as
 * meetings without a group key agreement do): N·(N−1) messages and N times the flat bytes, where
 * MLS sends one commit (and one Welcome when someone joins) that the server relays to all.
 *
 * Only the committer, one long-standing member and each newcomer keep state: other members do
 * not change what is measured (their processing is the member's), and keeping them all would
 * make the run quadratic.
 *
 *   node bench/mls.mjs [--members 100] [--runs 3]
 *
 * Exit status: 0 a clean run; 1 the benchmark could not run; 2 bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  acceptAll,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processMessage,
} from 'ts-mls';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { median, scatterPlot, table } from './lib/stats.mjs';

/** The meeting client's ciphersuite (packages/web/src/meeting/e2ee/group.ts). */
const CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** Sizes printed in the table (every size is measured and plotted). */
const SHOWN = [2, 3, 5, 10, 20, 30, 50, 75, 100];
const SINGLE_REMOVALS = 10;
const BATCH_REMOVAL = 5;
const USAGE = `Usage: node bench/mls.mjs [--members N] [--runs R]

  --members N   the size the group grows to, 3 to 1000 (default 100)
  --runs R      times the whole growth and removals are measured; medians reported (default 3)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

const encoder = new util.TextEncoder();

function parseOptions(argv) {
  const values = benchOptions(argv, { members: { type: 'string' }, runs: { type: 'string' } });
  if (values.help) return { help: true };
  const int = (name, fallback, min, max) => {
    const raw = values[name] ?? String(fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${raw}`);
    return n;
  };
  return { help: false, members: int('members', 100, 3, 1000), runs: int('runs', 3, 1, 50) };
}

const bytesOf = (message) => encodeMlsMessage(message).length;

async function timed(step) {
  const start = performance.now();
  const value = await step();
  return { value, ms: performance.now() - start };
}

async function keyPackage(index, cs) {
  const credential = { credentialType: 'basic', identity: encoder.encode(`member-${index}`) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], cs);
}

/** One commit of `proposals` by the committer, processed by the observer (when it is in). */
async function change(group, proposals, cs) {
  const created = await timed(() =>
    createCommit(
      { state: group.committer, cipherSuite: cs },
      { extraProposals: proposals, ratchetTreeExtension: true },
    ),
  );
  group.committer = created.value.newState;
  let processMs = Number.NaN;
  if (group.observer) {
    const processed = await timed(() =>
      processMessage(created.value.commit, group.observer, emptyPskIndex, acceptAll, cs),
    );
    if (processed.value.kind !== 'newState') throw new Error('the observer could not process a commit');
    group.observer = processed.value.newState;
    processMs = processed.ms;
  }
  const welcome = created.value.welcome;
  return {
    commitBytes: bytesOf(created.value.commit),
    welcomeBytes: welcome ? bytesOf({ welcome, wireformat: 'mls_welcome', version: 'mls10' }) : 0,
    createMs: created.ms,
    processMs,
    welcome,
  };
}

/** The flat rekey: a fresh 16-byte key sealed with HPKE to each of `recipients` public keys. */
async function flatRekey(recipients, cs) {
  const key = cs.rng.randomBytes(16);
  const info = encoder.encode('rempart bench flat rekey');
  let bytes = 0;
  const sealed = await timed(async () => {
    const out = [];
    for (const publicKey of recipients) out.push(await cs.hpke.seal(publicKey, key, info));
    return out;
  });
  for (const { enc, ct } of sealed.value) bytes += enc.length + ct.length;
  const first = sealed.value[0];
  const opened = first
    ? await timed(() => cs.hpke.open(recipients.privateOfFirst, first.enc, first.ct, info))
    : { ms: Number.NaN };
  return { bytes, createMs: sealed.ms, processMs: opened.ms };
}

/** One run: grow to `members`, then remove one at a time, then a batch. */
async function measureRun(options, cs, runLabel) {
  const n = options.members;
  const packages = [];
  const packageBytes = [];
  for (let i = 0; i < n; i++) {
    packages.push(await keyPackage(i, cs));
    packageBytes.push(
      bytesOf({ keyPackage: packages[i].publicPackage, wireformat: 'mls_key_package', version: 'mls10' }),
    );
    progress(`${runLabel}: key packages ${i + 1}/${n}`);
  }
  // The flat rekey's recipients: one HPKE key pair per member.
  const pairs = [];
  for (let i = 0; i < n; i++) pairs.push(await cs.hpke.generateKeyPair());

  const first = packages[0];
  const group = {
    committer: await createGroup(encoder.encode('bench'), first.publicPackage, first.privatePackage, [], cs),
    observer: undefined,
  };
  const rows = [];
  for (let size = 2; size <= n; size++) {
    const added = packages[size - 1];
    const mls = await change(group, [{ proposalType: 'add', add: { keyPackage: added.publicPackage } }], cs);
    const joined = await timed(() =>
      joinGroup(mls.welcome, added.publicPackage, added.privatePackage, emptyPskIndex, cs),
    );
    if (size === 2) group.observer = joined.value;
    const flat = await flatRekey(recipientsOf(pairs, size), cs);
    rows.push({
      kind: 'add',
      size,
      keyPackageBytes: packageBytes[size - 1],
      ...withoutWelcome(mls),
      joinMs: joined.ms,
      flat,
    });
    progress(`${runLabel}: added member ${size}/${n}`);
  }
  // Removals from the far end of the tree (the observer, leaf 1, stays).
  let size = n;
  for (let r = 0; r < SINGLE_REMOVALS && size > 3; r++, size--) {
    const mls = await change(group, [{ proposalType: 'remove', remove: { removed: size - 1 } }], cs);
    const flat = await flatRekey(recipientsOf(pairs, size - 1), cs);
    rows.push({
      kind: 'remove',
      size: size - 1,
      keyPackageBytes: 0,
      ...withoutWelcome(mls),
      joinMs: Number.NaN,
      flat,
    });
    progress(`${runLabel}: removed one, ${size - 1} left`);
  }
  const batch = Math.min(BATCH_REMOVAL, size - 3);
  if (batch > 0) {
    const proposals = Array.from({ length: batch }, (_, k) => ({
      proposalType: 'remove',
      remove: { removed: size - 1 - k },
    }));
    const mls = await change(group, proposals, cs);
    const flat = await flatRekey(recipientsOf(pairs, size - batch), cs);
    rows.push({
      kind: `remove ${batch}`,
      size: size - batch,
      keyPackageBytes: 0,
      ...withoutWelcome(mls),
      joinMs: Number.NaN,
      flat,
    });
  }
  progress(`${runLabel}: done`, true);
  return rows;
}

/** The public keys of the members other than the committer, the first one's private key beside. */
function recipientsOf(pairs, size) {
  const recipients = pairs.slice(1, size).map((p) => p.publicKey);
  recipients.privateOfFirst = pairs[1]?.privateKey;
  return recipients;
}

function withoutWelcome({ welcome: _welcome, ...rest }) {
  return rest;
}

/** Medians across runs, row by row (every run makes the same changes in the same order). */
function summarise(runs) {
  return runs[0].map((row, i) => {
    const at = (pick) => median(runs.map((rows) => pick(rows[i])));
    return {
      kind: row.kind,
      size: row.size,
      keyPackageBytes: row.keyPackageBytes,
      commitBytes: at((r) => r.commitBytes),
      welcomeBytes: at((r) => r.welcomeBytes),
      createMs: at((r) => r.createMs),
      processMs: at((r) => r.processMs),
      joinMs: at((r) => r.joinMs),
      flatBytes: at((r) => r.flat.bytes),
      flatCreateMs: at((r) => r.flat.createMs),
      flatProcessMs: at((r) => r.flat.processMs),
    };
  });
}

/** [size, value] of the rows where `field` was measured. */
const points = (rows, field) => rows.filter((r) => Number.isFinite(r[field])).map((r) => [r.size, r[field]]);
const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const kb = (v) => (v === 0 ? '–' : v < 1024 ? `${v} B` : `${(v / 1024).toFixed(1)} KiB`);

function printReport(summary, options, resultsFile) {
  const shown = summary.filter(
    (r) => r.kind !== 'add' || SHOWN.includes(r.size) || r.size === options.members,
  );
  console.log(
    `\nMLS key agreement (${CIPHERSUITE}), group grown to ${options.members}, medians of ${options.runs} run(s)\n`,
  );
  const rows = [
    [
      'change',
      'members after',
      'KeyPackage',
      'commit',
      'Welcome',
      'create ms',
      'process ms',
      'join ms',
      'flat rekey',
      'flat create ms',
      'commit / flat bytes',
      'MLS messages',
      'pairwise messages',
      'pairwise bytes',
    ],
    ...shown.map((r) => [
      r.kind,
      r.size,
      kb(r.keyPackageBytes),
      kb(r.commitBytes),
      kb(r.welcomeBytes),
      ms(r.createMs),
      ms(r.processMs),
      ms(r.joinMs),
      kb(r.flatBytes),
      ms(r.flatCreateMs),
      (r.commitBytes / r.flatBytes).toFixed(2),
      r.welcomeBytes > 0 ? 2 : 1,
      (r.size * (r.size - 1)).toLocaleString('en'),
      kb(r.size * r.flatBytes),
    ]),
  ];
  for (const line of table(rows)) console.log(`  ${line}`);
  const adds = summary.filter((r) => r.kind === 'add');
  console.log('\nHandshake bytes per join as the group grows (commit and Welcome of MLS, flat rekey):\n');
  for (const line of scatterPlot(
    [
      { label: 'MLS Welcome', marker: 'w', points: adds.map((r) => [r.size, r.welcomeBytes / 1024]) },
      { label: 'MLS commit', marker: 'c', points: adds.map((r) => [r.size, r.commitBytes / 1024]) },
      { label: 'flat rekey', marker: 'f', points: adds.map((r) => [r.size, r.flatBytes / 1024]) },
    ],
    { xLabel: 'members', yLabel: 'KiB' },
  ))
    console.log(line);
  console.log('\nTime per join (committer creates, a member processes, the newcomer joins):\n');
  for (const line of scatterPlot(
    [
      { label: 'create', marker: 'c', points: points(adds, 'createMs') },
      { label: 'process', marker: 'p', points: points(adds, 'processMs') },
      { label: 'join', marker: 'j', points: points(adds, 'joinMs') },
    ],
    { xLabel: 'members', yLabel: 'ms' },
  ))
    console.log(line);
  console.log(`\nResults: ${resultsFile}`);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const cs = await getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE));
  const runs = [];
  for (let i = 0; i < options.runs; i++)
    runs.push(await measureRun(options, cs, `run ${i + 1}/${options.runs}`));
  const summary = summarise(runs);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const resultsFile = `${RESULTS_DIR}mls-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
  const record = {
    benchmark: 'mls',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    machine: { cpu: cpus()[0]?.model.trim(), node: process.version },
    options: { ...options, ciphersuite: CIPHERSUITE },
    median: summary,
    runs,
  };
  const rounded = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport(summary, options, resultsFile);
  return 0;
}

process.exitCode = await runBenchmark(main, USAGE);
