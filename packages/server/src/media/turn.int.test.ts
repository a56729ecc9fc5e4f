/**
 * TURN through a real coturn (Debian's `turnserver`, on loopback): browsers that can reach the
 * media server only through TURN (relay candidates only), with the time-limited credentials the
 * engine hands out, checked by coturn against the shared secret (`use-auth-secret`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IceServer } from '@rempart/core';
import type { RTCPeerConnection } from 'werift';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeBrowser, FakeSignalling, waitUntil } from '../test-support/werift-peer.js';
import { EmbeddedEngine } from './embedded.js';
import { TURN_CREDENTIAL_TTL_SECONDS, turnCredentials } from './turn-credentials.js';

const TURNSERVER = '/usr/bin/turnserver';

/** Packets and bytes coturn counted on one allocation: from and to the client, from and to the peer. */
interface Usage {
  client: { rp: number; rb: number; sp: number; sb: number };
  peer: { rp: number; rb: number; sp: number; sb: number };
}

/** A coturn process with its own configuration, database and log in a temporary folder. */
class Coturn {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly onExit: () => void,
  ) {}

  static async start(secret: string): Promise<Coturn> {
    if (!existsSync(TURNSERVER))
      throw new Error(
        `coturn TURN server missing (${TURNSERVER}): install the Debian package coturn ` +
          '(sudo apt-get install coturn), or run `npm test` as root to have it done',
      );
    // The port is free when picked, not necessarily when coturn binds it: another try then.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const coturn = await Coturn.tryStart(secret, await freeUdpPort());
      if (coturn) return coturn;
    }
    throw new Error('coturn found no free UDP port on 127.0.0.1 in three tries');
  }

  private static async tryStart(secret: string, port: number): Promise<Coturn | undefined> {
    const dir = mkdtempSync(join(tmpdir(), 'rempart-coturn-'));
    const config = join(dir, 'turnserver.conf');
    writeFileSync(
      config,
      [
        // Loopback only, on one UDP port; no TLS, no TCP, no STUN service, no admin CLI.
        'listening-ip=127.0.0.1',
        'relay-ip=127.0.0.1',
        `listening-port=${port}`,
        'no-tcp',
        'no-tls',
        'no-dtls',
        'no-stun',
        'no-cli',
        // coturn refuses to relay to loopback peers unless told otherwise (the media server is one).
        'allow-loopback-peers',
        'fingerprint',
        // The TURN REST API: credentials are HMACs of `<expiry>:<user>` with this secret.
        'use-auth-secret',
        `static-auth-secret=${secret}`,
        'realm=rempart.test',
        `userdb=${join(dir, 'turndb')}`,
        `pidfile=${join(dir, 'turnserver.pid')}`,
        `log-file=${join(dir, 'turn.log')}`,
        'simple-log',
        'no-stdout-log',
        // Verbose logs each allocation and the packets it relayed.
        'verbose',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const child = spawn(TURNSERVER, ['-c', config], { stdio: 'ignore' });
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    const coturn = new Coturn(port, dir, child, onExit);
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    const opened = `UDP listener opened on: 127.0.0.1:${port}`;
    await waitUntil(
      `coturn to listen on 127.0.0.1:${port}`,
      () => exited || coturn.log().includes(opened) || coturn.log().includes('Cannot bind'),
      10_000,
    ).catch(async (error: unknown) => {
      await coturn.stop();
      throw error;
    });
    if (coturn.log().includes(opened)) return coturn;
    const log = coturn.log();
    await coturn.stop();
    if (exited) throw new Error(`coturn stopped at start:\n${log.slice(-2000)}`);
    return undefined;
  }

  get url(): string {
    return `turn:127.0.0.1:${this.port}?transport=udp`;
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'turn.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * What coturn last reported relaying for a username. It reports an allocation's usage each
   * 4096 packets (counting both sides) and when the allocation ends.
   */
  usage(username: string): Usage | undefined {
    const counters = (kind: 'usage' | 'peer usage') => {
      const pattern = new RegExp(
        `: ${kind}: realm=<[^>]*>, username=<${escape(username)}>, rp=(\\d+), rb=(\\d+), sp=(\\d+), sb=(\\d+)`,
        'g',
      );
      const last = [...this.log().matchAll(pattern)].at(-1);
      if (!last) return undefined;
      const [rp, rb, sp, sb] = last.slice(1).map(Number) as [number, number, number, number];
      return { rp, rb, sp, sb };
    };
    const client = counters('usage');
    const peer = counters('peer usage');
    return client && peer ? { client, peer } : undefined;
  }

  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    const running = this.child.pid !== undefined && this.child.exitCode === null;
    if (running && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The type of each side of the candidate pair ICE selected, and the remote port. */
function selectedPair(pc: RTCPeerConnection): { local: string; remote: string; remotePort: number } {
  const pair = pc.iceTransports[0]?.getSelectedCandidatePair();
  // `<foundation> <component> <transport> <priority> <address> <port> typ <type> …` (RFC 8839 §5.1)
  const fields = (candidate = '') => candidate.split(' ');
  const local = fields(pair?.local.candidate);
  const remote = fields(pair?.remote.candidate);
  return { local: local[7] ?? 'none', remote: remote[7] ?? 'none', remotePort: Number(remote[5]) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const secret = randomBytes(24).toString('base64url');
/** Started by the first test that needs it, so that each test fails (never skips) without coturn. */
let started: Promise<Coturn> | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  const coturn = await started?.catch(() => undefined);
  await coturn?.stop();
});

async function turnRoom() {
  started ??= Coturn.start(secret);
  const coturn = await started;
  const turn = { urls: [coturn.url], secret };
  const engine = new EmbeddedEngine({ ip: '127.0.0.1', ports: undefined, turn });
  cleanups.push(() => engine.close());
  const signalling = new FakeSignalling();
  const room = engine.openRoom(randomUUID(), signalling);
  /** A browser that reaches the engine only through coturn, with the given credentials. */
  const relayOnly = (id: string, iceServers: IceServer[]) => {
    const browser = new FakeBrowser(id, room, signalling, { iceServers, relayOnly: true }).join();
    cleanups.push(() => browser.close());
    return browser;
  };
  /** The credentials each browser was given, as the welcome message carries them. */
  const issued = new Map<FakeBrowser, IceServer>();
  const browser = (id = randomUUID()) => {
    const iceServers = engine.iceServers(id);
    const created = relayOnly(id, iceServers);
    if (iceServers[0]) issued.set(created, iceServers[0]);
    return created;
  };
  const credentialsOf = (b: FakeBrowser) => {
    const credentials = issued.get(b);
    if (!credentials?.username) throw new Error(`no TURN credentials for ${b.id}`);
    return { ...credentials, username: credentials.username };
  };
  return { coturn, turn, signalling, browser, relayOnly, credentialsOf };
}

describe('TURN through coturn', () => {
  it('carries media between relay-only browsers with the credentials the engine gives them', async () => {
    const { coturn, browser, signalling, credentialsOf } = await turnRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    // A relay-only browser offers its TURN relay address and nothing else.
    const offered = publisher.pc.localDescription?.sdp.match(/^a=candidate:.*$/gm) ?? [];
    expect(offered.length).toBeGreaterThan(0);
    for (const candidate of offered) expect(candidate).toMatch(/ typ relay /);
    publisher.stream();
    await waitUntil('camera packets through coturn', () => bob.received(alice, 'camera') >= 5);
    expect(bob.received(alice, 'microphone')).toBeGreaterThan(0);

    // Both connections run between a coturn relay address and the engine's host candidate.
    const publishing = selectedPair(publisher.pc);
    const subscribing = selectedPair(bob.subscriber.pc);
    expect(publishing).toMatchObject({ local: 'relay', remote: 'host' });
    expect(subscribing).toMatchObject({ local: 'relay', remote: 'host' });
    const aliceUser = credentialsOf(alice).username;
    const bobUser = credentialsOf(bob).username;
    const log = coturn.log();
    for (const [user, pair] of [
      [aliceUser, publishing],
      [bobUser, subscribing],
    ] as const) {
      expect(log).toContain(`user <${user}>: incoming packet ALLOCATE processed, success`);
      expect(log).toMatch(new RegExp(`peer 127\\.0\\.0\\.1:${pair.remotePort} lifetime updated`));
    }

    // Enough packets for coturn to report what it relayed: Alice's camera went in on her
    // allocation and out to the engine, then in from the engine and out to Bob on his.
    publisher.stop();
    const burstStart = Date.now();
    while (!(coturn.usage(aliceUser) && coturn.usage(bobUser))) {
      if (Date.now() - burstStart > 10_000) throw new Error('coturn reported no usage within 10 s');
      for (let i = 0; i < 40; i++) publisher.send('camera');
      await sleep(10);
    }
    const sent = coturn.usage(aliceUser);
    const received = coturn.usage(bobUser);
    expect(sent?.client.rp).toBeGreaterThan(1000);
    expect(sent?.peer.sp).toBeGreaterThan(1000);
    expect(received?.peer.rp).toBeGreaterThan(1000);
    expect(received?.client.sp).toBeGreaterThan(1000);
    expect(bob.received(alice, 'camera')).toBeGreaterThan(500);
    expect(signalling.failures).toEqual([]);
  });

  it('refuses forged and expired credentials: no relay address, and no media from their holders', async () => {
    const { coturn, turn, browser, relayOnly, credentialsOf } = await turnRoom();
    const alice = browser();
    const bob = browser();
    const now = new Date();
    const otherSecret = { ...turn, secret: randomBytes(24).toString('base64url') };
    const bobs = credentialsOf(bob);
    const [bobsExpiry] = bobs.username.split(':');
    const attempts = [
      // Signed with another secret.
      { id: randomUUID(), as: (id: string) => turnCredentials(otherSecret, id, now) },
      // Bob's credential, under a username that gives it one more day.
      {
        id: randomUUID(),
        as: () => ({ ...bobs, username: `${Number(bobsExpiry) + 86_400}:${bob.id}` }),
      },
      // Signed with the right secret, but a day past its expiry.
      {
        id: randomUUID(),
        as: (id: string) =>
          turnCredentials(turn, id, new Date(now.getTime() - 2 * TURN_CREDENTIAL_TTL_SECONDS * 1000)),
      },
    ].map(({ id, as }) => {
      const credentials = as(id);
      return { credentials, browser: relayOnly(id, [credentials]) };
    });

    const publishers = await Promise.all([alice, ...attempts.map((a) => a.browser)].map((b) => b.publish()));
    for (const publisher of publishers) publisher.stream();
    await waitUntil('Alice’s camera at Bob', () => bob.received(alice, 'camera') >= 5);
    await sleep(1000);
    expect(bob.received(alice, 'camera')).toBeGreaterThan(20);
    const log = coturn.log();
    for (const { credentials, browser: intruder } of attempts) {
      // coturn refused the allocation, so the relay-only browser has no candidate at all.
      expect(log).toContain(`user <${credentials.username}>: incoming packet message processed, error 401`);
      expect(log).not.toContain(
        `user <${credentials.username}>: incoming packet ALLOCATE processed, success`,
      );
      expect(intruder.publisher?.pc.localDescription?.sdp).not.toMatch(/^a=candidate:/m);
      expect(intruder.publisher?.pc.connectionState).not.toBe('connected');
      expect(bob.received(intruder, 'camera')).toBe(0);
      expect(bob.received(intruder, 'microphone')).toBe(0);
    }
  });
});
