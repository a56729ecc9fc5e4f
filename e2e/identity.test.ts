/**
 * The identity story in real Chromium against a real `rempart serve`: an administrator
 * created by the CLI enrols with TOTP, invites an agent who enrols with a passkey and signs
 * in with it alone; a reused TOTP code is refused; a revoked session is signed out at its
 * next request; repeated wrong passwords lock an account and the alert shows up live.
 */
import { totpCodeAt } from '@rempart/server';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, openBrowser, type Browser } from './support/browser.js';
import { startRempart, type RunningRempart } from './support/server.js';

let rempart: RunningRempart;

/** Waits until the locator is visible (and, when given, its text matches). */
async function visible(locator: Locator, text?: RegExp): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout: 20_000 });
  if (text)
    await expect.poll(async () => (await locator.textContent()) ?? '', { timeout: 20_000 }).toMatch(text);
}
const browsers: Browser[] = [];

/** GETs an API path from inside the page, with its cookies, and returns the JSON body. */
async function getJson<T>(page: Page, path: string): Promise<T> {
  return (await page.evaluate(async (p) => (await fetch(p)).json() as Promise<unknown>, path)) as T;
}
interface SessionsBody {
  sessions: { id: string; current: boolean; stage: string }[];
}
const PASSWORD = 'Quatre chevaux gris au galop 1871';
const AGENT_PASSWORD = 'Le phare de Brest brille la nuit';

async function browser(): Promise<Page> {
  const b = await openBrowser();
  browsers.push(b);
  return b.page;
}

/** TOTP codes the tests have used, so each sign-in takes a step not used before (RFC 6238 §5.2). */
let lastStep = 0;
async function freshCode(secret: string): Promise<string> {
  const step = lastStep + 1;
  // A code is valid from one step before its own: wait until the clock is there.
  while (Math.floor(Date.now() / 30_000) < step - 1) await new Promise((r) => setTimeout(r, 250));
  lastStep = Math.max(step, Math.floor(Date.now() / 30_000));
  return totpCodeAt(secret, new Date(lastStep * 30_000 + 1000));
}

async function setPassword(page: Page, url: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('New password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Set password' }).click();
}

async function keepRecoveryCodes(page: Page): Promise<string[]> {
  const list = page.getByTestId('recovery-codes');
  await list.waitFor();
  const codes = (await list.locator('li').allTextContents()).map((c) => c.trim());
  await page.getByRole('button', { name: 'I have stored my recovery codes' }).click();
  return codes;
}

async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${rempart.url}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

let adminSecret = '';
let adminRevoker: Page;
let adminPage: Page;
let agentEnrolmentUrl = '';

beforeAll(async () => {
  rempart = await startRempart();
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await rempart?.stop();
});

