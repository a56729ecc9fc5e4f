import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { enrolWithTotp, HttpAgent, STRONG_PASSWORD } from '../test-support/http-agent.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { totpCodeAt } from './totp.js';

let platform: TestPlatform;
let app: FastifyInstance;

beforeEach(async () => {
  platform = await openTestPlatform();
  app = await buildApp(platform, { webRoot: '/nonexistent' });
});

afterEach(async () => {
  await app.close();
  await platform.close();
});

async function signIn(email: string, secret: string, ip?: string): Promise<HttpAgent> {
  const agent = new HttpAgent(app, ip);
  const first = await agent.post('/api/auth/password', { email, password: STRONG_PASSWORD });
  expect(first.status).toBe(200);
  expect(first.json.next).toBe('mfa');
  const second = await agent.post('/api/auth/totp', { code: await totpCodeAt(secret, platform.clock.now()) });
  expect(second.status).toBe(200);
  expect(second.json.next).toBe('done');
  return agent;
}

describe('enrolment', () => {
  it('walks an invited agent from link to a full session with TOTP and ten recovery codes', async () => {
    const link = await platform.identity.inviteAgent(
      null,
      {
        email: 'claire.martin@interieur.gouv.fr',
        displayName: 'Claire Martin',
        unit: 'DNUM',
        role: 'admin',
        clearance: 'secret',
      },
      { ip: 'local', userAgent: 'cli' },
    );
    const token = link.enrolmentUrl.split('/enrol/')[1] ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const agent = new HttpAgent(app);

    const info = await agent.get(`/api/enrolment/${token}`);
    expect(info.json).toMatchObject({
      email: 'claire.martin@interieur.gouv.fr',
      displayName: 'Claire Martin',
    });

    expect((await agent.post('/api/enrolment/password', { token, password: 'short' })).json.error.code).toBe(
      'weak_password',
    );
    expect(
      (await agent.post('/api/enrolment/password', { token, password: 'qwerty123456' })).json.error.code,
    ).toBe('common_password');
    expect(
      (await agent.post('/api/enrolment/password', { token, password: 'Motdepasse2024!' })).json.error.code,
    ).toBe('common_password');

    const set = await agent.post('/api/enrolment/password', { token, password: STRONG_PASSWORD });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ next: 'enrol', session: { stage: 'enrol' } });

    // Until a factor is enrolled, the session can do nothing but enrol.
    expect((await agent.get('/api/me')).json.error.code).toBe('enrolment_required');
    expect((await agent.get('/api/admin/agents')).json.error.code).toBe('enrolment_required');

    const begin = await agent.post('/api/me/factors/totp/begin');
    expect(begin.json.otpauthUri).toContain('otpauth://totp/');
    expect((await agent.post('/api/me/factors/totp/confirm', { code: '000000' })).json.error.code).toBe(
      'totp_invalid',
    );
    const confirm = await agent.post('/api/me/factors/totp/confirm', {
      code: await totpCodeAt(begin.json.secret as string, platform.clock.now()),
    });
    expect(confirm.status).toBe(200);
    const codes = confirm.json.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);

    const me = await agent.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.json.agent).toMatchObject({ status: 'active', factorCount: 1 });
    expect(me.json.recoveryCodesLeft).toBe(10);
  });

  it('refuses an enrolment link a second time', async () => {
    const { token } = await enrolWithTotp(platform, app, { email: 'a@x.gouv.fr' });
    const again = await new HttpAgent(app).post('/api/enrolment/password', {
      token,
      password: STRONG_PASSWORD,
    });
    expect(again.status).toBe(410);
    expect(again.json.error.code).toBe('enrolment_invalid');
  });

  it('refuses an enrolment link after 24 hours', async () => {
    const link = await platform.identity.inviteAgent(
      null,
      { email: 'late@x.gouv.fr', displayName: 'Late', unit: '', role: 'agent', clearance: 'internal' },
      { ip: 'local', userAgent: 'cli' },
    );
    platform.clock.advance(24 * 3600 * 1000 + 1000);
    const token = link.enrolmentUrl.split('/enrol/')[1] ?? '';
    expect((await new HttpAgent(app).get(`/api/enrolment/${token}`)).status).toBe(410);
  });

  it('does not store secrets in clear', async () => {
    const { secret, recoveryCodes } = await enrolWithTotp(platform, app, { email: 'b@x.gouv.fr' });
    const dump = JSON.stringify(
      await platform.database.db.execute(
        'select f.totp_secret_sealed, r.code_hash, s.token_hash, a.password_hash from factors f, recovery_codes r, sessions s, agents a',
      ),
    );
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(recoveryCodes[0]?.replace('-', ''));
    expect(dump).toContain('$argon2id$');
  });
});

