import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../app.js';
import { enrolWithTotp, type HttpAgent } from '../test-support/http-agent.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';

let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let base: string;

beforeAll(async () => {
  platform = await openTestPlatform();
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'soc@x.gouv.fr', role: 'admin' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  await platform.close();
});

function connect(cookie: string | undefined, origin?: string): WebSocket {
  return new WebSocket(`${base}/api/alerts/live`, {
    headers: { ...(cookie ? { cookie } : {}), ...(origin ? { origin } : {}) },
  });
}

describe('alert stream', () => {
  it('pushes a new alert and its acknowledgement to a signed-in administrator', async () => {
    const ws = connect(admin.cookie);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const messages: { type: string; alert: { id: string; title: string; acknowledgedBy: string | null } }[] =
      [];
    ws.on('message', (data: Buffer) =>
      messages.push(JSON.parse(data.toString()) as (typeof messages)[number]),
    );
    const raised = await platform.alerts.raise({
      severity: 'high',
      source: 'serverwatch',
      title: 'Password spraying on mail',
      details: { ips: 14 },
    });
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]).toMatchObject({
      type: 'alert',
      alert: { id: raised.id, title: 'Password spraying on mail' },
    });

    const ack = await admin.post(`/api/alerts/${raised.id}/ack`);
    expect(ack.json.alert.acknowledgedBy).toBe('soc@x.gouv.fr');
    await expect.poll(() => messages.length).toBe(2);
    expect(messages[1]).toMatchObject({ type: 'acknowledged', alert: { acknowledgedBy: 'soc@x.gouv.fr' } });
    ws.close();

    const open = await admin.get('/api/alerts?status=open');
    expect((open.json.alerts as { id: string }[]).some((a) => a.id === raised.id)).toBe(false);
  });

  it('closes the feed for a visitor without a session, and for another origin', async () => {
    for (const ws of [connect(undefined), connect(admin.cookie, 'https://evil.example')]) {
      const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
      expect(code).toBe(4401);
    }
  });

  it('refuses a bad status filter', async () => {
    const res = await admin.get('/api/alerts?status=everything');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
  });
});