describe('identity in the browser', () => {
  it('an administrator created by the CLI enrols with TOTP and gets ten recovery codes', async () => {
    const created = rempart.cli([
      'admin',
      'create',
      '--email',
      'claire.martin@interieur.gouv.fr',
      '--name',
      'Claire Martin',
    ]);
    expect(created.status).toBe(0);
    const link = /http:\/\/\S+\/enrol\/[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    expect(link).toBeDefined();

    adminPage = await browser();
    await setPassword(adminPage, link ?? '', PASSWORD);
    await adminPage.getByRole('button', { name: 'Authenticator app' }).click();
    const secret = (await adminPage.getByTestId('totp-secret').textContent())?.replace(/\s+/g, '') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    adminSecret = secret;
    // The QR code is there too, as an image the authenticator app scans.
    await visible(adminPage.locator('img[src^="data:image/png"]'));
    lastStep = Math.floor(Date.now() / 30_000);
    await adminPage
      .getByLabel('Code from your app')
      .fill(await totpCodeAt(secret, new Date(lastStep * 30_000 + 1000)));
    await adminPage.getByRole('button', { name: 'Confirm' }).click();
    const codes = await keepRecoveryCodes(adminPage);
    expect(codes).toHaveLength(10);
    await visible(adminPage.getByText('Claire Martin').first());
  });

  it('the administrator invites an agent from the console', async () => {
    await adminPage.goto(`${rempart.url}/admin/agents`);
    await adminPage.getByLabel('Email').fill('yann.le-goff@interieur.gouv.fr');
    await adminPage.getByLabel('Display name').fill('Yann Le Goff');
    await adminPage.getByLabel('Unit').fill('Cabinet du ministre');
    await adminPage.getByLabel('Role').selectOption('host');
    await adminPage.getByLabel('Clearance').selectOption('restricted');
    await adminPage.getByRole('button', { name: 'Invite agent' }).click();
    agentEnrolmentUrl = (await adminPage.getByTestId('enrolment-url').textContent())?.trim() ?? '';
    expect(agentEnrolmentUrl).toMatch(/\/enrol\/[A-Za-z0-9_-]{43}$/);
    await visible(adminPage.getByRole('cell', { name: 'yann.le-goff@interieur.gouv.fr' }));
  });

  it('the agent enrols with a passkey, then signs in with the passkey alone', async () => {
    const page = await browser();
    await addVirtualAuthenticator(page);
    await setPassword(page, agentEnrolmentUrl, AGENT_PASSWORD);
    await page.getByRole('button', { name: 'Passkey or security key' }).click();
    expect(await keepRecoveryCodes(page)).toHaveLength(10);
    await visible(page.getByText('Yann Le Goff').first());

    await page.getByRole('button', { name: /sign out/i }).click();
    await visible(page.getByRole('button', { name: 'Sign in with a passkey' }));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await visible(page.getByText('Yann Le Goff').first());
    const session = await getJson(page, '/api/session');
    expect(session).toMatchObject({
      authenticated: true,
      stage: 'full',
      agent: { email: 'yann.le-goff@interieur.gouv.fr' },
    });
  });

  it('a TOTP code already used is refused', async () => {
    const code = await freshCode(adminSecret);
    const first = await browser();
    await signInWithPassword(first, 'claire.martin@interieur.gouv.fr', PASSWORD);
    await first.getByLabel('Authentication code').fill(code);
    await first.getByRole('button', { name: 'Verify' }).click();
    await visible(first.getByText('Claire Martin').first());
    await expect.poll(() => first.url()).not.toMatch(/sign-in/);

    const second = await browser();
    await signInWithPassword(second, 'claire.martin@interieur.gouv.fr', PASSWORD);
    await second.getByLabel('Authentication code').fill(code);
    await second.getByRole('button', { name: 'Verify' }).click();
    await visible(second.getByRole('alert'), /already used/i);
    const state = await getJson(second, '/api/session');
    expect(state).toMatchObject({ stage: 'mfa' });

    // The signed-in page revokes the administrator's first session, from the account page.
    await first.goto(`${rempart.url}/account`);
    const rows = first.getByRole('row').filter({ has: first.getByRole('button', { name: 'Revoke' }) });
    await visible(rows.first());
    const before = await getJson(adminPage, '/api/session');
    expect(before).toMatchObject({ authenticated: true });
    adminRevoker = first;
  });

  it('a revoked session is signed out at its next request', async () => {
    const sessions = await getJson<SessionsBody>(adminRevoker, '/api/me/sessions');
    const others = sessions.sessions.filter((s) => !s.current && s.stage === 'full');
    expect(others.length).toBeGreaterThanOrEqual(1);
    // Revoke every other session through the console's own buttons; the current one reads "Sign out".
    expect(
      await adminRevoker
        .getByRole('row', { name: /This session/ })
        .getByRole('button')
        .textContent(),
    ).toBe('Sign out');
    const revokeButtons = adminRevoker.getByRole('button', { name: 'Revoke' });
    for (let left = await revokeButtons.count(); left > 0; left = await revokeButtons.count()) {
      await revokeButtons.first().click();
      await expect.poll(() => revokeButtons.count(), { timeout: 20_000 }).toBeLessThan(left);
    }
    await expect
      .poll(async () => (await getJson<SessionsBody>(adminRevoker, '/api/me/sessions')).sessions.length)
      .toBe(1);

    await adminPage.goto(`${rempart.url}/account`);
    await expect.poll(() => adminPage.url()).toMatch(/sign-in/);
    await visible(adminPage.getByText(/session has ended/i));
  });

  it('repeated wrong passwords lock the account and raise an alert the administrator sees live', async () => {
    await adminRevoker.goto(`${rempart.url}/alerts`);
    await visible(adminRevoker.getByRole('heading', { level: 1 }));

    const attacker = await browser();
    for (let i = 0; i < 5; i++) {
      await signInWithPassword(attacker, 'yann.le-goff@interieur.gouv.fr', `not-the-password-${i}`);
      const alert = attacker.getByRole('alert');
      await visible(alert);
      const text = (await alert.textContent()) ?? '';
      if (/too many/i.test(text)) {
        // A growing delay: wait it out, as a patient attacker would, and try again.
        await attacker.waitForTimeout(2100);
        i--;
      }
    }
    await signInWithPassword(attacker, 'yann.le-goff@interieur.gouv.fr', AGENT_PASSWORD);
    await visible(attacker.getByRole('alert'), /too many/i);

    await visible(
      adminRevoker.getByText(/Sign-in locked after 5 failures: yann\.le-goff@interieur\.gouv\.fr/).first(),
    );
    await adminRevoker.getByRole('button', { name: 'Acknowledge' }).first().click();
    await visible(adminRevoker.getByText(/claire\.martin@interieur\.gouv\.fr/).first());
  });

  it('the audit chain verifies from the CLI while the server runs', () => {
    const result = rempart.cli(['audit', 'verify']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/intact: \d+ entries/);
  });
});