describe('sign-in', () => {
  it('needs the password and then a TOTP code, and refuses a code used before (RFC 6238 §5.2)', async () => {
    const { secret } = await enrolWithTotp(platform, app, { email: 'c@x.gouv.fr' });
    const agent = new HttpAgent(app);
    await agent.post('/api/auth/password', { email: 'C@X.gouv.fr', password: STRONG_PASSWORD });
    // A password-only session can do nothing but finish the second step.
    expect((await agent.get('/api/me')).json.error.code).toBe('mfa_required');
    const code = await totpCodeAt(secret, platform.clock.now());
    expect((await agent.post('/api/auth/totp', { code })).status).toBe(200);

    const other = new HttpAgent(app);
    await other.post('/api/auth/password', { email: 'c@x.gouv.fr', password: STRONG_PASSWORD });
    const replay = await other.post('/api/auth/totp', { code });
    expect(replay.status).toBe(400);
    expect(replay.json.error.code).toBe('totp_reused');
  });

  it('accepts a code one step early or late, not two', async () => {
    const { secret } = await enrolWithTotp(platform, app, { email: 'd@x.gouv.fr' });
    const agent = new HttpAgent(app);
    await agent.post('/api/auth/password', { email: 'd@x.gouv.fr', password: STRONG_PASSWORD });
    const now = platform.clock.now().getTime();
    const twoAhead = await totpCodeAt(secret, new Date(now + 60_000));
    expect((await agent.post('/api/auth/totp', { code: twoAhead })).json.error.code).toBe('totp_invalid');
    const oneBehind = await totpCodeAt(secret, new Date(now - 30_000));
    // The enrolment used the step before the current one, so one step behind is a replay here;
    // one step ahead is valid.
    expect((await agent.post('/api/auth/totp', { code: oneBehind })).json.error.code).toBe('totp_reused');
    const oneAhead = await totpCodeAt(secret, new Date(now + 30_000));
    expect((await agent.post('/api/auth/totp', { code: oneAhead })).status).toBe(200);
  });

  it('answers the same way for an unknown email and a wrong password', async () => {
    await enrolWithTotp(platform, app, { email: 'e@x.gouv.fr' });
    const unknown = await new HttpAgent(app).post('/api/auth/password', {
      email: 'nobody@x.gouv.fr',
      password: STRONG_PASSWORD,
    });
    const wrong = await new HttpAgent(app).post('/api/auth/password', {
      email: 'e@x.gouv.fr',
      password: 'not the password at all',
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json);
  });

  it('locks an account after repeated wrong passwords, raises an alert and audits the lock', async () => {
    const { secret } = await enrolWithTotp(platform, app, { email: 'f@x.gouv.fr' });
    const attacker = new HttpAgent(app, '203.0.113.66');
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await attacker.post('/api/auth/password', {
        email: 'f@x.gouv.fr',
        password: `wrong-password-${i}`,
      });
      codes.push(res.json.error.code as string);
      platform.clock.advance(31_000);
    }
    expect(codes).toEqual(Array(5).fill('invalid_credentials'));
    // Locked: even the right password is refused now, with a delay rather than a verdict.
    const locked = await new HttpAgent(app).post('/api/auth/password', {
      email: 'f@x.gouv.fr',
      password: STRONG_PASSWORD,
    });
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('too_many_attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);

    const alerts = await platform.alerts.list('open', 10);
    expect(alerts.some((a) => a.source === 'identity' && a.title.includes('f@x.gouv.fr'))).toBe(true);
    const audit = await platform.audit.list(100);
    expect(audit.some((e) => e.action === 'auth.locked' && e.outcome === 'denied')).toBe(true);

    platform.clock.advance(16 * 60 * 1000);
    await signIn('f@x.gouv.fr', secret);
  });

  it('slows down attempts with growing delays before the lock', async () => {
    await enrolWithTotp(platform, app, { email: 'g@x.gouv.fr' });
    const a = new HttpAgent(app, '203.0.113.67');
    await a.post('/api/auth/password', { email: 'g@x.gouv.fr', password: 'wrong-password-1' });
    await a.post('/api/auth/password', { email: 'g@x.gouv.fr', password: 'wrong-password-2' });
    await a.post('/api/auth/password', { email: 'g@x.gouv.fr', password: 'wrong-password-3' });
    const early = await a.post('/api/auth/password', { email: 'g@x.gouv.fr', password: 'wrong-password-4' });
    expect(early.json.error.code).toBe('too_many_attempts');
    platform.clock.advance(2000);
    const later = await a.post('/api/auth/password', { email: 'g@x.gouv.fr', password: 'wrong-password-4' });
    expect(later.json.error.code).toBe('invalid_credentials');
  });

  it('locks unknown emails too, so a lock reveals nothing about which accounts exist', async () => {
    const a = new HttpAgent(app, '203.0.113.68');
    for (let i = 0; i < 5; i++) {
      await a.post('/api/auth/password', { email: 'ghost@x.gouv.fr', password: `guess-number-${i}` });
      platform.clock.advance(31_000);
    }
    expect(
      (await a.post('/api/auth/password', { email: 'ghost@x.gouv.fr', password: 'guess-number-9' })).json
        .error.code,
    ).toBe('too_many_attempts');
  });

  it('limits wrong second-factor codes per account', async () => {
    await enrolWithTotp(platform, app, { email: 'h@x.gouv.fr' });
    const a = new HttpAgent(app);
    await a.post('/api/auth/password', { email: 'h@x.gouv.fr', password: STRONG_PASSWORD });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push((await a.post('/api/auth/totp', { code: String(100000 + i) })).json.error.code as string);
      platform.clock.advance(31_000);
    }
    expect(seen.slice(0, 5)).toEqual(Array(5).fill('totp_invalid'));
    expect(seen[5]).toBe('too_many_attempts');
  });

  it('signs in with a recovery code once', async () => {
    const { recoveryCodes } = await enrolWithTotp(platform, app, { email: 'i@x.gouv.fr' });
    const code = recoveryCodes[0] ?? '';
    const a = new HttpAgent(app);
    await a.post('/api/auth/password', { email: 'i@x.gouv.fr', password: STRONG_PASSWORD });
    expect((await a.post('/api/auth/recovery', { code: code.toUpperCase() })).status).toBe(200);
    expect((await a.get('/api/me')).json.recoveryCodesLeft).toBe(9);
    const b = new HttpAgent(app);
    await b.post('/api/auth/password', { email: 'i@x.gouv.fr', password: STRONG_PASSWORD });
    expect((await b.post('/api/auth/recovery', { code })).json.error.code).toBe('recovery_invalid');
  });
});

