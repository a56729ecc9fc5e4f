import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '@rempart/core';
import { openPlatform, serve } from '@rempart/server';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ask } from '../../server/src/test-support/dns-client.js';
import { resetPostgres, testDatabaseUrl } from '../../server/src/test-support/platform.js';
import { run } from './main.js';

let out: string[];
let err: string[];
const saved = { ...process.env };

beforeEach(async () => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.env.REMPART_DATA_DIR = mkdtempSync(join(tmpdir(), 'rempart-cli-'));
  process.env.REMPART_LOG_LEVEL = 'silent';
  process.env.REMPART_PORT = '0';
  if (testDatabaseUrl) {
    await resetPostgres(testDatabaseUrl);
    process.env.DATABASE_URL = testDatabaseUrl;
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  if (process.env.REMPART_DATA_DIR) rmSync(process.env.REMPART_DATA_DIR, { recursive: true, force: true });
  process.env = { ...saved };
});

function config() {
  const result = parseConfig(process.env);
  if (!result.ok) throw new Error(result.errors.join());
  return result.config;
}

describe('rempart admin create', () => {
  it('creates an administrator and prints a one-time enrolment link', async () => {
    expect(
      await run(['admin', 'create', '--email', 'Claire.Martin@Interieur.gouv.fr', '--name', 'Claire Martin']),
    ).toBe(0);
    expect(out.join('\n')).toMatch(/Administrator claire\.martin@interieur\.gouv\.fr created/);
    expect(out.join('\n')).toMatch(/http:\/\/localhost:0\/enrol\/[A-Za-z0-9_-]{43}/);
    const platform = await openPlatform(config());
    try {
      const agents = await platform.identity.listAgents();
      expect(agents).toEqual([
        expect.objectContaining({
          email: 'claire.martin@interieur.gouv.fr',
          role: 'admin',
          clearance: 'secret',
          status: 'pending',
        }),
      ]);
    } finally {
      await platform.close();
    }
  });

  it('refuses bad arguments with exit status 2 and creates nothing', async () => {
    expect(await run(['admin', 'create', '--email', 'not-an-email', '--name', 'X'])).toBe(2);
    expect(err.join('\n')).toMatch(/--email/);
    expect(await run(['admin', 'create', '--email', 'a@b.fr'])).toBe(2);
    expect(await run(['admin', 'create', '--email', 'a@b.fr', '--name', 'A', '--admin', 'yes'])).toBe(2);
    expect(await run(['frobnicate'])).toBe(2);
    const platform = await openPlatform(config());
    try {
      expect(await platform.identity.listAgents()).toEqual([]);
    } finally {
      await platform.close();
    }
  });

  it('refuses a duplicate administrator', async () => {
    expect(await run(['admin', 'create', '--email', 'dup@x.fr', '--name', 'Dup'])).toBe(0);
    expect(await run(['admin', 'create', '--email', 'dup@x.fr', '--name', 'Dup'])).toBe(2);
    expect(err.join('\n')).toMatch(/already exists/);
  });

  it('goes through the running server when one holds the data directory', async () => {
    const server = await serve(config());
    try {
      expect(await run(['admin', 'create', '--email', 'live@x.fr', '--name', 'Live Admin'])).toBe(0);
      expect(out.join('\n')).toMatch(/\/enrol\//);
      expect((await server.platform.identity.listAgents()).map((a) => a.email)).toEqual(['live@x.fr']);
      expect(await run(['audit', 'verify'])).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('rempart audit verify', () => {
  it('passes on an intact log and fails naming the first altered entry', async () => {
    for (const email of ['a@x.fr', 'b@x.fr', 'c@x.fr']) {
      expect(await run(['admin', 'create', '--email', email, '--name', 'Someone'])).toBe(0);
    }
    expect(await run(['audit', 'verify'])).toBe(0);
    expect(out.at(-1)).toMatch(/intact: 3 entries/);

    const platform = await openPlatform(config());
    await platform.database.db.execute(
      `update audit_log set details = '{"email":"mallory@x.fr"}' where seq = 2`,
    );
    await platform.close();

    expect(await run(['audit', 'verify'])).toBe(1);
    expect(err.at(-1)).toMatch(/BROKEN at entry #2/);
  });
});

// Each run of the command starts its own OCR workers and reads real pictures: on a loaded
// machine that takes well over the default 30 s for the tests that run it twice.
describe('rempart leakcheck', { timeout: 120_000 }, () => {
  /** An invitation rendered to PNG, a clean agenda, a truncated JPEG and a text file, in a folder of their own. */
  async function pictures() {
    const dir = mkdtempSync(join(tmpdir(), 'rempart-pictures-'));
    const page = (lines: string[]) =>
      sharp(
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="1400" height="500"><rect width="1400" height="500" fill="#fff"/>${lines
            .map(
              (l, i) =>
                `<text x="60" y="${100 + i * 70}" font-family="Liberation Sans" font-size="30">${l}</text>`,
            )
            .join('')}</svg>`,
        ),
      );
    const invitation = join(dir, 'invitation.png');
    await page([
      'Join Zoom Meeting',
      'https://us06web.zoom.us/j/83412297761',
      'Meeting ID: 834 1229 7761',
      'Passcode: 603915',
    ])
      .png()
      .toFile(invitation);
    const agenda = join(dir, 'agenda.png');
    await page(['Ordre du jour', '14:00 Point budgétaire 2027', '15:30 Salle 4.12']).png().toFile(agenda);
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, (await page(['Cut']).jpeg().toBuffer()).subarray(0, 700));
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not an image');
    return { dir, invitation, agenda, truncated, text };
  }

  it('prints each finding as JSON, writes the redacted copies, and exits 1', async () => {
    const p = await pictures();
    const outDir = join(p.dir, 'redacted');
    try {
      expect(await run(['leakcheck', p.invitation, p.agenda, '--json', '--redact', outDir])).toBe(1);
      const reports = JSON.parse(out.join('\n')) as {
        file: string;
        findings: {
          kind: string;
          text: string;
          box: { x: number; y: number; width: number; height: number } | null;
          reason: string;
        }[];
        redacted?: string;
      }[];
      expect(reports.map((r) => r.file)).toEqual([p.invitation, p.agenda]);
      const [invitation, agenda] = reports;
      expect(invitation?.findings.map((f) => f.kind)).toEqual(['meeting_link', 'meeting_id', 'passcode']);
      expect(invitation?.findings[2]).toMatchObject({
        text: '603915',
        reason: expect.stringMatching(/passcode/i) as unknown,
      });
      expect(invitation?.findings.every((f) => f.box && f.box.width > 0)).toBe(true);
      expect(agenda?.findings).toEqual([]);
      for (const report of reports) {
        expect(report.redacted).toBe(
          join(outDir, report.file === p.invitation ? 'invitation.png' : 'agenda.png'),
        );
        expect((await sharp(readFileSync(report.redacted ?? '')).metadata()).format).toBe('png');
      }
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  it('exits 0 when nothing is found, and 2 on an unreadable file or bad usage', async () => {
    const p = await pictures();
    try {
      expect(await run(['leakcheck', p.agenda])).toBe(0);
      expect(out.join('\n')).toMatch(/agenda\.png \(png 1400×500, [\d.]+ s\): nothing found/);
      expect(await run(['leakcheck', p.invitation, p.truncated, p.text, join(p.dir, 'missing.png')])).toBe(2);
      expect(err.join('\n')).toMatch(
        /truncated\.jpg: The image is damaged or truncated.*\(image_unreadable\)/,
      );
      expect(err.join('\n')).toMatch(/notes\.txt: The file is not an image/);
      expect(err.join('\n')).toMatch(/missing\.png: cannot read/);
      expect(out.join('\n')).toMatch(/invitation\.png .*: 3 findings/);
      expect(await run(['leakcheck'])).toBe(2);
      expect(await run(['leakcheck', p.agenda, '--redact', dirname(p.agenda)])).toBe(2);
      expect(err.at(-1)).toMatch(/would overwrite/);
      expect(await run(['leakcheck', p.agenda, '--frobnicate'])).toBe(2);
      expect(existsSync(join(p.dir, 'redacted'))).toBe(false);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  it('goes through the running server, which records the check in its audit log', async () => {
    const p = await pictures();
    const server = await serve(config());
    try {
      expect(await run(['leakcheck', p.invitation])).toBe(1);
      const entries = await server.platform.audit.list(10);
      expect(entries.find((e) => e.action === 'leakcheck.scanned')).toMatchObject({
        ip: 'local',
        details: { format: 'png', findings: { meeting_link: 1, meeting_id: 1, passcode: 1 } },
      });
    } finally {
      await server.close();
      rmSync(p.dir, { recursive: true, force: true });
    }
  });
});

describe('rempart dns', () => {
  beforeEach(() => {
    // No test reaches a real resolver (nothing listens on port 1 of loopback).
    process.env.REMPART_DNS_UPSTREAMS = '127.0.0.1:1';
  });

  it('explains a verdict: blocked by the TikTok category for the default group, exit 1; allowed, exit 0', async () => {
    expect(await run(['dns', 'test', 'www.TikTok.com.', '--client', '10.20.30.40'])).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/www\.tiktok\.com for 10\.20\.30\.40: BLOCKED/);
    expect(text).toMatch(/group: Default \(default\)/);
    expect(text).toMatch(/decided by: block by category tiktok-bytedance, line \d+: tiktok\.com/);
    out = [];
    expect(await run(['dns', 'test', 'www.interieur.gouv.fr'])).toBe(0);
    expect(out.join('\n')).toMatch(/allowed/);
    expect(out.join('\n')).toMatch(/no rule matches this name/);
  });

  it('refuses a bad domain, client or option with exit status 2', async () => {
    expect(await run(['dns', 'test'])).toBe(2);
    expect(await run(['dns', 'test', 'a.fr', '--client', 'not-an-ip'])).toBe(2);
    expect(await run(['dns', 'test', 'a.fr', 'b.fr'])).toBe(2);
    expect(await run(['dns', 'serve', '--port', '70000'])).toBe(2);
    expect(await run(['dns', 'serve', '--upstream', 'a b'])).toBe(2);
    expect(await run(['dns', 'frobnicate'])).toBe(2);
  });

  it('serves DNS alone with a block list from a file, until stopped', async () => {
    const list = join(process.env.REMPART_DATA_DIR ?? '', 'extra.txt');
    writeFileSync(list, '0.0.0.0 intranet-leak.example\n');
    const stop = new AbortController();
    const serving = run(['dns', 'serve', '--port', '0', '--list', list], { stop: stop.signal });
    await vi.waitFor(() => expect(out.join('\n')).toMatch(/answering on udp:\/\/127\.0\.0\.1:\d+/), {
      timeout: 30_000,
    });
    const port = Number(/udp:\/\/127\.0\.0\.1:(\d+)/.exec(out.join('\n'))?.[1]);
    expect(out.join('\n')).toMatch(/Lists for this run: .*extra\.txt \(block\)/);
    expect((await ask(port, 'intranet-leak.example')).rcode).toBe('NXDOMAIN');
    expect((await ask(port, 'tiktok.com')).rcode).toBe('NXDOMAIN');
    // Allowed, but the only upstream is down: SERVFAIL, quickly.
    expect((await ask(port, 'www.example')).rcode).toBe('SERVFAIL');
    stop.abort();
    expect(await serving).toBe(0);
  });
});

describe('rempart dns serve --replica-of', () => {
  it('refuses --name alone, a missing secret, and a platform that cannot be reached', async () => {
    expect(await run(['dns', 'serve', '--port', '0', '--name', 'site-b'])).toBe(2);
    expect(await run(['dns', 'serve', '--port', '0', '--replica-of', 'http://127.0.0.1:9'])).toBe(2);
    expect(err.join('\n')).toMatch(/REMPART_DNS_REPLICA_TOKEN/);
    process.env.REMPART_DNS_REPLICA_TOKEN = 'cli-replica-secret-0123456789abcdefghij';
    expect(await run(['dns', 'serve', '--port', '0', '--replica-of', 'http://127.0.0.1:9'])).toBe(1);
    expect(err.join('\n'), err.join('\n')).toMatch(/cannot be reached: ECONNREFUSED/);
    const missing = join(process.env.REMPART_DATA_DIR ?? '', 'missing.txt');
    expect(
      await run(['dns', 'serve', '--port', '0', '--replica-of', 'http://127.0.0.1:9', '--list', missing]),
    ).toBe(2);
    expect(err.join('\n')).toMatch(/The list file .*missing\.txt cannot be read: ENOENT/);
  });

  it("answers with a running platform's policy, until stopped", async () => {
    process.env.REMPART_DNS_REPLICA_TOKEN = 'cli-replica-secret-0123456789abcdefghij';
    process.env.REMPART_HOST = '127.0.0.1';
    const server = await serve(config());
    const stop = new AbortController();
    try {
      const serving = run(
        [
          'dns',
          'serve',
          '--port',
          '0',
          '--upstream',
          '127.0.0.1:9',
          '--replica-of',
          server.url.replace('localhost', '127.0.0.1'),
          '--name',
          'site-b',
        ],
        { stop: stop.signal },
      );
      await vi.waitFor(
        () => expect(out.join('\n')).toMatch(/replica of .* is answering on udp:\/\/127\.0\.0\.1:\d+/),
        {
          timeout: 30_000,
        },
      );
      expect(out.join('\n')).toMatch(/Policy \S+: 1 groups, 0 lists/);
      const port = Number(/udp:\/\/127\.0\.0\.1:(\d+)/.exec(out.join('\n'))?.[1]);
      expect((await ask(port, 'www.tiktok.com')).rcode).toBe('NXDOMAIN');
      expect((await ask(port, 'www.example')).rcode).toBe('SERVFAIL');
      stop.abort();
      expect(await serving).toBe(0);
    } finally {
      stop.abort();
      await server.close();
    }
  });
});

describe('rempart policy export', () => {
  it("writes the default group's Apple profile and Android policy to standard output", async () => {
    process.env.REMPART_PUBLIC_URL = 'https://rempart.interieur.gouv.fr';
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    expect(await run(['policy', 'export', '--platform', 'ios'])).toBe(0);
    expect(written.join('')).toMatch(/<string>com\.zhiliaoapp\.musically<\/string>/);
    expect(written.join('')).toMatch(/https:\/\/rempart\.interieur\.gouv\.fr\/dns-query/);
    written.length = 0;
    expect(await run(['policy', 'export', '--platform', 'android', '--group', 'default'])).toBe(0);
    const policy = JSON.parse(written.join('')) as {
      applications: { packageName: string; installType: string }[];
    };
    expect(policy.applications).toContainEqual({
      packageName: 'com.ss.android.ugc.trill',
      installType: 'BLOCKED',
    });
  });

  it('refuses an unknown platform or group, and a server without https', async () => {
    expect(await run(['policy', 'export', '--platform', 'windows'])).toBe(2);
    process.env.REMPART_PUBLIC_URL = 'https://rempart.interieur.gouv.fr';
    expect(await run(['policy', 'export', '--platform', 'ios', '--group', 'nobody'])).toBe(2);
    expect(err.join('\n')).toMatch(/not_found/);
    delete process.env.REMPART_PUBLIC_URL;
    expect(await run(['policy', 'export', '--platform', 'ios'])).toBe(2);
    expect(err.join('\n')).toMatch(/https/);
  });
});
