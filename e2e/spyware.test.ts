/**
 * A spyware check as an institution runs it, in Chromium against a real `rempart serve`: the
 * security officer asks in the console for a check of an agent's iPhone, the agent reads the
 * request and consents in the console, the officer uploads a zip of the phone's backup (an SMS in
 * it carries a Pegasus link) and follows the upload and the scan; the device is then infected on
 * the fleet page, with the Pegasus finding, and the agent sees the same on "My devices". Later, a
 * new bundle naming a link of that backup is imported in the console: its retro-hunt finds the
 * stored scan.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_IOS_BACKUP, writeIosBackup } from '../packages/server/src/test-support/ios-backup.js';
import { firstAdmin, type ApiAgent } from './support/api-agent.js';
import { openBrowser, type Browser } from './support/browser.js';
import { startRempart, type RunningRempart } from './support/server.js';

let rempart: RunningRempart;
let admin: ApiAgent;
let agent: ApiAgent;
let folder: string;
let zipPath: string;
const browsers: Browser[] = [];

const PURPOSE = 'Contrôle avant le déplacement du ministre à l’étranger';

/** Every file under `dir`, keyed by its path under `Backup/`, as the folder would be zipped by hand. */
function zipFolder(
  dir: string,
  root = dir,
  entries: Record<string, Uint8Array> = {},
): Record<string, Uint8Array> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) zipFolder(path, root, entries);
    else entries[`Backup/${relative(root, path).split('\\').join('/')}`] = readFileSync(path);
  }
  return entries;
}

async function signedIn(person: ApiAgent): Promise<Page> {
  const browser = await openBrowser();
  browsers.push(browser);
  await person.signInBrowser(browser.context);
  return browser.page;
}

/** Notes which progress bars the page ever showed, however briefly. */
async function recordProgressBars(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __progressSeen: string[] }).__progressSeen = seen;
    new MutationObserver(() => {
      for (const id of ['spyware-upload-progress', 'spyware-scan-progress'])
        if (!seen.includes(id) && document.querySelector(`[data-testid="${id}"]`) !== null) seen.push(id);
    }).observe(document, { subtree: true, childList: true });
  });
}

/**
 * A STIX 2.1 bundle as a CERT would publish one for a new family: a domain indicator, and one
 * whose pattern needs two values at once (left out at import), each indicating the malware.
 */
function nightjarBundle(domain: string) {
  const common = {
    spec_version: '2.1',
    created: '2025-03-01T00:00:00.000Z',
    modified: '2025-03-01T00:00:00.000Z',
  };
  const malware = {
    type: 'malware',
    id: 'malware--0b7e5e3c-3f0a-4c55-9d2e-6f1a7c3b9e01',
    name: 'Nightjar',
    is_family: true,
  };
  const indicators = [
    { id: 'indicator--4f3c2b1a-8d7e-4f6a-9b5c-1e2d3c4b5a61', pattern: `[domain-name:value = '${domain}']` },
    {
      id: 'indicator--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c62',
      pattern: "[file:name = 'cfg.plist' AND file:path = '/private/var/db/cfg.plist']",
    },
  ];
  return {
    type: 'bundle',
    id: 'bundle--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e63',
    objects: [
      { ...common, ...malware },
      ...indicators.flatMap((indicator, index) => [
        {
          ...common,
          type: 'indicator',
          ...indicator,
          pattern_type: 'stix',
          valid_from: '2025-03-01T00:00:00Z',
          indicator_types: ['malicious-activity'],
        },
        {
          ...common,
          type: 'relationship',
          id: `relationship--7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b${String(index).padStart(2, '0')}`,
          relationship_type: 'indicates',
          source_ref: indicator.id,
          target_ref: malware.id,
        },
      ]),
    ],
  };
}