describe('sessions', () => {
  it('ends after 30 minutes idle', async () => {
    const { agent } = await enrolWithTotp(platform, app, { email: 'j@x.gouv.fr' });
    platform.clock.advance(29 * 60 * 1000);
    expect((await agent.get('/api/me')).status).toBe(200);
    platform.clock.advance(29 * 60 * 1000);
    expect((await agent.get('/api/me')).status).toBe(200);
    platform.clock.advance(31 * 60 * 1000);
    expect((await agent.get('/api/me')).json.error.code).toBe('unauthenticated');
  });

  it('ends 12 hours after sign-in however active', async () => {
    const { agent } = await enrolWithTotp(platform, app, { email: 'k@x.gouv.fr' });
    // 25 × 29 minutes: never idle for 30 minutes, but past 12 hours in all.
    for (let i = 0; i < 25; i++) {
      platform.clock.advance(29 * 60 * 1000);
      await agent.get('/api/me');
    }
    expect((await agent.get('/api/me')).json.error.code).toBe('unauthenticated');
  });

  it('lists my sessions and a revoked one is signed out at its next request', async () => {
    const { agent: laptop, secret } = await enrolWithTotp(platform, app, { email: 'l@x.gouv.fr' });
    const phone = await signIn('l@x.gouv.fr', secret, '192.0.2.10');
    const list = await laptop.get('/api/me/sessions');
    expect(list.json.sessions).toHaveLength(2);
    const phoneSession = (list.json.sessions as { id: string; current: boolean; ip: string }[]).find(
      (s) => !s.current,
    );
    expect(phoneSession?.ip).toBe('192.0.2.10');
    expect((await laptop.delete(`/api/me/sessions/${phoneSession?.id}`)).status).toBe(204);
    const after = await phone.get('/api/me');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('unauthenticated');
    expect(String(after.headers['set-cookie'])).toMatch(/rempart_session=;/);
  });

  it('tells a page that loads with an ended session that it has ended, once', async () => {
    const { agent: laptop, secret } = await enrolWithTotp(platform, app, { email: 'l2@x.gouv.fr' });
    const phone = await signIn('l2@x.gouv.fr', secret, '192.0.2.11');
    expect((await phone.get('/api/session')).json).toMatchObject({ authenticated: true });
    const list = await laptop.get('/api/me/sessions');
    const other = (list.json.sessions as { id: string; current: boolean }[]).find((s) => !s.current);
    expect((await laptop.delete(`/api/me/sessions/${other?.id}`)).status).toBe(204);
    expect((await phone.get('/api/session')).json).toEqual({ authenticated: false, ended: true });
    // The cookie was cleared with that answer: the next page load is a plain signed-out one.
    expect(phone.cookie).toBeUndefined();
    expect((await phone.get('/api/session')).json).toEqual({ authenticated: false });
  });

  it('sets the cookie httpOnly and SameSite=Strict, and changes the token when the session is upgraded', async () => {
    const { secret } = await enrolWithTotp(platform, app, { email: 'm@x.gouv.fr' });
    const a = new HttpAgent(app);
    const first = await a.post('/api/auth/password', { email: 'm@x.gouv.fr', password: STRONG_PASSWORD });
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    const before = a.cookie;
    await a.post('/api/auth/totp', { code: await totpCodeAt(secret, platform.clock.now()) });
    expect(a.cookie).toBeDefined();
    expect(a.cookie).not.toBe(before);
    // The pre-MFA token no longer opens anything.
    const stale = new HttpAgent(app);
    stale.cookie = before;
    expect((await stale.get('/api/session')).json).toEqual({ authenticated: false, ended: true });
  });

  it('refuses a state-changing request without the anti-forgery token, or from another origin', async () => {
    const { agent } = await enrolWithTotp(platform, app, { email: 'n@x.gouv.fr' });
    const csrf = agent.csrf;
    agent.csrf = undefined;
    expect((await agent.post('/api/me/recovery-codes')).json.error.code).toBe('csrf_failed');
    agent.csrf = 'A'.repeat(43);
    expect((await agent.post('/api/me/recovery-codes')).json.error.code).toBe('csrf_failed');
    agent.csrf = csrf;
    const cross = await agent.request(
      'POST',
      '/api/me/recovery-codes',
      {},
      { origin: 'https://evil.example' },
    );
    expect(cross.status).toBe(403);
    expect(cross.json.error.code).toBe('csrf_failed');
    expect((await agent.post('/api/me/recovery-codes')).status).toBe(200);
  });
});

