/**
 * `rempart watch scan` as an analyst runs it: a generated day of a mail server's logs (Postfix,
 * Dovecot, sshd, Exchange's IIS log) with an attack in the middle, the shipped and SigmaHQ rules,
 * its output and exit status.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeMailDay, type WrittenMailDay } from '../../server/src/serverwatch/parsers/mail-day.js';
import { run } from './main.js';

let out: string[];
let err: string[];
const scratch = mkdtempSync(join(tmpdir(), 'rempart-cli-watch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let day: WrittenMailDay;
beforeAll(async () => {
  day = await writeMailDay(scratch, { seed: 7, lines: 6000 });
});

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

interface HitLine {
  rule_id: string;
  title: string;
  level: string | null;
  kind: string;
  event: { raw: string };
  events?: { raw: string }[];
}

const logs = () => Object.values(day.files).flatMap((path) => ['--log', path]);

/** The first CPU this process may run on (a cgroup cpuset may leave CPU 0 out). */
const firstCpu = () =>
  /Cpus_allowed_list:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';

describe('rempart watch scan', () => {
  it('finds every step of the attack in a day of mail-server logs, with the expected rules and nothing on the clean part', async () => {
    expect(await run(['watch', 'scan', ...logs(), '--json'])).toBe(1);
    const hits = out.map((line) => JSON.parse(line) as HitLine);
    const titles = new Set(hits.map((h) => h.title));
    for (const title of [
      'Mail Password Spraying From One Source',
      'Mail Brute Force From One Source',
      'Mail Login After Many Failures',
      'Mailbox Emptied Over IMAP or POP3',
      'Exchange Autodiscover Server-Side Request Forgery (ProxyShell, ProxyNotShell)',
      'Exchange Control Panel Exploitation',
      'Web Shell Reached In An Exchange Folder',
    ])
      expect(titles, title).toContain(title);
    // Every event behind every hit is a line of the attack: the ordinary day raised nothing.
    const attack = new Set(day.labelled.map((l) => l.line.replace(/\r$/, '')));
    for (const hit of hits)
      for (const event of hit.events ?? [hit.event])
        expect(attack, `${hit.title}: ${event.raw}`).toContain(event.raw);
    for (const hit of hits) {
      expect(hit.rule_id).toMatch(/\S/);
      expect(['informational', 'low', 'medium', 'high', 'critical']).toContain(hit.level);
    }
  });

  it('prints the hits and a summary, and exits 0 on the ordinary part of the day alone', async () => {
    const ordinary = join(scratch, 'ordinary-mail.log');
    const attackLines = new Set(day.labelled.filter((l) => l.file === 'mail.log').map((l) => l.line));
    const lines = readFileSync(day.files['mail.log'], 'utf8').split('\n');
    writeFileSync(ordinary, lines.filter((l) => !attackLines.has(l)).join('\n'));
    expect(await run(['watch', 'scan', '--log', ordinary])).toBe(0);
    expect(out.join('\n')).toMatch(/read as syslog|read as postfix|read as dovecot/);
    expect(out.join('\n')).toContain('No rule fired.');
    out = [];
    expect(await run(['watch', 'scan', '--log', day.files['mail.log'], '--format', 'syslog'])).toBe(1);
    expect(out.join('\n')).toMatch(/CRITICAL\s+Mail Login After Many Failures/);
    expect(out.join('\n')).toMatch(/hit\(s\):/);
  });

  it('refuses a missing file, an unknown format, no log and a broken rule with exit status 2, naming what is wrong', async () => {
    expect(await run(['watch', 'scan', '--log', join(scratch, 'nowhere.log')])).toBe(2);
    expect(err.join('\n')).toMatch(/nowhere\.log/);
    expect(await run(['watch', 'scan', '--log', day.files['mail.log'], '--format', 'evtx'])).toBe(2);
    expect(err.join('\n')).toMatch(/--format evtx/);
    expect(await run(['watch', 'scan'])).toBe(2);
    const broken = join(scratch, 'broken.yml');
    writeFileSync(
      broken,
      'title: Broken\nlogsource:\n  product: linux\ndetection:\n  sel:\n    a|nosuch: 1\n  condition: sel and\n',
    );
    expect(await run(['watch', 'scan', '--rules', broken, '--log', day.files['mail.log']])).toBe(2);
    expect(err.join('\n')).toMatch(/broken\.yml:\d+/);
  });

  it('starts itself again with the Node options of a scan on one CPU, and answers as it does on more', () => {
    const bin = fileURLToPath(new URL('../bin/rempart.js', import.meta.url));
    // Each process of the program writes down the Node options it runs with.
    const record = join(scratch, 'node-options.jsonl');
    const preload = join(scratch, 'record.cjs');
    writeFileSync(
      preload,
      `require('node:fs').appendFileSync(${JSON.stringify(record)}, JSON.stringify(process.execArgv) + '\\n');`,
    );
    const scan = (pinned: boolean) => {
      writeFileSync(record, '');
      const args = [bin, 'watch', 'scan', ...logs(), '--json'];
      const done = spawnSync(
        pinned ? 'taskset' : process.execPath,
        pinned ? ['-c', firstCpu(), process.execPath, ...args] : args,
        {
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: `--require ${preload}` },
        },
      );
      const options = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]);
      return { status: done.status, hits: done.stdout.trim().split('\n'), options };
    };
    const one = scan(true);
    expect(one.options).toEqual([[], ['--no-concurrent-recompilation']]);
    expect(one.status).toBe(1);
    const more = scan(false);
    expect(more.options).toEqual(availableParallelism() > 1 ? [[]] : one.options);
    expect(more.status).toBe(1);
    expect(one.hits.length).toBeGreaterThan(5);
    expect(one.hits).toEqual(more.hits);
  }, 60_000);
});
