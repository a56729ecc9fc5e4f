/**
 * The network guard as an administrator runs it: a real `rempart serve` with its DNS resolver on
 * loopback, real DNS packets from agents' machines, and the console in Chromium: traffic plotted,
 * a name explained, a group created for the minister's cabinet, a list uploaded from a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '@rempart/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask } from '../packages/server/src/test-support/dns-client.js';
import { startTestUpstream, type TestUpstream } from '../packages/server/src/test-support/dns-upstream.js';
import { firstAdmin, type ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { personPage } from './support/meeting-page.js';
import { freePort, startRempart, type RunningRempart } from './support/server.js';

let upstream: TestUpstream;
let rempart: RunningRempart;
let admin: ApiAgent;
let dnsPort: number;
let folder: string;
const browsers: Browser[] = [];

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'rempart-lists-'));
  upstream = await startTestUpstream({
    records: {
      'intranet.interieur.example': [{ type: 'A', ttl: 300, data: '192.0.2.80' }],
      'presse.example': [{ type: 'A', ttl: 300, data: '192.0.2.81' }],
    },
  });
  dnsPort = await freePort();
  rempart = await startRempart({
    REMPART_DNS_LISTEN: `127.0.0.1:${dnsPort}`,
    REMPART_DNS_UPSTREAMS: `127.0.0.1:${upstream.port}`,
  });
  admin = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'rssi@interieur.gouv.fr',
    name: 'Nadia Benali',
  });
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await rempart?.stop();
  await upstream?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('network guard, from the console', () => {
  it('blocks TikTok and a Pegasus domain for every agent out of the box, and says so in the console', async () => {
    expect((await ask(dnsPort, 'www.tiktok.com')).rcode).toBe('NXDOMAIN');
    expect((await ask(dnsPort, 'intranet.interieur.example')).rcode).toBe('NOERROR');
    expect((await ask(dnsPort, 'weather4free.com')).rcode).toBe('NXDOMAIN');
    await expect
      .poll(async () =>
        (await admin.ok<{ alerts: Alert[] }>('GET', '/api/alerts')).alerts.map((a) => a.title),
      )
      .toContainEqual(expect.stringMatching(/Spyware domain queried by 127\.0\.0\.1: weather4free\.com/));

    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/netguard`);
    const totals = page.getByTestId('netguard-totals');
    await expect.poll(() => totals.textContent(), { timeout: 20_000 }).toMatch(/3/);
    // The plot of queries and blocks over time is drawn.
    expect(await page.getByTestId('traffic-chart').locator('path').count()).toBeGreaterThan(0);
    expect(await page.locator('main').textContent()).toContain('weather4free.com');
    expect(await page.getByTestId('netguard-resolver').textContent()).toContain(`udp://127.0.0.1:${dnsPort}`);
  });

  it('explains why a name is blocked: the group, the category and the rule', async () => {
    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/netguard/test`);
    await page.getByLabel('Name to test').fill('m.tiktok.com');
    await page.getByRole('button', { name: 'Test' }).click();
    const verdict = page.getByTestId('netguard-verdict');
    await expect.poll(() => verdict.textContent()).toMatch(/Blocked: m\.tiktok\.com/);
    expect(await page.getByTestId('netguard-deciding').textContent()).toMatch(
      /tiktok\.com — category TikTok and ByteDance/,
    );
  });

  it("gives the minister's cabinet its own list, uploaded from a file, and the resolver applies it at once", async () => {
    const page = await personPage(browsers, admin);
    const file = join(folder, 'presse.txt');
    writeFileSync(file, '# sites de presse bloqués au cabinet\n||presse.example^\n');
    await page.goto(`${rempart.url}/netguard/lists`);
    await page.getByLabel('List file').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload list' }).click();
    await expect.poll(() => page.getByTestId('netguard-lists').textContent()).toContain('presse');

    await page.goto(`${rempart.url}/netguard/groups`);
    await page.getByRole('button', { name: 'New group' }).click();
    const form = page.getByTestId('netguard-group-form');
    await form.getByLabel('Identifier').fill('cabinet');
    await form.getByLabel('Name', { exact: true }).fill('Cabinet du ministre');
    await form.getByLabel('Address ranges').fill('127.0.0.1/32');
    await form.getByLabel(/TikTok and ByteDance/).check();
    await form.getByLabel(/^presse/).check();
    await form.getByRole('button', { name: 'Create group' }).click();
    await expect
      .poll(() => page.getByTestId('netguard-groups').textContent())
      .toContain('Cabinet du ministre');

    // Agents of the cabinet (here, 127.0.0.1) no longer reach the press site; TikTok stays blocked.
    expect((await ask(dnsPort, 'presse.example')).rcode).toBe('NXDOMAIN');
    expect((await ask(dnsPort, 'vm.tiktok.com')).rcode).toBe('NXDOMAIN');
    const cli = rempart.cli(['dns', 'test', 'presse.example', '--client', '127.0.0.1']);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/group: Cabinet du ministre \(cabinet\)/);
    expect(rempart.cli(['dns', 'test', 'presse.example', '--client', '10.0.0.1']).status).toBe(0);
  });
});
