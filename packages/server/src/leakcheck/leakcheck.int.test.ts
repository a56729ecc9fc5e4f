/**
 * The leak check over HTTP, on a real database, real OCR and a real SMTP peer: the 2020
 * incident replayed (a picture of a meeting link and 5 of 6 PIN digits), and bad input
 * refused without side effects.
 */
import { deflateSync } from 'node:zlib';
import type { Alert, LeakCheckResult, Meeting } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';
import { darkShare, incidentPhoto } from '../test-support/incident-photo.js';
import { startInbox, type Inbox } from '../test-support/smtp-inbox.js';

let inbox: Inbox;
let platform: TestPlatform;
let app: FastifyInstance;
let host: HttpAgent;
let minister: HttpAgent;

beforeAll(async () => {
  inbox = await startInbox();
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: { REMPART_SMTP_URL: inbox.url, REMPART_LEAKCHECK_WORKERS: '1' },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: host } = await enrolWithTotp(platform, app, {
    email: 'claire.martin@defense.gouv.fr',
    displayName: 'Claire Martin',
    role: 'host',
  }));
  ({ agent: minister } = await enrolWithTotp(platform, app, { email: 'minister@defense.gouv.fr' }));
}, 120_000);

afterAll(async () => {
  await app.close();
  await platform.close();
  await inbox.close();
});

