/**
 * Single sign-on in real Chromium against a real `rempart serve`, Rempart being the OpenID
 * provider of two small web applications the test runs itself on 127.0.0.1 (another site than
 * Rempart's `localhost`). An administrator registers the first application in the console; an
 * agent signs in to it with password and TOTP and it reads who they are and how they proved it;
 * the second application, which wants a fresh second-factor check at every sign-in, gets one
 * although the Rempart session is complete; signing out of the first ends the Rempart session
 * and, over the back channel, the second application's session too.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_PASSWORD, firstAdmin, type ApiAgent } from './support/api-agent.js';
import { openBrowser, type Browser } from './support/browser.js';
import { startRelyingParty, type RelyingParty } from './support/relying-party.js';
import { startRempart, type RunningRempart } from './support/server.js';

const INTRANET = 'Intranet du ministère';
const PAYROLL = 'Paie';

let rempart: RunningRempart;
let admin: ApiAgent;
let agent: ApiAgent;
let intranet: RelyingParty;
let payroll: RelyingParty;
const browsers: Browser[] = [];
/** The agent's browser, used from one step to the next as a person would. */
let page: Page;
let firstAuthTime = 0;

async function browser(): Promise<Page> {
  const b = await openBrowser();
  browsers.push(b);
  return b.page;
}

/** The claims an application shows on its own page once the agent is back there. */
async function claimsShownBy(app: RelyingParty): Promise<Record<string, unknown>> {
  await page.waitForURL(`${app.origin}/me`, { timeout: 20_000 });
  return JSON.parse((await page.locator('#claims').textContent()) ?? '{}') as Record<string, unknown>;
}

async function sessionState(): Promise<unknown> {
  return page.evaluate(async () => (await fetch('/api/session')).json() as Promise<unknown>);
}

beforeAll(async () => {
  rempart = await startRempart();
  [intranet, payroll] = await Promise.all([startRelyingParty(INTRANET), startRelyingParty(PAYROLL)]);
  admin = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'claire.martin@interieur.gouv.fr',
    name: 'Claire Martin',
    unit: 'DNUM',
  });
  agent = await admin.invite({
    email: 'yann.le-goff@interieur.gouv.fr',
    displayName: 'Yann Le Goff',
    unit: 'Cabinet du ministre',
    role: 'host',
    clearance: 'restricted',
  });
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await intranet?.close();
  await payroll?.close();
  await rempart?.stop();
});

