/**
 * Sign-in fixtures: N agents fully enrolled (password + TOTP) through Rempart's own identity
 * service, in a PGlite data directory the benchmark copies for each run. Seeding costs one
 * argon2id hash per agent, so the result is cached under bench/.cache/, keyed by the agent
 * count and the database migrations; delete that directory to seed again.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@rempart/core';
import { createLogger, openPlatform, totpCodeAt } from '@rempart/server';
import { ownDir, removeScratchDir } from './processes.mjs';

const CACHE_ROOT = fileURLToPath(new URL('../.cache/', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../packages/server/drizzle/', import.meta.url));
/** Bump when the fixture layout or the way agents are enrolled changes. */
const FIXTURE_VERSION = 1;

/**
 * Enrolment runs an hour in the past. Confirming a TOTP factor consumes the time step it was
 * confirmed in, and a sign-in must present a later step (RFC 6238 §5.2), so agents seeded in
 * the past can sign in at once instead of 30 s later.
 */
const SEED_CLOCK = { now: () => new Date(Date.now() - 3600_000) };
const CONTEXT = { ip: '127.0.0.1', userAgent: 'rempart-bench-seed' };

/**
 * The fixtures for `count` agents, seeding them first if they are not cached.
 *
 * @returns {Promise<{ dataDir: string, secretKey: string, agents: { email: string, password: string,
 *   totpSecret: string }[], peerHash: { hash: string, password: string }, cached: boolean }>}
 */
export async function seededAgents(count, onProgress) {
  const dir = join(CACHE_ROOT, `signin-v${FIXTURE_VERSION}-${count}-agents-${migrationsDigest()}`);
  const fixturesFile = join(dir, 'fixtures.json');
  if (existsSync(fixturesFile)) {
    return { ...JSON.parse(readFileSync(fixturesFile, 'utf8')), dataDir: join(dir, 'data'), cached: true };
  }
  // Seeded beside the cache and renamed into place only when complete: an interrupted seed
  // leaves nothing that a later run could mistake for fixtures.
  mkdirSync(CACHE_ROOT, { recursive: true });
  const building = ownDir(`${dir}.partial-${process.pid}`);
  try {
    const fixtures = await seed(join(building, 'data'), count, onProgress);
    writeFileSync(join(building, 'fixtures.json'), `${JSON.stringify(fixtures)}\n`, { mode: 0o600 });
    renameSync(building, dir);
    return { ...fixtures, dataDir: join(dir, 'data'), cached: false };
  } finally {
    removeScratchDir(building);
  }
}

/** A short digest of the migrations: a schema change makes the cached database stale. */
function migrationsDigest() {
  const digest = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS)
    .filter((n) => n.endsWith('.sql'))
    .sort()) {
    digest.update(name).update(readFileSync(join(MIGRATIONS, name)));
  }
  return digest.digest('hex').slice(0, 12);
}

async function seed(dataDir, count, onProgress) {
  const secretKey = randomBytes(32).toString('base64');
  const parsed = parseConfig({ REMPART_DATA_DIR: dataDir, REMPART_LOG_LEVEL: 'silent' });
  if (!parsed.ok) throw new Error(`seed configuration: ${parsed.errors.join('; ')}`);
  const platform = await openPlatform(parsed.config, {
    masterKey: Buffer.from(secretKey, 'base64'),
    clock: SEED_CLOCK,
    log: createLogger('silent'),
  });
  try {
    const agents = new Array(count);
    let next = 0;
    let done = 0;
    // argon2 hashes run on libuv's pool (4 threads by default) while PGlite runs on the main
    // thread: a few enrolments in flight per core keep every core busy.
    const enroller = async () => {
      while (next < count) {
        const index = next++;
        agents[index] = await enrol(platform, index);
        onProgress(++done, count);
      }
    };
    await Promise.all(Array.from({ length: 2 * availableParallelism() }, enroller));
    // The peer verifies a hash Rempart itself made, so both sides use the same argon2 parameters.
    const first = await platform.identityRepo.agentByEmail(agents[0].email);
    if (!first?.passwordHash) throw new Error('seeded agent has no password hash');
    return { secretKey, agents, peerHash: { hash: first.passwordHash, password: agents[0].password } };
  } finally {
    await platform.close();
  }
}

/** The enrolment a new agent walks through: invitation, password, authenticator app. */
async function enrol(platform, index) {
  const { identity } = platform;
  const email = `agent-${String(index).padStart(6, '0')}@bench.rempart.test`;
  const password = `bench ${randomBytes(12).toString('base64url')}`;
  const invitation = await identity.inviteAgent(
    null,
    { email, displayName: `Bench Agent ${index}`, unit: 'Bench', role: 'agent', clearance: 'internal' },
    CONTEXT,
  );
  const token = new URL(invitation.enrolmentUrl).pathname.split('/').at(-1) ?? '';
  const step = await identity.setEnrolmentPassword(token, password, CONTEXT);
  const auth = step.token ? await identity.resolveSession(step.token) : undefined;
  if (!auth) throw new Error(`enrolment of ${email} gave no usable session`);
  const { secret } = await identity.totpBegin(auth);
  await identity.totpConfirm(auth, await totpCodeAt(secret, SEED_CLOCK.now()), undefined, CONTEXT);
  return { email, password, totpSecret: secret };
}
