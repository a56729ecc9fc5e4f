import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { createLogger } from '../logger.js';
import { enrolWithTotp, HttpAgent, STRONG_PASSWORD } from '../test-support/http-agent.js';
import { openTestPlatform } from '../test-support/platform.js';

describe('logs', () => {
  it('never carry a password, a session token, a TOTP secret, a code or an enrolment token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const platform = await openTestPlatform({ log: createLogger('trace', sink) });
    const app = await buildApp(platform, { webRoot: '/nonexistent' });
    try {
      const { agent, secret, token, recoveryCodes } = await enrolWithTotp(platform, app, {
        email: 'log@x.gouv.fr',
      });
      await new HttpAgent(app).post('/api/auth/password', {
        email: 'log@x.gouv.fr',
        password: 'the-wrong-password-xyz',
      });
      await new HttpAgent(app).get(`/api/enrolment/${token}`);
      await agent.post('/api/me/recovery-codes');
      const text = lines.join('');
      expect(text).toContain('"url":"/api/enrolment/[redacted]"');
      for (const secretValue of [
        STRONG_PASSWORD,
        'the-wrong-password-xyz',
        secret,
        token,
        agent.cookie?.split('=')[1],
        agent.csrf,
        recoveryCodes[0],
      ]) {
        expect(secretValue).toBeTruthy();
        expect(text).not.toContain(secretValue);
      }
    } finally {
      await app.close();
      await platform.close();
    }
  });
});