describe('single sign-on with Rempart as OpenID provider', () => {
  it('an administrator registers an application in the console and reads its secret once', async () => {
    const consolePage = await browser();
    await admin.signInBrowser(consolePage.context());
    await consolePage.goto(`${rempart.url}/admin/applications`);
    await consolePage.getByLabel('Name', { exact: true }).fill(INTRANET);
    await consolePage.getByLabel('Redirect addresses').fill(intranet.redirectUri);
    await consolePage.getByLabel('Addresses after sign-out').fill(intranet.postLogoutRedirectUri);
    await consolePage.getByLabel('Back-channel logout address').fill(intranet.backchannelLogoutUri);
    await consolePage.getByRole('button', { name: 'Register application' }).click();

    const clientId = (await consolePage.getByTestId('oidc-client-id').textContent())?.trim() ?? '';
    const clientSecret = (await consolePage.getByTestId('oidc-client-secret').textContent())?.trim() ?? '';
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(clientSecret.length).toBeGreaterThanOrEqual(32);
    const issuer = (await consolePage.getByTestId('oidc-issuer').textContent())?.trim();
    expect(issuer).toBe(`${rempart.url}/oidc`);
    await consolePage.getByRole('button', { name: 'I have handed these over' }).click();
    await expect.poll(() => consolePage.getByTestId('oidc-client-secret').count()).toBe(0);
    await intranet.connect(issuer ?? '', { clientId, clientSecret });

    // The second application through the API, demanding a fresh second-factor check every time.
    const created = await admin.ok<{ client: { id: string }; secret: string }>(
      'POST',
      '/api/admin/oidc/clients',
      {
        name: PAYROLL,
        redirectUris: [payroll.redirectUri],
        postLogoutRedirectUris: [payroll.postLogoutRedirectUri],
        backchannelLogoutUri: payroll.backchannelLogoutUri,
        mfaMaxAge: 0,
      },
    );
    await payroll.connect(issuer ?? '', { clientId: created.client.id, clientSecret: created.secret });
    await consolePage.reload();
    await expect
      .poll(
        async () => (await consolePage.getByRole('row', { name: new RegExp(PAYROLL) }).textContent()) ?? '',
        {
          timeout: 20_000,
        },
      )
      .toMatch(/A fresh second-factor check at every sign-in/);
  });

  it('an agent signs in to the application with password and TOTP, and it reads who they are', async () => {
    page = await browser();
    await page.goto(`${intranet.origin}/login`);
    // Rempart's own page, naming the application and what it will receive.
    await page.waitForURL(/\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    expect(new URL(page.url()).origin).toBe(rempart.url);
    await page.getByRole('heading', { level: 1, name: `Sign in to ${INTRANET}` }).waitFor();
    await page.getByText('Your unit, role and clearance').waitFor();

    await page.getByLabel('Email').fill(agent.email);
    await page.getByLabel('Password', { exact: true }).fill(E2E_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Authentication code').fill(await agent.freshCode());
    await page.getByRole('button', { name: 'Verify' }).click();

    const claims = await claimsShownBy(intranet);
    expect(claims).toMatchObject({
      sub: agent.agentId,
      email: 'yann.le-goff@interieur.gouv.fr',
      name: 'Yann Le Goff',
      unit: 'Cabinet du ministre',
      role: 'host',
      clearance: 'restricted',
      acr: 'urn:rempart:acr:mfa',
    });
    expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
    expect(typeof claims.auth_time).toBe('number');
    expect(typeof claims.sid).toBe('string');
    firstAuthTime = claims.auth_time as number;
    expect(Math.abs(firstAuthTime - Date.now() / 1000)).toBeLessThan(120);
  });

  it('an application wanting a fresh check at every sign-in asks for the code again, not the password', async () => {
    await page.goto(`${payroll.origin}/login`);
    await page.waitForURL(/\/oidc\/interaction\//);
    await page
      .getByText(`${PAYROLL} asks for a fresh check of your second factor at every sign-in.`)
      .waitFor();
    const prompt = page.getByRole('dialog', { name: 'Confirm it is you' });
    await prompt.waitFor({ timeout: 20_000 });
    expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0);

    // A code of the next time step (one is never used twice), given a second after the first
    // sign-in at least, so that the two auth_time (whole seconds) differ.
    const code = await agent.freshCode();
    await expect.poll(() => Date.now(), { timeout: 5_000 }).toBeGreaterThan((firstAuthTime + 1) * 1000);
    await prompt.getByLabel('Authentication code').fill(code);
    await prompt.getByRole('button', { name: 'Verify' }).click();

    const claims = await claimsShownBy(payroll);
    expect(claims).toMatchObject({ sub: agent.agentId, acr: 'urn:rempart:acr:mfa' });
    expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
    expect(claims.auth_time).toBeGreaterThan(firstAuthTime);
    expect(payroll.sessionCount()).toBe(1);
  });

  it('signing out of one application ends the Rempart session and the other application’s too', async () => {
    await page.goto(`${intranet.origin}/me`);
    await page.getByRole('heading', { name: `${INTRANET}: signed in as Yann Le Goff` }).waitFor();
    const payrollSid = (await (async () => {
      await page.goto(`${payroll.origin}/me`);
      return (await claimsShownBy(payroll)).sid;
    })()) as string;

    await page.goto(`${intranet.origin}/logout`);
    // Rempart asks before it signs the agent out of everything.
    await page.getByRole('heading', { name: 'Sign out of Rempart?' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${intranet.origin}/signed-out`);
    await page.getByRole('heading', { name: `Signed out of ${INTRANET}` }).waitFor();
    expect(intranet.sessionCount()).toBe(0);

    // The other application was told over its back channel, and ended that very session.
    await expect.poll(() => payroll.logoutTokens.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(payroll.refusedLogouts).toEqual([]);
    expect(payroll.logoutTokens.map((token) => token.sid)).toContain(payrollSid);
    expect(payroll.logoutTokens[0]).toMatchObject({ iss: `${rempart.url}/oidc`, sub: agent.agentId });
    expect(payroll.sessionCount()).toBe(0);
    await page.goto(`${payroll.origin}/me`);
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();

    // And Rempart's own session is over: the console asks to sign in again.
    await page.goto(`${rempart.url}/account`);
    await page.waitForURL(`${rempart.url}/sign-in`);
    await page.getByRole('heading', { name: 'Sign in to Rempart' }).waitFor();
    expect(await sessionState()).toMatchObject({ authenticated: false });
  });
});
