/**
 * The server watch as a ministry's security team runs it: a real `rempart serve` with its syslog
 * receiver on loopback, the mail server's Dovecot sending its lines over UDP, and the console in
 * Chromium. A password is guessed against the minister's mailbox from one address: the overview
 * plots the alert as it arrives and counts the rule's hits, a search for the attacker's address
 * finds the lines, and the address is blocked — in dry-run, as out of the box.
 */
import { createSocket } from 'node:dgram';
import type { WatchBlockView, WatchHitPage, WatchStatusView } from '@rempart/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstAdmin, type ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { personPage } from './support/meeting-page.js';
import { startRempart, type RunningRempart } from './support/server.js';

const ATTACKER = '203.0.113.66';
const MAILBOX = 'ministre@interieur.gouv.fr';
const BRUTE_FORCE = 'Mail Brute Force From One Source';

let rempart: RunningRempart;
let admin: ApiAgent;
let syslogPort: number;
const browsers: Browser[] = [];

/** Dovecot refusing a password, as its syslog line (RFC 5424) from the mail server. */
function failedLogin(at: Date, n: number): string {
  return (
    `<38>1 ${at.toISOString()} mx1.interieur.gouv.fr dovecot ${2200 + n} - - ` +
    `imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${MAILBOX}>, method=PLAIN, ` +
    `rip=${ATTACKER}, lip=192.0.2.25, TLS, session=<e2e${String(n).padStart(4, '0')}>`
  );
}

/** Sends each line as one UDP datagram to the watch's syslog port on loopback. */
async function sendSyslog(lines: readonly string[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (const line of lines)
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(line), syslogPort, '127.0.0.1', (error) =>
          error ? reject(error) : resolve(),
        ),
      );
  } finally {
    socket.close();
  }
}

beforeAll(async () => {
  rempart = await startRempart({ REMPART_WATCH_SYSLOG: '127.0.0.1:0' });
  admin = await firstAdmin(rempart.url, (args) => rempart.cli(args), {
    email: 'rssi@interieur.gouv.fr',
    name: 'Nadia Benali',
  });
  // The receiver was given port 0: the status says which one it got.
  const status = await admin.ok<WatchStatusView>('GET', '/api/watch/status');
  if (status.syslog === null) throw new Error('the syslog receiver is not running');
  syslogPort = status.syslog.port;
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await rempart?.stop();
});

