import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@rempart/core';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from './serve.js';
import { resetPostgres, testDatabaseUrl } from './test-support/platform.js';

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
});
