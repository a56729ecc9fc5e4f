import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientUrl, MailAuthRequest, MailPasswordRequest, OidcClientRequest } from './signon.schema.js';

describe('ClientUrl', () => {
  it('takes https anywhere and http only for this machine, never a fragment', () => {
    for (const ok of [
      'https://intranet.defense.gouv.fr/callback',
      'https://intranet.defense.gouv.fr:8443/cb?x=1',
      'http://localhost:3000/cb',
      'http://127.0.0.1:1/cb',
      'http://[::1]:8080/cb',
    ])
      expect(ClientUrl.safeParse(ok).success, ok).toBe(true);
    for (const bad of [
      'http://intranet.defense.gouv.fr/callback',
      'https://intranet.defense.gouv.fr/cb#frag',
      'http://localhost.evil.example/cb',
      'http://127.0.0.1.evil.example/cb',
      'http://user@evil.example/cb',
      'http://localhost@evil.example/cb',
      'javascript:alert(1)',
      'ftp://localhost/cb',
      '/relative/cb',
      '',
    ])
      expect(ClientUrl.safeParse(bad).success, bad).toBe(false);
  });

  it('never accepts a plain-http address that a browser would send off this machine (property)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withFragments: true, withQueryParameters: true }), (url) => {
        const parsed = ClientUrl.safeParse(url);
        if (!parsed.success) return;
        const u = new URL(url);
        expect(u.hash).toBe('');
        if (u.protocol === 'http:') expect(['localhost', '127.0.0.1', '[::1]']).toContain(u.hostname);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(() => ClientUrl.safeParse(text)).not.toThrow();
      }),
    );
  });
});

describe('requests', () => {
  it('a client needs a name and a redirect address; the defaults are a confidential client with no MFA limit', () => {
    expect(OidcClientRequest.parse({ name: 'Intranet', redirectUris: ['https://a.example/cb'] })).toEqual({
      name: 'Intranet',
      redirectUris: ['https://a.example/cb'],
      postLogoutRedirectUris: [],
      backchannelLogoutUri: null,
      mfaMaxAge: null,
      public: false,
    });
    expect(OidcClientRequest.safeParse({ name: 'x', redirectUris: [] }).success).toBe(false);
    expect(
      OidcClientRequest.safeParse({ name: 'x', redirectUris: ['https://a.example'], mfaMaxAge: -1 }).success,
    ).toBe(false);
    expect(
      OidcClientRequest.safeParse({ name: 'x', redirectUris: ['https://a.example'], extra: 1 }).success,
    ).toBe(false);
  });

  it('a mail password names its device and lasts 1 to 365 days', () => {
    expect(MailPasswordRequest.parse({ device: ' Phone ' })).toEqual({ device: 'Phone', days: 180 });
    expect(MailPasswordRequest.safeParse({ device: '', days: 10 }).success).toBe(false);
    expect(MailPasswordRequest.safeParse({ device: 'x'.repeat(61) }).success).toBe(false);
    expect(MailPasswordRequest.safeParse({ device: 'Phone', days: 366 }).success).toBe(false);
    expect(MailPasswordRequest.safeParse({ device: 'a\u0007b' }).success).toBe(false);
  });

  it('a mail server’s question is bounded in every field, and anything else is refused (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })), (body) => {
        const parsed = MailAuthRequest.safeParse(body);
        if (parsed.success) {
          expect(
            Object.keys(body).every((k) =>
              ['user', 'password', 'service', 'mechanism', 'remoteIp', 'localIp', 'session'].includes(k),
            ),
          ).toBe(true);
          expect(parsed.data.user.length).toBeLessThanOrEqual(320);
        }
      }),
    );
  });
});