async function schedule(title: string): Promise<Meeting> {
  const now = platform.clock.now().getTime();
  const res = await host.post('/api/meetings', {
    title,
    classification: 'restricted',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3600_000).toISOString(),
    invitees: { emails: ['minister@defense.gouv.fr'], units: [] },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.meeting as Meeting;
}

describe('leak check over HTTP', () => {
  it('replays the incident: link and 5 of 6 PIN digits flagged and masked, the old link dies, hosts told', async () => {
    const meeting = await schedule('Réunion des ministres de la défense');
    const photo = await incidentPhoto(meeting.url, '482135');
    const alertsBefore = (await platform.alerts.list('all', 500)).length;

    const res = await minister.upload('/api/leakcheck', photo, 'image/jpeg');
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const result = res.json as LeakCheckResult;
    const kinds = result.findings.map((f) => f.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['rempart_meeting_link', 'passcode', 'gps_position', 'device']),
    );

    const link = result.findings.find((f) => f.kind === 'rempart_meeting_link');
    expect(link?.meeting).toEqual({ id: meeting.id, title: meeting.title, rotated: true });
    expect(link?.reason).toContain('the old link no longer works');
    const pin = result.findings.find((f) => f.kind === 'passcode');
    expect(pin?.text.replace(/\D/g, '')).toBe('48213');

    // The redacted copy: a JPEG like the upload, the findings masked, no metadata.
    expect(result.redacted?.mediaType).toBe('image/jpeg');
    const redacted = Buffer.from(result.redacted?.base64 ?? '', 'base64');
    const meta = await sharp(redacted).metadata();
    expect([meta.format, meta.exif, meta.width]).toEqual(['jpeg', undefined, result.image.width]);
    for (const f of [link, pin]) {
      if (!f?.box) throw new Error('a finding without a box');
      expect(await darkShare(redacted, f.box)).toBeGreaterThan(0.9);
      expect(await darkShare(photo, f.box)).toBeLessThan(0.5);
    }

    // The old link refuses everyone; the meeting has a new one.
    expect((await minister.get(`/api/m/${meeting.linkId}`)).json.outcome).toBe('refuse');
    const now = (await host.get(`/api/meetings/${meeting.id}`)).json.meeting as Meeting;
    expect(now.linkId).not.toBe(meeting.linkId);

    // The alert stream, the host's mailbox and the audit log say what happened.
    const alerts = await platform.alerts.list('all', 500);
    expect(alerts.length).toBe(alertsBefore + 1);
    expect(alerts[0]).toMatchObject<Partial<Alert>>({ source: 'leakcheck', severity: 'high' });
    expect(alerts[0]?.details).toMatchObject({ meetingId: meeting.id, foundBy: 'minister@defense.gouv.fr' });
    await expect
      .poll(() => inbox.messages.filter((m) => m.to === 'claire.martin@defense.gouv.fr').length)
      .toBe(1);
    const audit = await platform.audit.list(20);
    expect(audit.find((e) => e.action === 'meeting.link_rotated')?.details).toEqual({ why: 'leak_check' });
    expect(audit.find((e) => e.action === 'leakcheck.scanned')?.details).toMatchObject({
      format: 'jpeg',
      findings: expect.objectContaining({ rempart_meeting_link: 1, passcode: 1 }) as unknown,
    });

    // The same picture again: still flagged, but the link is already dead, so nothing more happens.
    const again = (await minister.upload('/api/leakcheck?redact=false', photo, 'image/jpeg'))
      .json as LeakCheckResult;
    const stale = again.findings.find((f) => f.kind === 'rempart_meeting_link');
    expect(stale?.meeting).toBeUndefined();
    expect(stale?.reason).toContain('No open meeting has this link');
    expect(again.redacted).toBeUndefined();
    expect((await host.get(`/api/meetings/${meeting.id}`)).json.meeting.linkId).toBe(now.linkId);
    expect((await platform.alerts.list('all', 500)).length).toBe(alertsBefore + 1);
  });

  it('finds nothing in an ordinary picture, and says so', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="600"><rect width="1200" height="600" fill="#fff"/>
      <text x="60" y="120" font-family="DejaVu Sans" font-size="30">Ordre du jour — 14:00, salle 3.12</text>
      <text x="60" y="190" font-family="DejaVu Sans" font-size="26">1. Budget 2027 : 4,2 millions d'euros</text></svg>`;
    const res = await minister.upload(
      '/api/leakcheck',
      await sharp(Buffer.from(svg)).png().toBuffer(),
      'image/png',
    );
    expect(res.status).toBe(200);
    expect((res.json as LeakCheckResult).findings).toEqual([]);
    expect((res.json as LeakCheckResult).redacted?.mediaType).toBe('image/png');
  });

  describe('refuses bad input and changes nothing', () => {
    const bomb = () => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(30_000, 0);
      ihdr.writeUInt32BE(30_000, 4);
      ihdr.set([8, 0, 0, 0, 0], 8);
      const chunk = (type: string, data: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(data.length);
        return Buffer.concat([length, Buffer.from(type), data, Buffer.alloc(4)]); // CRCs unchecked for the header
      };
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', deflateSync(Buffer.alloc(30_001))),
        chunk('IEND', Buffer.alloc(0)),
      ]);
    };
    const jpeg = () =>
      sharp({ create: { width: 800, height: 600, channels: 3, background: '#777' } })
        .jpeg()
        .toBuffer();

    it.each([
      ['not an image', () => Buffer.from('%PDF-1.7\n…'), 'application/octet-stream', 422, 'image_unreadable'],
      [
        'a truncated JPEG',
        async () => (await jpeg()).subarray(0, 900),
        'image/jpeg',
        422,
        'image_unreadable',
      ],
      ['a 30000×30000 decompression bomb', () => bomb(), 'image/png', 413, 'image_too_large'],
      ['a 50 MB upload', () => Buffer.alloc(50 * 1024 * 1024, 1), 'image/jpeg', 413, 'payload_too_large'],
      [
        'JSON instead of an image',
        () => Buffer.from('{"image":"x"}'),
        'application/json',
        415,
        'unsupported_media_type',
      ],
      [
        'a form upload',
        () => Buffer.from('--b\r\n\r\nx\r\n--b--'),
        'multipart/form-data; boundary=b',
        415,
        'unsupported_media_type',
      ],
    ])('%s', async (_name, bytes, type, status, code) => {
      const meeting = await schedule('Point de situation');
      const auditBefore = (await platform.audit.list(500)).length;
      const alertsBefore = (await platform.alerts.list('all', 500)).length;
      const res = await minister.upload('/api/leakcheck', await bytes(), type);
      expect([res.status, res.json.error?.code]).toEqual([status, code]);
      expect((await platform.audit.list(500)).length).toBe(auditBefore);
      expect((await platform.alerts.list('all', 500)).length).toBe(alertsBefore);
      expect((await host.get(`/api/meetings/${meeting.id}`)).json.meeting.linkId).toBe(meeting.linkId);
    });

    it('without a session', async () => {
      const res = await new HttpAgent(app).upload('/api/leakcheck', await jpeg(), 'image/jpeg');
      expect([res.status, res.json.error?.code]).toEqual([401, 'unauthenticated']);
    });
  });
});
