/**
 * The incident replayed from its start: the photo. In November 2020 a minister posted a picture
 * in which a meeting's ID and 5 of its 6 PIN digits could be read. Here the minister drops the
 * photo on Rempart's leak check before posting it: the page marks what the picture gives away,
 * offers a masked copy without the phone's metadata, and the meeting's link shown in the photo
 * has already been replaced, so whoever reads it from the picture finds a dead link.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, Meeting } from '@rempart/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { darkShare, incidentPhoto } from '../packages/server/src/test-support/incident-photo.js';
import type { ApiAgent } from './support/api-agent.js';
import type { Browser } from './support/browser.js';
import { incidentCast } from './support/cast.js';
import { expectState, personPage } from './support/meeting-page.js';
import { startRempart, type RunningRempart } from './support/server.js';

let rempart: RunningRempart;
let host: ApiAgent;
let minister: ApiAgent;
let colleague: ApiAgent;
let meeting: Meeting;
let folder: string;
const browsers: Browser[] = [];

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'rempart-photos-'));
  rempart = await startRempart();
  ({ host, minister, colleague } = await incidentCast(rempart));
  const now = Date.now();
  ({ meeting } = await host.ok<{ meeting: Meeting }>('POST', '/api/meetings', {
    title: 'Conseil des ministres de la défense (UE)',
    classification: 'restricted',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    invitees: { emails: [minister.email, colleague.email], units: [] },
  }));
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await rempart?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe('incident of November 2020: the photo, checked before it is posted', () => {
  it('the page marks the link and the partial PIN, names the meeting, and gives a masked copy', async () => {
    const page = await personPage(browsers, minister);
    await page.goto(`${rempart.url}/leakcheck`);
    const photo = join(folder, 'bureau.jpg');
    writeFileSync(photo, await incidentPhoto(meeting.url, '482135'));
    await page.getByTestId('leakcheck-file').setInputFiles(photo);

    const verdict = page.getByTestId('verdict');
    await verdict.filter({ hasText: /findings — do not post this image/ }).waitFor({ timeout: 90_000 });
    const pictured = page.getByTestId('leakcheck-pictured');
    await expect.poll(() => pictured.textContent()).toContain(meeting.title);
    expect(await pictured.textContent()).toMatch(/48213/);
    expect(await page.getByTestId('leakcheck-metadata').textContent()).toMatch(/GPS 50\.84/);

    // One box over each finding in the picture, in the image's own pixels.
    const boxes = page.locator('[data-testid="leak-overlay"] g.leak-box rect.leak-box-edge');
    expect(await boxes.count()).toBeGreaterThanOrEqual(2);
    const rects = await boxes.evaluateAll((nodes) =>
      nodes.map((n) => ['x', 'y', 'width', 'height'].map((a) => Math.round(Number(n.getAttribute(a))))),
    );

    // The masked copy: a JPEG, without the phone's metadata, black where the boxes are.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /download redacted image/i }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('bureau-redacted.jpg');
    const copy = readFileSync((await download.path()) ?? '');
    const meta = await sharp(copy).metadata();
    expect([meta.format, meta.exif]).toEqual(['jpeg', undefined]);
    for (const [x = 0, y = 0, width = 0, height = 0] of rects) {
      expect(await darkShare(copy, { x, y, width, height })).toBeGreaterThan(0.9);
    }
  });

  it('the link in the photo is dead: an invited colleague reading it is refused; the host is alerted', async () => {
    const page = await personPage(browsers, colleague);
    await page.goto(meeting.url);
    await expectState(page, 'refused');
    const now = await host.ok<{ meeting: Meeting }>('GET', `/api/meetings/${meeting.id}`);
    expect(now.meeting.linkId).not.toBe(meeting.linkId);
    const alerts = await host.ok<{ alerts: Alert[] }>('GET', '/api/alerts?status=open');
    expect(alerts.alerts.find((a) => a.source === 'leakcheck')).toMatchObject({
      severity: 'high',
      details: { meetingId: meeting.id, foundBy: minister.email },
    });
    // The new link works for the same colleague.
    const fresh = await personPage(browsers, colleague);
    await fresh.goto(now.meeting.url);
    await expectState(fresh, 'prejoin');
  });

  it('a file that is not a picture gets a clear message and nothing else', async () => {
    const page = await personPage(browsers, minister);
    await page.goto(`${rempart.url}/leakcheck`);
    const fake = join(folder, 'scan.png');
    writeFileSync(fake, '%PDF-1.7 this is a document, not a picture');
    await page.getByTestId('leakcheck-file').setInputFiles(fake);
    await page
      .getByRole('alert')
      .filter({ hasText: /could not be read/ })
      .waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('verdict').count()).toBe(0);
  });
});