const text = async (page: Page, testId: string): Promise<string> =>
  (await page
    .getByTestId(testId)
    .first()
    .textContent({ timeout: 2_000 })
    .catch(() => '')) ?? '';

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'rempart-spyware-e2e-'));
  const backup = join(folder, '00008110-001A2B3C4D5E6F70');
  mkdirSync(backup);
  await writeIosBackup(backup, {
    ...CLEAN_IOS_BACKUP,
    sms: [
      ...(CLEAN_IOS_BACKUP.sms ?? []),
      {
        text: 'Votre colis vous attend : https://weather4free.com/track?id=77',
        handle: '+33699999999',
        at: new Date('2023-02-03T09:20:15Z'),
      },
      {
        // Named by no shipped bundle: only the bundle imported later knows it.
        text: 'Suivi de votre colis : https://colis-suivi.example/a/77',
        handle: '+33699999999',
        at: new Date('2023-02-04T10:00:00Z'),
      },
    ],
  });
  zipPath = join(folder, 'iphone-claire.zip');
  writeFileSync(zipPath, zipSync(zipFolder(backup)));

  rempart = await startRempart();
  admin = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'rssi@interieur.gouv.fr',
    name: 'Nadia Benali',
  });
  agent = await admin.invite({
    email: 'claire.martin@interieur.gouv.fr',
    displayName: 'Claire Martin',
    unit: 'Cabinet',
    clearance: 'restricted',
  });
});

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await rempart?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('spyware check, from the console', () => {
  let devicePath = '';

  it('lets an administrator request a check of an agent’s phone, which then waits for her consent', async () => {
    const page = await signedIn(admin);
    await page.goto(`${rempart.url}/spyware`);
    await page.getByRole('link', { name: 'Request a check' }).first().click();
    const form = page.getByTestId('spyware-request-form');
    // An address no agent has is refused, and the form keeps what was typed.
    await form.getByLabel('Owner’s e-mail').fill('personne@interieur.gouv.fr');
    await form.getByLabel('Device name').fill('iPhone de Claire');
    await form.getByLabel('Purpose').fill(PURPOSE);
    await form.getByRole('button', { name: 'Send the request' }).click();
    await expect
      .poll(() => form.getByRole('alert').first().textContent())
      .toBe('No agent has this e-mail address.');
    expect(new URL(page.url()).pathname).toBe('/spyware/request');
    await form.getByLabel('Owner’s e-mail').fill(agent.email);
    await form.getByLabel('Device name').fill('iPhone de Claire');
    await form.getByLabel('Purpose').fill(PURPOSE);
    await form.getByRole('button', { name: 'Send the request' }).click();

    await expect
      .poll(() => new URL(page.url()).pathname, { timeout: 20_000 })
      .toMatch(/^\/spyware\/devices\//);
    devicePath = new URL(page.url()).pathname;
    await expect.poll(() => text(page, 'spyware-scan')).toContain(`Waiting for ${agent.email} to consent`);
    expect(await text(page, 'spyware-device-summary')).toContain('Awaiting consent');
    // Nothing can be uploaded before the owner consents.
    expect(await page.getByLabel('Artifact (zip)').count()).toBe(0);
  });

  it('shows the agent the request, its purpose and who asked, and records her consent', async () => {
    const page = await signedIn(agent);
    await page.goto(`${rempart.url}/my-devices`);
    const request = page.getByTestId('spyware-consent-request');
    await expect.poll(() => request.textContent(), { timeout: 20_000 }).toContain(PURPOSE);
    expect(await request.textContent()).toContain(
      'rssi@interieur.gouv.fr asks to check your device “iPhone de Claire”',
    );
    await request.getByRole('button', { name: 'I consent' }).click();
    await expect.poll(() => page.getByTestId('spyware-consent-request').count()).toBe(0);
    await expect.poll(() => text(page, 'spyware-my-device')).toContain('Ready for upload');
  });

  it('uploads the backup with its progress, then shows the device infected with Pegasus', async () => {
    const page = await signedIn(admin);
    await recordProgressBars(page);
    await page.goto(`${rempart.url}${devicePath}`);
    await expect
      .poll(() => text(page, 'spyware-consent'), { timeout: 20_000 })
      .toContain(`Given in the console by ${agent.email}`);
    // An iOS backup may be encrypted: its password can be given with it.
    expect(await page.getByLabel('Backup password').count()).toBe(1);
    await page.getByLabel('Artifact (zip)').setInputFiles(zipPath);
    await page.getByRole('button', { name: 'Upload and scan' }).click();

    const verdict = page.getByTestId('spyware-verdict');
    await expect
      .poll(() => verdict.textContent({ timeout: 1_000 }).catch(() => ''), { timeout: 90_000, interval: 500 })
      .toMatch(/^Infected — Pegasus/);
    expect(
      await page.evaluate(() => (window as unknown as { __progressSeen: string[] }).__progressSeen),
    ).toEqual(['spyware-upload-progress', 'spyware-scan-progress']);
    const detections = await text(page, 'spyware-detections');
    expect(detections).toContain('weather4free.com');
    expect(detections).toContain('Pegasus');
    expect(detections).toContain('sms');
    expect(await text(page, 'spyware-device-summary')).toContain('Infected');

    // The timeline opens on the detections; every record, or one artifact's, a click away.
    await page.getByRole('button', { name: /^Show the timeline/ }).click();
    const range = () =>
      page
        .getByRole('status')
        .filter({ hasText: /^Records / })
        .textContent();
    await expect.poll(range).toBe('Records 1 to 1 of 1');
    await page.getByLabel('Detections only').uncheck();
    const total = async () => Number(/of (\d+)$/.exec((await range()) ?? '')?.[1] ?? 0);
    await expect.poll(total).toBeGreaterThan(10);
    await page.getByLabel('Artifact', { exact: true }).selectOption('sms');
    await expect.poll(range).toBe('Records 1 to 5 of 5');
    expect(await text(page, 'spyware-timeline')).toContain('Votre colis vous attend');
  });

  it('puts the infected phone first on the fleet page, in the infected count, with its malware', async () => {
    const page = await signedIn(admin);
    await page.goto(`${rempart.url}/spyware`);
    await expect.poll(() => text(page, 'spyware-tile-infected'), { timeout: 20_000 }).toMatch(/Infected\s*1/);
    const row = page.getByTestId('spyware-device-row').first();
    const cells = (await row.textContent()) ?? '';
    expect(cells).toContain('iPhone de Claire');
    expect(cells).toContain(agent.email);
    expect(cells).toContain('Infected');
    expect(cells).toContain('Pegasus');
  });

  it('shows the agent the same finding on “My devices”', async () => {
    const page = await signedIn(agent);
    await page.goto(`${rempart.url}/my-devices`);
    const device = page.getByTestId('spyware-my-device');
    await expect.poll(() => device.textContent(), { timeout: 20_000 }).toContain('Infected');
    expect(await device.textContent()).toContain('Spyware was found on this device');
    const detections = (await device.getByTestId('spyware-detections').textContent()) ?? '';
    expect(detections).toContain('weather4free.com');
    expect(detections).toContain('Pegasus');
  });

  it('takes a consent signed on paper instead, and respects an agent’s refusal', async () => {
    const page = await signedIn(admin);
    const request = async (device: string, platform: 'ios' | 'android') => {
      await page.goto(`${rempart.url}/spyware/request`);
      const form = page.getByTestId('spyware-request-form');
      await form.getByLabel('Owner’s e-mail').fill(agent.email);
      await form.getByLabel('Device name').fill(device);
      await form.getByLabel('Platform').selectOption(platform);
      await form.getByLabel('Purpose').fill(PURPOSE);
      await form.getByRole('button', { name: 'Send the request' }).click();
      await expect.poll(() => text(page, 'spyware-scan')).toContain('Waiting for');
    };

    await request('Pixel de Claire', 'android');
    expect(await text(page, 'spyware-scan')).toContain('Android bug report');
    expect(await page.getByLabel('Backup password').count()).toBe(0);
    const formPath = join(folder, 'consentement signé.pdf');
    writeFileSync(formPath, '%PDF-1.4\n% signed by Claire Martin\n%%EOF\n');
    await page.getByText('The owner consented on paper? Attach the signed form').click();
    await page.getByLabel('Signed consent form').setInputFiles(formPath);
    await page.getByRole('button', { name: 'Attach the form' }).click();
    await expect
      .poll(() => text(page, 'spyware-consent'))
      .toMatch(
        /^Signed form attached by rssi@interieur\.gouv\.fr, .*consentement signé\.pdf\s*SHA-256 [0-9a-f]{64}$/,
      );
    expect(await page.getByRole('link', { name: 'consentement signé.pdf' }).getAttribute('href')).toMatch(
      /^\/api\/spyware\/scans\/[0-9a-f-]{36}\/consent-form$/,
    );
    // The Android bug report may now be sent; no password is asked for it.
    expect(await page.getByLabel('Artifact (zip)').count()).toBe(1);

    await request('iPad de Claire', 'ios');
    const agentPage = await signedIn(agent);
    await agentPage.goto(`${rempart.url}/my-devices`);
    const pending = agentPage.getByTestId('spyware-consent-request');
    await expect.poll(() => pending.count(), { timeout: 20_000 }).toBe(1);
    expect(await pending.textContent()).toContain('iPad de Claire');
    await pending.getByRole('button', { name: 'I refuse' }).click();
    await expect.poll(() => agentPage.getByTestId('spyware-consent-request').count()).toBe(0);
    await page.reload();
    await expect
      .poll(() => text(page, 'spyware-scan'))
      .toContain('The owner refused or withdrew their consent');
    expect(await page.getByLabel('Artifact (zip)').count()).toBe(0);
  });

  it('refuses a malformed bundle naming its object, imports a good one whose retro-hunt finds the stored scan, and removes it', async () => {
    const page = await signedIn(admin);
    await page.goto(`${rempart.url}/spyware/indicators`);
    await expect.poll(() => text(page, 'spyware-shipped-sets'), { timeout: 20_000 }).toContain('Pegasus');

    const bundle = nightjarBundle('colis-suivi.example');
    const broken = structuredClone(bundle) as { objects: { type: string; id: string; pattern?: string }[] };
    const indicator = broken.objects.find((object) => object.type === 'indicator');
    delete indicator?.pattern;
    const brokenPath = join(folder, 'broken.stix2');
    writeFileSync(brokenPath, JSON.stringify(broken));
    await page.getByLabel('STIX 2 bundle').setInputFiles(brokenPath);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('broken.stix2');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => text(page, 'spyware-stix-refusal')).toContain(`In ${indicator?.id ?? '?'}`);
    expect(await page.getByTestId('spyware-imported-sets').count()).toBe(0);

    const goodPath = join(folder, 'nightjar.stix2');
    writeFileSync(goodPath, JSON.stringify(bundle));
    await page.getByLabel('STIX 2 bundle').setInputFiles(goodPath);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() => text(page, 'spyware-imported'))
      .toMatch(/1 indicators imported; 1 left out because they cannot be matched alone/);
    expect(await text(page, 'spyware-imported-sets')).toContain('nightjar.stix2');
    const hunt = page.getByTestId('spyware-hunt').first();
    await expect
      .poll(async () => (await hunt.textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/Retro-hunt for nightjar\.stix2Done[\s\S]*iPhone de Claire/);
    expect(await hunt.textContent()).toContain('Nightjar');

    await page.getByRole('button', { name: 'Remove nightjar.stix2' }).click();
    await page.getByTestId('confirm').click();
    await expect.poll(() => page.getByTestId('spyware-imported-sets').count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('nightjar.stix2 was removed.');
  });
});