describe('administration', () => {
  it('lets an administrator invite an agent, and refuses the same to a plain agent', async () => {
    const { agent: admin } = await enrolWithTotp(platform, app, { email: 'admin@x.gouv.fr', role: 'admin' });
    const invite = await admin.post('/api/admin/agents', {
      email: 'New.Agent@x.gouv.fr',
      displayName: 'New Agent',
      unit: 'SG',
      role: 'host',
      clearance: 'restricted',
    });
    expect(invite.status).toBe(201);
    expect(invite.json.agent).toMatchObject({
      email: 'new.agent@x.gouv.fr',
      role: 'host',
      clearance: 'restricted',
      status: 'pending',
    });
    expect(invite.json.enrolmentUrl).toMatch(/\/enrol\/[A-Za-z0-9_-]{43}$/);
    const dup = await admin.post('/api/admin/agents', { email: 'new.agent@x.gouv.fr', displayName: 'Again' });
    expect(dup.json.error.code).toBe('conflict');

    const { agent: plain } = await enrolWithTotp(platform, app, { email: 'plain@x.gouv.fr' });
    expect((await plain.get('/api/admin/agents')).status).toBe(403);
    expect(
      (await plain.post('/api/admin/agents', { email: 'z@x.gouv.fr', displayName: 'Z' })).json.error.code,
    ).toBe('forbidden');
  });

  it('disabling an agent ends all their sessions at once', async () => {
    const { agent: admin } = await enrolWithTotp(platform, app, { email: 'admin2@x.gouv.fr', role: 'admin' });
    const {
      agent: target,
      agentId,
      secret,
    } = await enrolWithTotp(platform, app, { email: 'target@x.gouv.fr' });
    const second = await signIn('target@x.gouv.fr', secret);
    expect((await admin.post(`/api/admin/agents/${agentId}/disable`)).json.agent.status).toBe('disabled');
    expect((await target.get('/api/me')).status).toBe(401);
    expect((await second.get('/api/me')).status).toBe(401);
    const again = await new HttpAgent(app).post('/api/auth/password', {
      email: 'target@x.gouv.fr',
      password: STRONG_PASSWORD,
    });
    expect(again.json.error.code).toBe('invalid_credentials');
  });

  it("resetting an agent's MFA needs the administrator's fresh MFA and a new enrolment", async () => {
    const { agent: admin, secret: adminSecret } = await enrolWithTotp(platform, app, {
      email: 'admin3@x.gouv.fr',
      role: 'admin',
    });
    const { agent: target, agentId } = await enrolWithTotp(platform, app, { email: 'lost-phone@x.gouv.fr' });
    platform.clock.advance(6 * 60 * 1000);
    await admin.get('/api/me');
    const stale = await admin.post(`/api/admin/agents/${agentId}/reset-mfa`);
    expect(stale.status).toBe(403);
    expect(stale.json.error.code).toBe('step_up_required');

    expect(
      (await admin.post('/api/auth/totp', { code: await totpCodeAt(adminSecret, platform.clock.now()) }))
        .status,
    ).toBe(200);
    const reset = await admin.post(`/api/admin/agents/${agentId}/reset-mfa`);
    expect(reset.status).toBe(200);
    expect(reset.json.agent).toMatchObject({ status: 'pending', factorCount: 0 });
    expect((await target.get('/api/me')).status).toBe(401);
    // The old password no longer works: the agent enrols again from the new link.
    const old = await new HttpAgent(app).post('/api/auth/password', {
      email: 'lost-phone@x.gouv.fr',
      password: STRONG_PASSWORD,
    });
    expect(old.json.error.code).toBe('invalid_credentials');
    const token = (reset.json.enrolmentUrl as string).split('/enrol/')[1];
    expect((await new HttpAgent(app).get(`/api/enrolment/${token}`)).status).toBe(200);

    const log = await platform.audit.list(200);
    expect(log.find((e) => e.action === 'agent.mfa_reset')).toMatchObject({
      actor: 'admin3@x.gouv.fr',
      targetId: agentId,
    });
  });

  it('writes every authentication event to the audit log, never a secret', async () => {
    const { secret, recoveryCodes } = await enrolWithTotp(platform, app, { email: 'o@x.gouv.fr' });
    await new HttpAgent(app).post('/api/auth/password', {
      email: 'o@x.gouv.fr',
      password: 'a-wrong-password-here',
    });
    await signIn('o@x.gouv.fr', secret);
    const log = await platform.audit.list(200);
    const actions = log.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'agent.invited:success',
        'enrolment.password_set:success',
        'factor.added:success',
        'enrolment.completed:success',
        'auth.password:failure',
        'auth.password:success',
        'auth.totp:success',
      ]),
    );
    const text = JSON.stringify(log);
    expect(text).not.toContain(STRONG_PASSWORD);
    expect(text).not.toContain('a-wrong-password-here');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(recoveryCodes[1]);
    expect((await platform.audit.verify()).ok).toBe(true);
  });
});