describe('server watch, from the console', () => {
  it('plots a brute force on the minister’s mailbox as it happens, and counts the rule’s hits', async () => {
    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/watch`);
    const timeline = page.getByTestId('watch-timeline');
    await expect.poll(() => timeline.getAttribute('data-hits'), { timeout: 20_000 }).toBe('0');
    await expect.poll(() => page.locator('.feed').textContent()).toMatch(/^Live/);
    expect(await page.getByTestId('watch-response-mode').textContent()).toBe('Dry-run');

    // Twelve wrong passwords in twelve seconds, ending now.
    const now = Date.now();
    await sendSyslog(Array.from({ length: 12 }, (_, n) => failedLogin(new Date(now - (11 - n) * 1000), n)));

    // The alert is raised within seconds of the lines…
    await expect
      .poll(
        async () =>
          (await admin.ok<WatchHitPage>('GET', '/api/watch/hits')).hits.map((hit) => hit.rule.title),
        { timeout: 10_000 },
      )
      .toContain(BRUTE_FORCE);

    // …and the open overview draws it without being reloaded.
    await expect
      .poll(async () => Number(await timeline.getAttribute('data-hits')), { timeout: 20_000 })
      .toBeGreaterThan(0);
    expect(await timeline.locator('rect.watch-level-high').count()).toBeGreaterThan(0);
    const rules = page.getByTestId('watch-rules');
    await expect.poll(() => rules.textContent(), { timeout: 20_000 }).toContain(BRUTE_FORCE);
    const row = rules.locator('tr', { hasText: BRUTE_FORCE });
    expect(await row.textContent()).toMatch(/High/);
    expect(Number(await row.locator('td.cell-number').textContent())).toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => page.getByTestId('watch-totals').textContent(), { timeout: 20_000 })
      .toMatch(/Lines received\s*12(?!\d)/);

    // The rule's name leads to its hits, each opening onto the lines that made it.
    await row.getByRole('link', { name: BRUTE_FORCE }).click();
    await page.waitForURL(/\/watch\/hits\?ruleId=/);
    const hits = page.getByTestId('watch-hits');
    await expect.poll(() => hits.textContent(), { timeout: 10_000 }).toContain(ATTACKER);
    await hits.getByRole('button', { name: 'Show the events' }).first().click();
    await expect.poll(() => hits.textContent(), { timeout: 10_000 }).toContain('auth failed');
  });

  it('finds the attacker’s lines by address, and keeps the search in the address bar', async () => {
    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/watch/search`);
    await page.getByRole('searchbox', { name: 'Search' }).fill(`src_ip:${ATTACKER} -outcome:success`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/\/watch\/search\?q=src_ip%3A203\.0\.113\.66/);
    const results = page.getByTestId('watch-events');
    await expect.poll(() => results.textContent(), { timeout: 10_000 }).toContain(ATTACKER);
    expect(await page.getByTestId('watch-search-count').textContent()).toBe(
      'Events shown: 12, newest first.',
    );
    expect(await results.textContent()).toContain(MAILBOX);
    expect(await results.textContent()).toContain('dovecot');

    // A line opens onto the raw text as received.
    await results.getByRole('button', { name: 'Show the line' }).first().click();
    expect(await results.getByTestId('watch-raw').first().textContent()).toContain(`rip=${ATTACKER}`);

    // The same link, opened anew, shows the same search; a search the language refuses says why.
    await page.reload();
    expect(await page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe(
      `src_ip:${ATTACKER} -outcome:success`,
    );
    await page.getByRole('searchbox', { name: 'Search' }).fill('user:"unterminated');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect
      .poll(() => page.locator('#watch-query-problem').textContent(), { timeout: 10_000 })
      .toMatch(/quote/);
  });

  it('blocks the attacker in dry-run, shows the command it would run, and lifts the block on request', async () => {
    await expect
      .poll(
        async () =>
          (await admin.ok<{ blocks: WatchBlockView[] }>('GET', '/api/watch/blocks')).blocks.map(
            (b) => b.address,
          ),
        { timeout: 10_000 },
      )
      .toContain(ATTACKER);

    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/watch/blocks`);
    const blocks = page.getByTestId('watch-blocks');
    const row = blocks.locator('tr', { hasText: ATTACKER });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.getByTestId('watch-block-mode').textContent()).toBe('Dry-run');
    expect(await row.locator('code.watch-command').textContent()).toContain(ATTACKER);

    await row.getByRole('button', { name: /Unblock/ }).click();
    await page.getByTestId('confirm').click();
    await expect
      .poll(() => page.getByRole('status').allTextContents())
      .toContainEqual(`${ATTACKER} is no longer blocked.`);
    const left = await admin.ok<{ blocks: WatchBlockView[] }>('GET', '/api/watch/blocks');
    expect(left.blocks.map((b) => b.address)).not.toContain(ATTACKER);
  });

  it('runs the current rules again over the stored lines, and links to the hunt’s hits', async () => {
    const page = await personPage(browsers, admin);
    await page.goto(`${rempart.url}/watch/hunt`);
    await page.getByRole('button', { name: 'Run the hunt' }).click();
    const result = page.getByTestId('watch-hunt-result');
    await expect.poll(() => result.textContent(), { timeout: 30_000 }).toContain(BRUTE_FORCE);
    await result.getByRole('link', { name: /^See the hunt’s hits/ }).click();
    await page.waitForURL(/\/watch\/hits\?hunt=/);
    await expect
      .poll(() => page.getByTestId('watch-hits').textContent(), { timeout: 10_000 })
      .toContain(BRUTE_FORCE);
  });
});
