import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';

let platform: TestPlatform;
let app: FastifyInstance;
let webRoot: string;

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), 'rempart-web-'));
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(webRoot, 'assets', 'index-aaaa.js'), 'console.log(1)');
  platform = await openTestPlatform();
  app = await buildApp(platform, { webRoot });
});
afterAll(async () => {
  await app.close();
  await platform.close();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('console files', () => {
  it('serves client-side routes as the console page', async () => {
    for (const url of ['/', '/account', '/enrol/abc?x=1', '/admin/agents']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('<title>console</title>');
    }
  });

  it('serves assets, including ones written after start by a rebuild', async () => {
    expect((await app.inject({ method: 'GET', url: '/assets/index-aaaa.js' })).body).toBe('console.log(1)');
    writeFileSync(join(webRoot, 'assets', 'index-bbbb.js'), 'console.log(2)');
    const later = await app.inject({ method: 'GET', url: '/assets/index-bbbb.js' });
    expect(later.statusCode).toBe(200);
    expect(later.body).toBe('console.log(2)');
  });

  it('answers a missing file with a JSON 404 rather than the console page', async () => {
    for (const url of ['/assets/index-gone.js', '/favicon.ico', '/robots.txt', '/api/nothing']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('does not serve files outside the console directory', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/..%2f..%2fetc%2fpasswd' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('root:');
  });
});
