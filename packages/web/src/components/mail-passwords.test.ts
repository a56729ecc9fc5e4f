/**
 * The mail passwords of an agent's devices, as the account and agents pages show them: what each
 * device did last, which can still be revoked, and the one time a secret is shown.
 */
import type { MailPassword } from '@rempart/core';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { render } from '../test-support';
import { IssuedMailPassword, MailPasswordTable } from './mail-passwords';

const phone: MailPassword = {
  id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  agentId: '11111111-1111-4111-8111-111111111111',
  device: 'Phone',
  status: 'active',
  createdAt: '2026-03-01T08:00:00.000Z',
  expiresAt: '2026-08-28T08:00:00.000Z',
  revokedAt: null,
  lastUsedAt: '2026-03-12T07:58:00.000Z',
  lastIp: '192.0.2.44',
  lastService: 'imap',
  uses: 1234,
};
const laptop: MailPassword = {
  ...phone,
  id: '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d',
  device: 'Thunderbird at home',
  status: 'revoked',
  revokedAt: '2026-03-10T18:30:00.000Z',
  lastUsedAt: null,
  lastIp: null,
  lastService: null,
  uses: 0,
};

const table = (passwords: MailPassword[], language: 'en' | 'fr' = 'en') =>
  render(
    createElement(MailPasswordTable, { passwords, busy: false, onRevoke: () => undefined, label: 'Mail' }),
    language,
  );

describe('the mail passwords of an agent’s devices', () => {
  it('tells each device’s state and where and how it last read mail', () => {
    const html = table([phone, laptop]);
    expect(html).toContain('Phone');
    expect(html).toContain('Active');
    expect(html).toContain('192.0.2.44');
    expect(html).toContain('imap');
    expect(html).toContain('1,234');
    expect(html).toContain('Revoked');
    // When the revoked one was revoked, next to its state.
    expect(html).toContain('2026-03-10 18:30');
  });

  it('offers to revoke only a password that still works', () => {
    const html = table([phone, laptop, { ...phone, id: 'x', device: 'Old tablet', status: 'expired' }]);
    expect(html.match(/>Revoke</g)).toHaveLength(1);
    expect(html).toContain('Revoke<span class="visually-hidden"> Phone</span>');
  });

  it('says when there is none, in the reader’s language', () => {
    expect(table([])).toContain('No mail password yet.');
    expect(table([], 'fr')).toContain('Aucun mot de passe de messagerie');
  });

  it('shows a new secret with the email as the user name for IMAP and SMTP', () => {
    const html = render(
      createElement(IssuedMailPassword, {
        password: phone,
        secret: 'tep2-e7xm-b76a-tz74-tp89-huv5',
        email: 'claire.martin@example.org',
        onDone: () => undefined,
      }),
    );
    expect(html).toContain('tep2-e7xm-b76a-tz74-tp89-huv5');
    expect(html).toContain('shown only this once');
    expect(html).toMatch(/use claire\.martin@example\.org as the user name .*IMAP.*SMTP/);
  });
});
