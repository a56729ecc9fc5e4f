import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@rempart/core';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from './serve.js';
import { resetPostgres, testDatabaseUrl } from './test-support/platform.js';
import { loadTls } from './tls.js';

let server: RunningServer | undefined;
let dataDir: string;

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

function post(
  url: string,
  ca: string,
  body: unknown,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('rempart serve', () => {
  it('serves HTTPS with a generated self-signed certificate, a Secure __Host- cookie policy and HSTS', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rempart-tls-'));
    if (testDatabaseUrl) await resetPostgres(testDatabaseUrl);
    const parsed = parseConfig({
      REMPART_DATA_DIR: dataDir,
      REMPART_TLS: 'self-signed',
      REMPART_HOST: '127.0.0.1',
      REMPART_PORT: '0',
      REMPART_LOG_LEVEL: 'silent',
      ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
    });
    if (!parsed.ok) throw new Error(parsed.errors.join());
    server = await serve(parsed.config);
    expect(server.url).toMatch(/^https:\/\/localhost:\d+$/);
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(join(dataDir, 'tls', 'self-signed.crt'), 'utf8');
    expect(statSync(join(dataDir, 'tls', 'self-signed.key')).mode & 0o077).toBe(0);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o077).toBe(0);
    // The certificate names localhost: the default client verifies it against the generated CA.
    const res = await post(`${server.url}/api/auth/password`, ca, {
      email: 'nobody@x.gouv.fr',
      password: 'a-password-of-some-length',
    });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'invalid_credentials' } });
    expect(String(res.headers['strict-transport-security'])).toMatch(/max-age=31536000/);
    const link = await server.platform.identity.inviteAgent(
      null,
      { email: 'tls@x.gouv.fr', displayName: 'TLS', unit: '', role: 'agent', clearance: 'internal' },
      { ip: 'local', userAgent: 'test' },
    );
    const token = link.enrolmentUrl.split('/enrol/')[1];
    const set = await post(`${server.url}/api/enrolment/password`, ca, {
      token,
      password: 'correct-horse-battery-staple-42',
    });
    expect(set.status).toBe(200);
    const cookie = String(set.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-rempart_session=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\//);

    // Restarting reuses the same certificate and master key.
    const port = new URL(server.url).port;
    await server.close();
    server = await serve({ ...parsed.config, port: Number(port) });
    expect(readFileSync(join(dataDir, 'tls', 'self-signed.crt'), 'utf8')).toBe(ca);
  });

  it('receives syslog over TLS with the certificate it serves HTTPS with', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rempart-tls-syslog-'));
    if (testDatabaseUrl) await resetPostgres(testDatabaseUrl);
    const base = {
      REMPART_DATA_DIR: dataDir,
      REMPART_HOST: '127.0.0.1',
      REMPART_PORT: '0',
      REMPART_LOG_LEVEL: 'silent',
      ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
    };
    // The institution's certificate files: here one made as a self-signed start makes it.
    const made = parseConfig({ ...base, REMPART_TLS: 'self-signed' });
    if (!made.ok) throw new Error(made.errors.join());
    const files = await loadTls(made.config);
    const parsed = parseConfig({
      ...base,
      REMPART_TLS_CERT: join(dataDir, 'tls', 'self-signed.crt'),
      REMPART_TLS_KEY: join(dataDir, 'tls', 'self-signed.key'),
      REMPART_WATCH_SYSLOG_TLS: '127.0.0.1:0',
    });
    if (!parsed.ok) throw new Error(parsed.errors.join());
    server = await serve(parsed.config);
    const port = server.platform.watch.status().syslog?.tlsPort ?? 0;
    expect(port).toBeGreaterThan(0);
    // RFC 5425 framing: the length of the message, a space, the message.
    const line =
      '<38>Dec  3 05:20:21 mx1 sshd[4242]: Failed password for root from 203.0.113.9 port 51234 ssh2';
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: files?.cert, servername: 'localhost' }, () =>
        socket.end(`${Buffer.byteLength(line)} ${line}`, resolve),
      );
      socket.on('error', reject);
    });
    await expect.poll(() => server?.platform.watch.status().syslog?.messages.tls ?? 0).toBe(1);
  });
});
