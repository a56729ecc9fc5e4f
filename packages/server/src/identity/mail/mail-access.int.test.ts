/**
 * Mail passwords and the mail servers' login check, through the HTTP API: created only after a
 * fresh MFA check, shown once, kept hashed, expiring, revocable by the agent and an administrator,
 * dead with a disabled agent; OAuth access tokens with the `mail` scope; every answer audited;
 * spraying from one source raises an alert and locks the source out.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { mailPasswords } from '../../db/schema.js';
import { enrolWithTotp, STRONG_PASSWORD } from '../../test-support/http-agent.js';
import { awaitAlert, openTestPlatform, type TestPlatform } from '../../test-support/platform.js';
import { normaliseSecret } from './mail-access.service.js';

const TOKEN = 'mail-gateway-token-0123456789abcdef-XYZ';
let platform: TestPlatform;
let app: FastifyInstance;

beforeEach(async () => {
  platform = await openTestPlatform({ env: { REMPART_MAIL_GATEWAY_TOKEN: TOKEN } });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
});

afterEach(async () => {
  await app.close();
  await platform.close();
});

async function mailLogins() {
  return (await platform.audit.list(200)).filter((e) => e.action === 'mail.login').reverse();
}

async function ask(body: Record<string, unknown>, token = TOKEN) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/mail/auth',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ service: 'imap', mechanism: 'PLAIN', remoteIp: '192.0.2.10', ...body }),
  });
  return { status: res.statusCode, json: res.json<Record<string, any>>() };
}

describe('mail passwords', () => {
  it('needs a fresh MFA check, is shown once, kept hashed, and opens mail for its owner only', async () => {
    const julie = await enrolWithTotp(platform, app, { email: 'julie@interieur.gouv.fr' });
    // Enrolment's MFA check is 30 s old: fresh enough.
    const created = await julie.agent.post('/api/account/mail-passwords', { device: 'Phone', days: 30 });
    expect(created.status).toBe(201);
    const secret = created.json.secret as string;
    expect(secret).toMatch(/^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
    expect(created.json.mailPassword).toMatchObject({ device: 'Phone', status: 'active', uses: 0 });
    // Only a keyed hash is stored.
    const rows = await platform.database.db.select().from(mailPasswords);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(normaliseSecret(secret));
    // The list never shows it again.
    const listed = await julie.agent.get('/api/account/mail-passwords');
    expect(JSON.stringify(listed.json)).not.toContain(secret);

    // The account password does not open mail; the app password does, with or without dashes.
    expect(await ask({ user: 'julie@interieur.gouv.fr', password: STRONG_PASSWORD })).toMatchObject({
      status: 401,
      json: { error: { code: 'mail_auth_failed' } },
    });
    expect(await ask({ user: 'Julie@Interieur.gouv.fr', password: secret })).toEqual({
      status: 200,
      json: { user: 'julie@interieur.gouv.fr' },
    });
    expect(
      (await ask({ user: 'julie@interieur.gouv.fr', password: normaliseSecret(secret).toUpperCase() }))
        .status,
    ).toBe(200);
    // Another agent's name with Julie's secret is refused.
    await enrolWithTotp(platform, app, { email: 'marc@interieur.gouv.fr' });
    expect((await ask({ user: 'marc@interieur.gouv.fr', password: secret })).status).toBe(401);

    // The same device from another address is worth an alert.
    expect(
      (await ask({ user: 'julie@interieur.gouv.fr', password: secret, remoteIp: '198.51.100.23' })).status,
    ).toBe(200);
    const moved = await awaitAlert(
      platform,
      'Mail password "Phone" of julie@interieur.gouv.fr used from a new address',
    );
    expect(moved.details).toMatchObject({ ip: '198.51.100.23', previousIp: '192.0.2.10' });
    const after = await julie.agent.get('/api/account/mail-passwords');
    expect(after.json.mailPasswords[0]).toMatchObject({
      uses: 3,
      lastIp: '198.51.100.23',
      lastService: 'imap',
    });
    const audit = await mailLogins();
    expect(audit.map((e) => e.outcome).sort()).toEqual([
      'failure',
      'failure',
      'success',
      'success',
      'success',
    ]);
    expect(audit.find((e) => e.outcome === 'success')?.details).toMatchObject({
      device: 'Phone',
      service: 'imap',
    });
  });

  it('refuses creation without a recent MFA check', async () => {
    const julie = await enrolWithTotp(platform, app, { email: 'julie@interieur.gouv.fr' });
    platform.clock.advance(11 * 60_000);
    const res = await julie.agent.post('/api/account/mail-passwords', { device: 'Phone' });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('step_up_required');
    expect(await platform.database.db.select().from(mailPasswords)).toHaveLength(0);
  });

  it('stops working when revoked by the agent or an administrator, expired, or the agent disabled', async () => {
    const admin = await enrolWithTotp(platform, app, { email: 'admin@interieur.gouv.fr', role: 'admin' });
    const julie = await enrolWithTotp(platform, app, { email: 'julie@interieur.gouv.fr' });
    const make = async (device: string, days = 30) =>
      (await julie.agent.post('/api/account/mail-passwords', { device, days })).json as {
        secret: string;
        mailPassword: { id: string };
      };
    const phone = await make('Phone');
    const laptop = await make('Laptop');
    const tablet = await make('Tablet', 1);
    const user = 'julie@interieur.gouv.fr';
    for (const p of [phone, laptop, tablet])
      expect((await ask({ user, password: p.secret })).status).toBe(200);

    expect(
      (await julie.agent.delete(`/api/account/mail-passwords/${phone.mailPassword.id}`)).json.mailPassword
        .status,
    ).toBe('revoked');
    expect((await ask({ user, password: phone.secret })).status).toBe(401);
    // The administrator sees the devices and revokes one; another agent cannot.
    const seen = await admin.agent.get(`/api/admin/agents/${julie.agentId}/mail-passwords`);
    expect((seen.json.mailPasswords as { device: string }[]).map((p) => p.device).sort()).toEqual([
      'Laptop',
      'Phone',
      'Tablet',
    ]);
    const marc = await enrolWithTotp(platform, app, { email: 'marc@interieur.gouv.fr' });
    expect((await marc.agent.delete(`/api/account/mail-passwords/${laptop.mailPassword.id}`)).status).toBe(
      404,
    );
    expect((await admin.agent.delete(`/api/admin/mail-passwords/${laptop.mailPassword.id}`)).status).toBe(
      200,
    );
    expect((await ask({ user, password: laptop.secret })).status).toBe(401);

    // Disabling the agent kills every password at once.
    const other = await enrolWithTotp(platform, app, { email: 'paul@interieur.gouv.fr' });
    const paul = (await other.agent.post('/api/account/mail-passwords', { device: 'Phone' })).json
      .secret as string;
    expect((await ask({ user: 'paul@interieur.gouv.fr', password: paul })).status).toBe(200);
    expect((await admin.agent.post(`/api/admin/agents/${other.agentId}/disable`, {})).status).toBe(200);
    expect((await ask({ user: 'paul@interieur.gouv.fr', password: paul })).status).toBe(401);
    expect((await mailLogins()).at(-1)?.details).toMatchObject({ reason: 'agent_inactive' });

    platform.clock.advance(2 * 86_400_000);
    expect((await ask({ user, password: tablet.secret })).status).toBe(401);

    const reasons = (await mailLogins())
      .filter((e) => e.outcome === 'failure')
      .map((e) => (e.details as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['revoked', 'expired']));
  });
});

describe('the mail servers’ endpoint', () => {
  it('is closed without a token, refuses a wrong one before reading the body, and validates bodies', async () => {
    expect(await ask({ user: 'x', password: 'y' }, 'wrong-token-wrong-token-wrong-token')).toMatchObject({
      status: 401,
      json: { error: { code: 'mail_gateway_token_invalid' } },
    });
    const junk = await app.inject({
      method: 'POST',
      url: '/api/mail/auth',
      headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
      payload: '{"user":',
    });
    expect(junk.statusCode).toBe(401);
    expect((await ask({ user: 'x' })).json.error.code).toBe('validation_failed');
    expect((await ask({ user: 'x'.repeat(400), password: 'y' })).status).toBe(400);

    const closedPlatform = await openTestPlatform();
    const closedApp = await buildApp(closedPlatform, { webRoot: '/nonexistent' });
    try {
      const res = await closedApp.inject({
        method: 'POST',
        url: '/api/mail/auth',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(404);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('mail_gateway_off');
    } finally {
      await closedApp.close();
      await closedPlatform.close();
    }
  });

  it('locks a source that sprays many accounts, with an alert, and refuses it even with a right secret', async () => {
    const julie = await enrolWithTotp(platform, app, { email: 'julie@interieur.gouv.fr' });
    const secret = (await julie.agent.post('/api/account/mail-passwords', { device: 'Phone' })).json
      .secret as string;
    const sprayer = '203.0.113.66';
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const res = await ask({
        user: `${name}@interieur.gouv.fr`,
        password: 'Spring2026!',
        remoteIp: sprayer,
      });
      expect(res.status).toBe(401);
    }
    const alert = await awaitAlert(platform, `Password spraying against mail from ${sprayer}`);
    expect(alert.severity).toBe('high');
    expect(alert.details).toMatchObject({
      ip: sprayer,
      accounts: expect.arrayContaining(['a@interieur.gouv.fr']),
    });
    const locked = await ask({ user: 'julie@interieur.gouv.fr', password: secret, remoteIp: sprayer });
    expect(locked).toMatchObject({ status: 429, json: { error: { code: 'mail_auth_throttled' } } });
    // Another address is not affected.
    expect(
      (await ask({ user: 'julie@interieur.gouv.fr', password: secret, remoteIp: '192.0.2.10' })).status,
    ).toBe(200);
    // The lock ends.
    platform.clock.advance(31 * 60_000);
    expect((await ask({ user: 'julie@interieur.gouv.fr', password: secret, remoteIp: sprayer })).status).toBe(
      200,
    );
  });
});
