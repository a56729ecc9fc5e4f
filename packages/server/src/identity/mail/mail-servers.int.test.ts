/**
 * The institution's real mail servers logging in through Rempart, on loopback: a Dovecot (IMAP)
 * whose Lua passdb asks `POST /api/mail/auth`, and a Postfix submission service authenticating
 * through Dovecot's SASL. The account password opens nothing; a mail password created after MFA
 * does, until it is revoked or its agent disabled; a Rempart access token with the `mail` scope
 * logs in with OAUTHBEARER and XOAUTH2; spraying over IMAP is alerted on, by Rempart and by the
 * server watch reading Dovecot's log, and the source is refused.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { enrolWithTotp, STRONG_PASSWORD } from '../../test-support/http-agent.js';
import { imapLogin, smtpLogin, startMailServers, type MailServers } from '../../test-support/mail-servers.js';
import { Browser, registerClient, signInTo } from '../../test-support/oidc-flow.js';
import { awaitAlert, openTestPlatform, type TestPlatform } from '../../test-support/platform.js';
import { freePort } from '../../test-support/ports.js';

const TOKEN = 'dovecot-gateway-token-0123456789-abcdefghij';
let platform: TestPlatform;
let app: FastifyInstance;
let servers: MailServers;
let base: string;
let admin: Awaited<ReturnType<typeof enrolWithTotp>>;
let julie: Awaited<ReturnType<typeof enrolWithTotp>>;
const JULIE = 'julie.bernard@interieur.gouv.fr';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  servers = await startMailServers({ rempartBase: base, token: TOKEN });
  platform = await openTestPlatform({
    env: {
      REMPART_PUBLIC_URL: base,
      REMPART_MAIL_GATEWAY_TOKEN: TOKEN,
      // The server watch follows Dovecot's log, as it would on the mail server.
      REMPART_WATCH_FILES: `${servers.dovecotLog}=dovecot`,
    },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  await app.listen({ host: '127.0.0.1', port });
  admin = await enrolWithTotp(platform, app, { email: 'admin@interieur.gouv.fr', role: 'admin' });
  julie = await enrolWithTotp(platform, app, { email: JULIE, displayName: 'Julie Bernard' });
}, 60_000);

afterAll(async () => {
  await servers?.stop();
  await app?.close();
  await platform?.close();
});

async function newMailPassword(agent: typeof julie, device: string): Promise<{ id: string; secret: string }> {
  // Each creation needs an MFA check of the last 10 minutes: the test steps up first.
  const res = await agent.agent.post('/api/account/mail-passwords', { device });
  expect(res.status).toBe(201);
  return { id: res.json.mailPassword.id as string, secret: res.json.secret as string };
}

async function mailLogins() {
  return (await platform.audit.list(500)).filter((e) => e.action === 'mail.login').reverse();
}

describe('IMAP through Rempart', () => {
  it('refuses the account password, and logs in with a mail password created after MFA', async () => {
    const refused = await imapLogin(servers.imapPort, { user: JULIE, secret: STRONG_PASSWORD });
    expect(refused.accepted).toBe(false);
    expect(refused.reply).toMatch(/NO \[AUTHENTICATIONFAILED\]/);

    const phone = await newMailPassword(julie, 'Phone');
    const ok = await imapLogin(servers.imapPort, { user: JULIE, secret: phone.secret });
    expect(ok).toMatchObject({ accepted: true });
    expect(ok.reply).toMatch(/OK/);
    // AUTHENTICATE PLAIN too.
    expect(
      (await imapLogin(servers.imapPort, { user: JULIE, secret: phone.secret, mechanism: 'PLAIN' })).accepted,
    ).toBe(true);

    const last = (await mailLogins()).at(-1);
    expect(last).toMatchObject({ outcome: 'success', ip: '127.0.0.1', actor: JULIE });
    expect(last?.details).toMatchObject({ service: 'imap', device: 'Phone' });
    const devices = await julie.agent.get('/api/account/mail-passwords');
    expect(devices.json.mailPasswords[0]).toMatchObject({ device: 'Phone', lastIp: '127.0.0.1', uses: 2 });
  });

  it('refuses a revoked password at the next login, and every password of a disabled agent', async () => {
    const laptop = await newMailPassword(julie, 'Laptop');
    expect((await imapLogin(servers.imapPort, { user: JULIE, secret: laptop.secret })).accepted).toBe(true);
    expect((await julie.agent.delete(`/api/account/mail-passwords/${laptop.id}`)).status).toBe(200);
    expect((await imapLogin(servers.imapPort, { user: JULIE, secret: laptop.secret })).accepted).toBe(false);

    const paul = await enrolWithTotp(platform, app, { email: 'paul@interieur.gouv.fr' });
    const tablet = await newMailPassword(paul, 'Tablet');
    expect(
      (await imapLogin(servers.imapPort, { user: 'paul@interieur.gouv.fr', secret: tablet.secret })).accepted,
    ).toBe(true);
    expect((await admin.agent.post(`/api/admin/agents/${paul.agentId}/disable`, {})).status).toBe(200);
    expect(
      (await imapLogin(servers.imapPort, { user: 'paul@interieur.gouv.fr', secret: tablet.secret })).accepted,
    ).toBe(false);
    expect((await mailLogins()).at(-1)?.details).toMatchObject({ reason: 'agent_inactive', service: 'imap' });
  });

  it('logs in with OAUTHBEARER and XOAUTH2 and a Rempart access token holding the mail scope', async () => {
    const rp = await registerClient(admin.agent, `${base}/oidc`, { name: 'Thunderbird' });
    const browser = new Browser(base, platform.clock);
    await browser.signIn(JULIE, julie.secret);
    const withMail = await signInTo(rp, browser, {}, 'openid email mail');
    const without = await signInTo(rp, browser, {}, 'openid email');
    if (!('tokens' in withMail) || !withMail.tokens || !('tokens' in without) || !without.tokens) {
      throw new Error('sign-in refused');
    }
    const token = withMail.tokens.access_token;
    for (const mechanism of ['OAUTHBEARER', 'XOAUTH2'] as const) {
      expect((await imapLogin(servers.imapPort, { user: JULIE, secret: token, mechanism })).accepted).toBe(
        true,
      );
    }
    expect((await mailLogins()).at(-1)?.details).toMatchObject({ mechanism: 'XOAUTH2', client: rp.clientId });
    const noScope = await imapLogin(servers.imapPort, {
      user: JULIE,
      secret: without.tokens.access_token,
      mechanism: 'OAUTHBEARER',
    });
    expect(noScope.accepted).toBe(false);
    expect(noScope.oauthError).toContain('invalid_token');
    expect((await mailLogins()).at(-1)?.details).toMatchObject({ reason: 'token_scope' });
    // Someone else's name with Julie's token is refused.
    expect(
      (
        await imapLogin(servers.imapPort, {
          user: 'admin@interieur.gouv.fr',
          secret: token,
          mechanism: 'OAUTHBEARER',
        })
      ).accepted,
    ).toBe(false);
  });
});

describe('Postfix submission through Dovecot SASL', () => {
  it('refuses the account password and accepts a mail password or an access token', async () => {
    const phone = await newMailPassword(julie, 'Phone (SMTP)');
    const refused = await smtpLogin(servers.submissionPort, { user: JULIE, secret: STRONG_PASSWORD });
    expect(refused.accepted).toBe(false);
    expect(refused.reply).toMatch(/^535 /);
    const accepted = await smtpLogin(servers.submissionPort, { user: JULIE, secret: phone.secret });
    expect(accepted.accepted).toBe(true);
    expect(accepted.reply).toMatch(/^235 /);
    expect((await mailLogins()).at(-1)?.details).toMatchObject({ service: 'smtp', device: 'Phone (SMTP)' });

    const rp = await registerClient(admin.agent, `${base}/oidc`, { name: 'Mail client' });
    const browser = new Browser(base, platform.clock);
    await browser.signIn(JULIE, julie.secret);
    const flow = await signInTo(rp, browser, {}, 'openid mail');
    if (!('tokens' in flow) || !flow.tokens) throw new Error('sign-in refused');
    const xoauth = await smtpLogin(servers.submissionPort, {
      user: JULIE,
      secret: flow.tokens.access_token,
      mechanism: 'XOAUTH2',
    });
    expect(xoauth.accepted).toBe(true);

    await julie.agent.delete(`/api/account/mail-passwords/${phone.id}`);
    expect((await smtpLogin(servers.submissionPort, { user: JULIE, secret: phone.secret })).accepted).toBe(
      false,
    );
  });
});

describe('password spraying over IMAP', () => {
  // Last: it locks 127.0.0.1 out of mail.
  it('raises Rempart’s alert and the server watch’s, and refuses the source even with a right password', async () => {
    const phone = await newMailPassword(julie, 'Phone (spraying)');
    const victims = Array.from({ length: 12 }, (_, i) => `agent${i}@interieur.gouv.fr`);
    for (const user of victims) {
      expect((await imapLogin(servers.imapPort, { user, secret: 'Printemps2026!' })).accepted).toBe(false);
    }
    const alert = await awaitAlert(platform, 'Password spraying against mail from 127.0.0.1');
    expect(alert.severity).toBe('high');
    // Rate-limited: the right secret is refused from this source now.
    expect((await imapLogin(servers.imapPort, { user: JULIE, secret: phone.secret })).accepted).toBe(false);
    expect((await mailLogins()).at(-1)).toMatchObject({
      outcome: 'denied',
      details: { reason: 'throttled' },
    });
    // The server watch read Dovecot's own lines and saw one source failing against many mailboxes.
    const watch = await awaitAlert(platform, 'Mail Password Spraying From One Source');
    expect(watch.source).toBe('serverwatch');
  }, 60_000);
});
