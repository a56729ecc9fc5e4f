/** `rempart mail dovecot-config`: the files an operator installs, and bad input refused before any is written. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from './main.js';

const TOKEN = 'mail-gateway-token-for-the-cli-0123456789';
let out: string[];
let err: string[];
let dir: string;
const saved = { ...process.env };

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  dir = mkdtempSync(join(tmpdir(), 'rempart-mail-cli-'));
  process.env.REMPART_DATA_DIR = join(dir, 'data');
  process.env.REMPART_PUBLIC_URL = 'https://rempart.interieur.gouv.fr';
  process.env.REMPART_MAIL_GATEWAY_TOKEN = TOKEN;
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
  process.env = { ...saved };
});

describe('rempart mail dovecot-config', () => {
  it('writes dovecot.conf, the passdb (0600, with the token and the public URL) and the Postfix lines', async () => {
    const outDir = join(dir, 'out');
    expect(
      await run(['mail', 'dovecot-config', '--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000']),
    ).toBe(0);
    const dovecot = readFileSync(join(outDir, 'dovecot.conf'), 'utf8');
    expect(dovecot).toMatch(/driver = lua/);
    expect(dovecot).toContain('/etc/dovecot/rempart-passdb.lua');
    expect(dovecot).toMatch(/auth_mechanisms = .*oauthbearer/);
    const passdb = readFileSync(join(outDir, 'rempart-passdb.lua'), 'utf8');
    expect(passdb).toContain(TOKEN);
    expect(passdb).toContain('https://rempart.interieur.gouv.fr/api/mail/auth');
    expect(statSync(join(outDir, 'rempart-passdb.lua')).mode & 0o777).toBe(0o600);
    const postfix = readFileSync(join(outDir, 'postfix-submission.cf'), 'utf8');
    expect(postfix).toContain('smtpd_sasl_type=dovecot');
    expect(postfix).toContain('smtpd_sasl_path=inet:127.0.0.1:12345');
    expect(postfix).toContain('smtpd_tls_security_level=encrypt');
    expect(out.join('\n')).toContain('rempart-passdb.lua');
  });

  it('refuses bad input with exit status 2, naming it, and writes nothing', async () => {
    const outDir = join(dir, 'out');
    const cases: [string[], RegExp][] = [
      [['--mail-uid', '5000', '--mail-gid', '5000'], /--out DIR is required/],
      [['--out', outDir, '--mail-gid', '5000'], /--mail-uid and --mail-gid are required/],
      [['--out', outDir, '--mail-uid', 'x', '--mail-gid', '5000'], /--mail-uid: a whole number/],
      // IMAP without TLS stays on loopback.
      [
        ['--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000', '--listen', '192.0.2.1'],
        /listenAddress/,
      ],
      [['--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000', '--tls-cert', '/a.pem'], /go together/],
      [['--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000', '--rempart', 'ftp://x'], /rempartBase/],
      [['--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000', '--bogus'], /bogus/],
    ];
    for (const [args, message] of cases) {
      err = [];
      expect(await run(['mail', 'dovecot-config', ...args]), args.join(' ')).toBe(2);
      expect(err.join('\n'), args.join(' ')).toMatch(message);
      expect(existsSync(outDir), args.join(' ')).toBe(false);
    }
    delete process.env.REMPART_MAIL_GATEWAY_TOKEN;
    expect(
      await run(['mail', 'dovecot-config', '--out', outDir, '--mail-uid', '5000', '--mail-gid', '5000']),
    ).toBe(2);
    expect(err.join('\n')).toMatch(/REMPART_MAIL_GATEWAY_TOKEN/);
    expect(existsSync(outDir)).toBe(false);
  });
});
