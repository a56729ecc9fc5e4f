/**
 * Blocking through the real `nft` (Debian's nftables), inside a throwaway network namespace: the
 * machine's own firewall is never touched. One long-lived namespace (`unshare --net sleep`) serves
 * the file; every command runs in it through the runner's prefix (`nsenter --net=/proc/<pid>/ns/net`),
 * and the table is deleted between tests. Needs root (creating a namespace, running nft).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WatchHit } from '../detector.js';
import { AddressBlocker } from './blocker.js';
import { execFileRunner, type CommandRunner } from './commands.js';
import type { BlockConfig } from './config.js';

const NFT = '/usr/sbin/nft';

/** A network namespace held open by a sleeping process, and a runner whose commands run in it. */
class Namespace {
  private constructor(
    private readonly child: ChildProcess,
    readonly runner: CommandRunner,
  ) {}

  static async start(): Promise<Namespace> {
    if (!existsSync(NFT))
      throw new Error(
        `nft missing (${NFT}): install the Debian package nftables (sudo apt-get install nftables), ` +
          'or run `npm test` as root to have it done',
      );
    if (process.getuid?.() !== 0)
      throw new Error('the nftables tests create a network namespace: run them as root');
    const child = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
    const pid = child.pid;
    if (pid === undefined) throw new Error('unshare did not start');
    const own = readlinkSync('/proc/self/ns/net');
    const until = Date.now() + 5000;
    // Ready once the process is `sleep` in a network namespace of its own.
    for (;;) {
      let ready: boolean;
      try {
        ready =
          readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' &&
          readlinkSync(`/proc/${pid}/ns/net`) !== own;
      } catch {
        ready = false;
      }
      if (ready) break;
      if (child.exitCode !== null || Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`unshare --net failed to make a network namespace (exit ${child.exitCode})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return new Namespace(child, execFileRunner({ prefix: ['nsenter', `--net=/proc/${pid}/ns/net`] }));
  }

  /** Runs `nft args…` in the namespace; throws when it fails (the test's own setup and checks). */
  async nft(...args: string[]): Promise<string> {
    const result = await this.runner(['nft', ...args], { timeoutMs: 10_000 });
    if (!result.ok) throw new Error(`nft ${args.join(' ')}: ${result.error}`);
    return result.stdout;
  }

  /** The elements of a set, from `nft -j`: address, timeout and seconds left. */
  async elements(set: string): Promise<{ val: string; timeout: number; expires: number }[]> {
    const json = JSON.parse(await this.nft('-j', 'list', 'set', 'inet', 'rempart', set)) as {
      nftables: {
        set?: { elem?: ({ elem: { val: string; timeout: number; expires: number } } | string)[] };
      }[];
    };
    const found = json.nftables.find((item) => item.set !== undefined)?.set;
    return (found?.elem ?? []).map((e) =>
      typeof e === 'string'
        ? { val: e, timeout: 0, expires: 0 }
        : { val: e.elem.val, timeout: e.elem.timeout, expires: e.elem.expires },
    );
  }

  async hasTable(): Promise<boolean> {
    return (await this.runner(['nft', 'list', 'table', 'inet', 'rempart'], { timeoutMs: 10_000 })).ok;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

let ns: Namespace;
beforeAll(async () => {
  ns = await Namespace.start();
});
afterAll(() => ns?.stop());

const blockers: AddressBlocker[] = [];
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((b) => b.close()));
  if (await ns.hasTable()) await ns.nft('delete', 'table', 'inet', 'rempart');
});

const clock = { now: Date.now() };
const blocker = (config: BlockConfig = {}) => {
  const b = new AddressBlocker(
    { mode: 'apply', ...config },
    { runner: ns.runner, now: () => clock.now, interfaceAddresses: () => [], sweepIntervalMs: 0 },
  );
  blockers.push(b);
  return b;
};

const hit = (srcIp: string): WatchHit => ({
  rule: {
    id: 'brute',
    title: 'Brute force from one source',
    level: 'high',
    kind: 'detection',
    file: 'x.yml',
  },
  time: 0,
  events: [{ time: 0, logsource: { service: 'sshd' }, fields: { src_ip: srcIp }, raw: 'x', parsed: true }],
});

describe('blocking through nftables (real nft, in a network namespace)', () => {
  it('creates the table, both sets with timeouts and the dropping chain, and can do it again unchanged', async () => {
    const b = blocker();
    expect(await b.start()).toMatchObject({ ok: true });
    expect(await b.start()).toMatchObject({ ok: true });
    const ruleset = await ns.nft('list', 'table', 'inet', 'rempart');
    expect(ruleset).toMatch(/set blocked4 \{\s+type ipv4_addr\s+flags timeout/);
    expect(ruleset).toMatch(/set blocked6 \{\s+type ipv6_addr\s+flags timeout/);
    expect(ruleset).toMatch(/type filter hook input priority filter; policy accept;/);
    // Started twice, the chain still holds its two rules once each.
    expect(ruleset.match(/ip saddr @blocked4 drop/g)).toHaveLength(1);
    expect(ruleset.match(/ip6 saddr @blocked6 drop/g)).toHaveLength(1);
  });

  it('puts a blocked IPv4 address in blocked4 with its timeout, and lists the block as applied', async () => {
    const b = blocker({ durationSeconds: 3600 });
    await b.start();
    const outcome = await b.blockHit(hit('203.0.113.5'));
    expect(outcome).toMatchObject({ outcome: 'blocked', entry: { address: '203.0.113.5', mode: 'applied' } });
    const [element, ...others] = await ns.elements('blocked4');
    expect(others).toEqual([]);
    expect(element).toMatchObject({ val: '203.0.113.5', timeout: 3600 });
    expect(element!.expires).toBeGreaterThan(3500);
    expect(await ns.elements('blocked6')).toEqual([]);
    expect(b.list()).toEqual([
      expect.objectContaining({ address: '203.0.113.5', mode: 'applied', ruleId: 'brute' }),
    ]);
  });

  it('puts an IPv6 address in blocked6', async () => {
    const b = blocker({ durationSeconds: 600 });
    await b.start();
    expect(await b.blockHit(hit('2001:DB8::0:42'))).toMatchObject({ outcome: 'blocked' });
    expect(await ns.elements('blocked6')).toEqual([
      expect.objectContaining({ val: '2001:db8::42', timeout: 600 }),
    ]);
    expect(await ns.elements('blocked4')).toEqual([]);
  });

  it('removes the address from the set when unblocked', async () => {
    const b = blocker();
    await b.start();
    await b.blockHit(hit('198.51.100.23'));
    await b.blockHit(hit('2001:db8::23'));
    expect(await b.unblock('198.51.100.23')).toMatchObject({ outcome: 'unblocked', mode: 'applied' });
    expect(await b.unblock('2001:db8::23')).toMatchObject({ outcome: 'unblocked' });
    expect(await ns.elements('blocked4')).toEqual([]);
    expect(await ns.elements('blocked6')).toEqual([]);
    expect(b.list()).toEqual([]);
  });

  it('refreshes the timeout in the set when a blocked address is seen again later', async () => {
    const b = blocker({ durationSeconds: 3600 });
    await b.start();
    await b.blockHit(hit('203.0.113.77'));
    // Someone (or time) shortened it in the kernel; a hit two minutes on sets it back to an hour.
    await ns.nft('delete', 'element', 'inet', 'rempart', 'blocked4', '{', '203.0.113.77', '}');
    await ns.nft('add', 'element', 'inet', 'rempart', 'blocked4', '{', '203.0.113.77', 'timeout', '5s', '}');
    clock.now += 120_000;
    expect(await b.blockHit(hit('203.0.113.77'))).toMatchObject({ outcome: 'extended' });
    const [element] = await ns.elements('blocked4');
    expect(element).toMatchObject({ val: '203.0.113.77', timeout: 3600 });
    expect(element!.expires).toBeGreaterThan(3500);
    // And works as well when the kernel had already let it expire.
    await ns.nft('delete', 'element', 'inet', 'rempart', 'blocked4', '{', '203.0.113.77', '}');
    clock.now += 120_000;
    expect(await b.blockHit(hit('203.0.113.77'))).toMatchObject({ outcome: 'extended' });
    expect(await ns.elements('blocked4')).toEqual([expect.objectContaining({ val: '203.0.113.77' })]);
  });

  it('in dry-run leaves the firewall untouched and records the command it would run', async () => {
    const b = blocker({ mode: 'dry-run' });
    const setup = await b.start();
    expect(setup.ok).toBe(true);
    expect(await ns.hasTable()).toBe(false);
    const outcome = await b.blockHit(hit('203.0.113.5'));
    expect(outcome).toMatchObject({
      outcome: 'blocked',
      entry: {
        mode: 'dry-run',
        command: [
          'nft',
          'add',
          'element',
          'inet',
          'rempart',
          'blocked4',
          '{',
          '203.0.113.5',
          'timeout',
          '1h',
          '}',
        ],
      },
    });
    expect(await ns.hasTable()).toBe(false);
    // The same command, run by hand on a prepared firewall, does what the dry-run said.
    await blocker().start();
    expect(await ns.elements('blocked4')).toEqual([]);
    if (outcome.outcome !== 'blocked') throw new Error('expected a block');
    await ns.nft(...outcome.entry.command.slice(1));
    expect(await ns.elements('blocked4')).toEqual([
      expect.objectContaining({ val: '203.0.113.5', timeout: 3600 }),
    ]);
  });

  it('never puts loopback or an allow-listed address in a set', async () => {
    const b = blocker({ allow: ['203.0.113.0/24', '2001:db8::/32'] });
    await b.start();
    for (const address of ['127.0.0.1', '::1', '203.0.113.5', '2001:db8::5'])
      expect(await b.blockHit(hit(address))).toMatchObject({ outcome: 'refused' });
    expect(await ns.elements('blocked4')).toEqual([]);
    expect(await ns.elements('blocked6')).toEqual([]);
  });

  it('reports a failing command without throwing, and lists no block for it', async () => {
    // No start: the table does not exist, so nft refuses the element.
    const b = blocker();
    const logged: unknown[] = [];
    b.on('failed', (failure) => logged.push(failure));
    const outcome = await b.blockHit(hit('203.0.113.5'));
    expect(outcome).toMatchObject({ outcome: 'failed', address: '203.0.113.5' });
    if (outcome.outcome !== 'failed') throw new Error('expected a failure');
    expect(outcome.error).toMatch(/exit status 1/);
    expect(b.list()).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(b.stats()).toMatchObject({ failed: 1, blocked: 0 });
  });
});
