import type { OidcClient } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { draftOf, newClientDraft, readClientDraft } from './client-form';

const intranet: OidcClient = {
  id: 'DF5d3pIUQ0MS5TFK4PmfQQ',
  name: 'Intranet RH',
  redirectUris: ['https://rh.example.org/callback', 'https://rh.example.org/alt'],
  postLogoutRedirectUris: ['https://rh.example.org/'],
  backchannelLogoutUri: 'https://rh.example.org/backchannel',
  mfaMaxAge: 0,
  public: false,
  createdAt: '2026-03-12T10:00:00.000Z',
  disabledAt: null,
};

describe('an application’s registration form', () => {
  it('shows the addresses one a line, and reads an untouched client back as it was', () => {
    const draft = draftOf(intranet);
    expect(draft.redirectUris).toBe('https://rh.example.org/callback\nhttps://rh.example.org/alt');
    expect(draft.mfaMaxAge).toBe('0');
    expect(readClientDraft(draft)).toEqual({
      ok: true,
      input: {
        name: 'Intranet RH',
        redirectUris: intranet.redirectUris,
        postLogoutRedirectUris: intranet.postLogoutRedirectUris,
        backchannelLogoutUri: intranet.backchannelLogoutUri,
        mfaMaxAge: 0,
        public: false,
      },
    });
  });

  it('leaves out blank lines, comments and repeats, and sends no limit and no back channel when left empty', () => {
    const read = readClientDraft({
      ...newClientDraft,
      name: '  Wiki  ',
      redirectUris: '\nhttps://wiki.example.org/cb\n# the old one\nhttps://wiki.example.org/cb\n',
      kind: 'public',
    });
    expect(read).toEqual({
      ok: true,
      input: {
        name: 'Wiki',
        redirectUris: ['https://wiki.example.org/cb'],
        postLogoutRedirectUris: [],
        backchannelLogoutUri: null,
        mfaMaxAge: null,
        public: true,
      },
    });
  });

  it('takes http:// for this machine only, as the server does', () => {
    const read = readClientDraft({
      ...newClientDraft,
      name: 'Test app',
      redirectUris: 'http://127.0.0.1:8081/callback\nhttp://localhost/cb\nhttp://intranet.example.org/cb',
    });
    expect(read).toEqual({
      ok: false,
      problems: { redirectUris: { lines: [{ line: 3, text: 'http://intranet.example.org/cb' }] } },
    });
  });

  it('names every field to fix at once', () => {
    const read = readClientDraft({
      ...newClientDraft,
      name: ' ',
      postLogoutRedirectUris: 'https://ok.example.org/\nhttps://bad.example.org/#fragment',
      backchannelLogoutUri: 'not an address',
      mfaMaxAge: '-5',
    });
    expect(read).toEqual({
      ok: false,
      problems: {
        name: 'required',
        redirectUris: 'required',
        postLogoutRedirectUris: { lines: [{ line: 2, text: 'https://bad.example.org/#fragment' }] },
        backchannelLogoutUri: 'invalid',
        mfaMaxAge: 'invalid',
      },
    });
  });

  it('refuses more addresses than the server takes', () => {
    const many = Array.from({ length: 11 }, (_, i) => `https://app.example.org/cb${i}`).join('\n');
    const read = readClientDraft({ ...newClientDraft, name: 'Many', redirectUris: many });
    expect(read).toEqual({ ok: false, problems: { redirectUris: 'tooMany' } });
  });
});
