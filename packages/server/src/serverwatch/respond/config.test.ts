import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import { parseRespondersConfig, selects } from './config.js';

describe('the responders settings', () => {
  it('default to blocking in dry-run through nftables for an hour, at high level and above, no webhook', () => {
    const settings = parseRespondersConfig({});
    expect(settings.block).toMatchObject({
      mode: 'dry-run',
      backend: 'nftables',
      durationSeconds: 3600,
      minLevel: 'high',
      allow: [],
      nftables: { table: 'rempart', set4: 'blocked4', set6: 'blocked6', chain: 'input' },
    });
    expect(settings.webhook).toBeUndefined();
    expect(parseRespondersConfig(undefined)).toEqual(settings);
  });

  it('name every bad setting in one validation error', () => {
    let error: unknown;
    try {
      parseRespondersConfig({
        block: { mode: 'maybe', allow: ['10.0.0.0/8', 'intranet'], durationSeconds: 0 },
        webhook: { url: 'ftp://soc.example/', secret: 'short' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('validation_failed');
    const message = (error as RempartError).message;
    for (const name of [
      'block.mode',
      'block.allow.1',
      'block.durationSeconds',
      'webhook.url',
      'webhook.secret',
    ])
      expect(message).toContain(name);
  });

  it('refuse names that would read as more than one word of a command', () => {
    for (const bad of [
      { nftables: { table: 'rempart; flush ruleset' } },
      { nftables: { set4: 'a b' } },
      { fail2ban: { jail: 'sshd --all' } },
      { fail2ban: { jail: '' } },
    ])
      expect(() => parseRespondersConfig({ block: bad })).toThrow(RempartError);
  });

  it('take a hit at the minimum level or above, a listed rule at any level, never an excepted rule', () => {
    const settings = { minLevel: 'high' as const, rules: ['brute'], exceptRules: ['noisy'] };
    expect(selects(settings, 'x', 'high')).toBe(true);
    expect(selects(settings, 'x', 'critical')).toBe(true);
    expect(selects(settings, 'x', 'medium')).toBe(false);
    expect(selects(settings, 'x', undefined)).toBe(false);
    expect(selects(settings, 'brute', 'low')).toBe(true);
    expect(selects(settings, 'noisy', 'critical')).toBe(false);
  });

  it('throw only validation errors, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          parseRespondersConfig({ block: input, webhook: input });
        } catch (error) {
          expect(error).toBeInstanceOf(RempartError);
          expect((error as RempartError).code).toBe('validation_failed');
        }
      }),
      { numRuns: 500 },
    );
  });
});
