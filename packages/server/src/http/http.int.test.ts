import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { enrolWithTotp, type HttpAgent } from '../test-support/http-agent.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';

let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;

beforeAll(async () => {
  platform = await openTestPlatform();
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'root@x.gouv.fr', role: 'admin' }));
});
afterAll(async () => {
  await app.close();
  await platform.close();
});

const raw = (method: 'POST' | 'GET', url: string, payload?: string, contentType = 'application/json') =>
  app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload, headers: { 'content-type': contentType } }),
  });

function expectErrorBody(body: string, code: string): void {
  const json = JSON.parse(body) as { error: { code: string; message: string } };
  expect(json.error.code).toBe(code);
  expect(json.error.message).toBeTruthy();
  expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
}

describe('the HTTP edge', () => {
  it('answers health checks', async () => {
    const res = await raw('GET', '/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document listing the identity routes', async () => {
    const res = await raw('GET', '/api/openapi.json');
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/password',
        '/api/auth/totp',
        '/api/admin/agents',
        '/api/audit/verify',
        '/api/alerts',
      ]),
    );
  });

  it('sends a strict Content-Security-Policy and the usual security headers', async () => {
    const res = await raw('GET', '/api/session');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('refuses malformed JSON with invalid_json', async () => {
    const res = await raw('POST', '/api/auth/password', '{"email": "a@b.fr", ');
    expect(res.statusCode).toBe(400);
    expectErrorBody(res.body, 'invalid_json');
  });

  it('refuses a prototype-polluting body', async () => {
    const res = await raw(
      'POST',
      '/api/auth/password',
      '{"__proto__": {"admin": true}, "email": "a@b.fr", "password": "x"}',
    );
    expect(res.statusCode).toBe(400);
  });

  it('refuses an oversized body with payload_too_large', async () => {
    const res = await raw(
      'POST',
      '/api/auth/password',
      JSON.stringify({ email: 'a@b.fr', password: 'x'.repeat(100_000) }),
    );
    expect(res.statusCode).toBe(413);
    expectErrorBody(res.body, 'payload_too_large');
  });

  it('refuses a body that is not JSON with unsupported_media_type', async () => {
    const res = await raw(
      'POST',
      '/api/auth/password',
      'email=a@b.fr&password=x',
      'application/x-www-form-urlencoded',
    );
    expect(res.statusCode).toBe(415);
    expectErrorBody(res.body, 'unsupported_media_type');
  });

  it('refuses wrong types and unknown fields with validation_failed naming the field', async () => {
    const res = await raw('POST', '/api/auth/password', JSON.stringify({ email: 42, password: ['x'] }));
    expect(res.statusCode).toBe(400);
    expectErrorBody(res.body, 'validation_failed');
    const extra = await raw(
      'POST',
      '/api/auth/password',
      JSON.stringify({ email: 'a@b.fr', password: 'x', admin: true }),
    );
    expect(extra.statusCode).toBe(400);
  });

  it('answers unknown API routes with not_found', async () => {
    const res = await raw('GET', '/api/nothing-here');
    expect(res.statusCode).toBe(404);
    expectErrorBody(res.body, 'not_found');
  });

  it('refuses a malformed id with validation_failed', async () => {
    const res = await admin.post('/api/admin/agents/not-a-uuid/disable');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
  });

  it('answers any JSON body on the sign-in routes with a 4xx and a stable code, changing nothing (property)', async () => {
    const before = (await platform.audit.list(500)).length;
    const agentsBefore = (await platform.identity.listAgents()).length;
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/api/auth/password',
          '/api/enrolment/password',
          '/api/auth/recovery',
          '/api/auth/webauthn/finish',
          '/api/admin/agents',
        ),
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        async (url, payload) => {
          const res = await app.inject({
            method: 'POST',
            url,
            payload,
            headers: { 'content-type': 'application/json' },
          });
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          const body = res.json<{ error: { code: string } }>();
          codes.add(body.error.code);
        },
      ),
      { numRuns: 300 },
    );
    expect([...codes].every((c) => /^[a-z_]+$/.test(c))).toBe(true);
    // Garbage writes no agent; only throttled sign-in failures may have been audited.
    expect((await platform.identity.listAgents()).length).toBe(agentsBefore);
    const after = await platform.audit.list(500);
    expect(after.slice(0, after.length - before).every((e) => e.outcome !== 'success')).toBe(true);
  });

  it('answers fuzzed admin invitations from a signed-in administrator with 4xx or a valid agent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            email: fc.oneof(fc.emailAddress(), fc.string()),
            displayName: fc.string({ maxLength: 200 }),
            unit: fc.oneof(fc.string(), fc.integer()),
            role: fc.oneof(fc.constantFrom('admin', 'host', 'agent'), fc.string()),
            clearance: fc.oneof(fc.constantFrom('public', 'internal', 'restricted', 'secret'), fc.string()),
          },
          { requiredKeys: [] },
        ),
        async (body) => {
          const res = await admin.post('/api/admin/agents', body);
          if (res.status === 201) {
            expect(res.json.agent.email).toBe(String(body.email).trim().toLowerCase());
          } else {
            expect([400, 409]).toContain(res.status);
            expect(res.json.error.code).toMatch(/^(validation_failed|conflict)$/);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
