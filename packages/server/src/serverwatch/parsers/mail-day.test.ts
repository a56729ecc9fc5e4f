import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ParseContext, detectFormat, parseLine } from './index.js';
import { type MailDayAttack, type MailDayFile, type MailDayLine, mailDay, writeMailDay } from './mail-day.js';

const day = mailDay({ seed: 42 });
const all: MailDayLine[] = [...day.lines()];
// Read the day's files the way a scan would: one context per file, received the next morning.
const receivedAt = Date.UTC(2026, 11, 4, 6, 0, 0);
const contexts: Record<MailDayFile, ParseContext> = {
  'mail.log': { source: 'mail.log', receivedAt },
  'auth.log': { source: 'auth.log', receivedAt },
  'u_ex.log': { source: 'u_ex.log', receivedAt },
};
const events = all.map((l) => parseLine(l.line, l.format, contexts[l.file]));

describe('a generated day of mail server logs', () => {
  it('has a few thousand lines in the three files, in time order, numbered per file', () => {
    expect(all.length).toBeGreaterThan(4000);
    expect(all.length).toBeLessThan(6500);
    const numbers: Record<string, number> = {};
    for (let i = 0; i < all.length; i++) {
      const l = all[i]!;
      numbers[l.file] = (numbers[l.file] ?? 0) + 1;
      expect(l.lineNo).toBe(numbers[l.file]);
      if (i > 0) expect(l.time).toBeGreaterThanOrEqual(all[i - 1]!.time);
    }
    expect(Object.keys(numbers).sort()).toEqual(['auth.log', 'mail.log', 'u_ex.log']);
    expect(new Set(day.users).size).toBe(300);
  });

  it('parses whole: no line is left unparsed, and each event has the line’s time', () => {
    expect(events.filter((e) => !e.parsed).map((e) => e.raw)).toEqual([]);
    for (let i = 0; i < all.length; i++) {
      if (all[i]!.line.startsWith('#')) continue;
      expect(events[i]!.time).toBe(all[i]!.time - (all[i]!.time % 1000));
    }
  });

  it('labels the attack’s lines, and each parses to the fields the label expects', () => {
    const labelled = all.map((l, i) => [l, events[i]!] as const).filter(([l]) => l.attack !== undefined);
    for (const [line, event] of labelled) {
      expect(line.expected).toBeDefined();
      expect(event.fields).toMatchObject(line.expected!);
    }
    const counts: Partial<Record<MailDayAttack, number>> = {};
    for (const [l] of labelled) counts[l.attack!] = (counts[l.attack!] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual([
      'brute_force',
      'compromise',
      'mass_download',
      'owa_exploitation',
      'password_spraying',
      'webshell',
    ]);
    for (const a of day.attacks) expect(counts[a.kind]).toBe(a.lines);
  });

  it('sprays many mailboxes with one or two tries each, and brute-forces one mailbox many times', () => {
    const spray = day.attacks.find((a) => a.kind === 'password_spraying')!;
    const tries = new Map<string, number>();
    for (const [i, l] of all.entries()) {
      if (l.attack !== 'password_spraying') continue;
      expect(events[i]!.fields.src_ip).toBe(spray.srcIp);
      const user = events[i]!.fields.user as string;
      tries.set(user, (tries.get(user) ?? 0) + 1);
    }
    expect(tries.size).toBe(80);
    expect(Math.max(...tries.values())).toBeLessThanOrEqual(2);
    const brute = day.attacks.find((a) => a.kind === 'brute_force')!;
    const targets = new Set(all.filter((l) => l.attack === 'brute_force').map((l) => l.expected!.user));
    expect([...targets]).toEqual(brute.users);
    expect(brute.lines).toBe(150);
  });

  it('ends the failures of the compromise with a success, and empties that mailbox in gigabytes', () => {
    const compromise = all.filter((l) => l.attack === 'compromise');
    expect(compromise.slice(0, -1).every((l) => l.expected!.outcome === 'failure')).toBe(true);
    expect(compromise.at(-1)!.expected).toMatchObject({ outcome: 'success', src_ip: '203.0.113.88' });
    const logouts = all
      .map((l, i) => [l, events[i]!] as const)
      .filter(([l, e]) => l.attack === 'mass_download' && e.fields.action === 'logout');
    expect(logouts).toHaveLength(3);
    for (const [, e] of logouts) expect(e.fields.bytes_out as number).toBeGreaterThan(1_000_000_000);
  });

  it('keeps the clean part clean: no attacker address, small downloads, no one failing more than twice', () => {
    const attackers = new Set(day.attacks.map((a) => a.srcIp));
    const failures = new Map<string, number>();
    for (const [i, l] of all.entries()) {
      if (l.attack !== undefined) continue;
      const f = events[i]!.fields;
      expect(attackers.has((f.src_ip ?? f['c-ip']) as string)).toBe(false);
      if (typeof f.bytes_out === 'number') expect(f.bytes_out).toBeLessThanOrEqual(day.normalMaxBytesOut);
      if (f.outcome === 'failure' && f.action === 'login') {
        const ip = f.src_ip as string;
        failures.set(ip, (failures.get(ip) ?? 0) + 1);
      }
      expect((f['cs-uri-stem'] ?? '') as string).not.toMatch(
        /autodiscover\.json|DDIService|\/owa\/auth\/.*\.aspx|aspnet_client/i,
      );
    }
    expect(Math.max(...failures.values())).toBeLessThanOrEqual(2);
  });

  it('is the same day for the same seed, byte for byte, and another day for another seed', () => {
    const digest = (lines: Iterable<MailDayLine>) => {
      const h = createHash('sha256');
      for (const l of lines) h.update(`${l.file}\n${l.line}\n`);
      return h.digest('hex');
    };
    expect(digest(mailDay({ seed: 42 }).lines())).toBe(digest(all));
    expect(digest(day.lines())).toBe(digest(all));
    expect(digest(mailDay({ seed: 43 }).lines())).not.toBe(digest(all));
  });

  it('is told apart file by file by format detection', () => {
    const sample = (file: MailDayFile) =>
      all
        .filter((l) => l.file === file)
        .slice(0, 50)
        .map((l) => l.line);
    expect(['postfix', 'dovecot']).toContain(detectFormat(sample('mail.log')));
    expect(detectFormat(sample('auth.log'))).toBe('sshd');
    expect(detectFormat(sample('u_ex.log'))).toBe('iis');
  });

  it('streams a large day without holding it, in about the size asked for', () => {
    let n = 0;
    let attack = 0;
    for (const l of mailDay({ seed: 5, lines: 200_000 }).lines()) {
      n++;
      if (l.attack) attack++;
    }
    expect(n).toBeGreaterThan(180_000);
    expect(n).toBeLessThan(220_000);
    expect(attack).toBe(mailDay({ seed: 5 }).attacks.reduce((s, a) => s + a.lines, 0));
  });
});

describe('a generated day written to files', () => {
  it('writes each file with its lines in order, where the labels say', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mail-day-'));
    try {
      const written = await writeMailDay(dir, { seed: 42 });
      expect(written.lines).toBe(all.length);
      const files = {
        'mail.log': (await readFile(written.files['mail.log'], 'utf8')).split('\n'),
        'auth.log': (await readFile(written.files['auth.log'], 'utf8')).split('\n'),
        'u_ex.log': (await readFile(written.files['u_ex.log'], 'utf8')).split('\r\n'),
      };
      for (const file of ['mail.log', 'auth.log', 'u_ex.log'] as const) {
        expect(files[file].at(-1)).toBe('');
        expect(files[file].slice(0, -1)).toEqual(all.filter((l) => l.file === file).map((l) => l.line));
      }
      expect(written.labelled).toEqual(all.filter((l) => l.attack !== undefined));
      for (const l of written.labelled) expect(files[l.file][l.lineNo - 1]).toBe(l.line);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails, without hanging, when the folder cannot be written', async () => {
    await expect(writeMailDay(join(tmpdir(), 'no-such-folder-for-mail-day', 'x'))).rejects.toThrow(/ENOENT/);
  });
});
