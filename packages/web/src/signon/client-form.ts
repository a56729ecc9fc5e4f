/**
 * A relying party as its registration form holds it (addresses as text, one a line), and the form
 * read back into the `OidcClientRequest` the API takes, checked with the API's schemas first.
 */
import { ClientUrl, OidcClientRequest, type OidcClient } from '@rempart/core';
import { joinLines, readLines, type LineProblem } from '../netguard/lines';

export type ClientKind = 'confidential' | 'public';

export interface ClientDraft {
  name: string;
  /** Where the agent is sent back after signing in, one a line. */
  redirectUris: string;
  /** Where the agent may be sent after signing out, one a line. */
  postLogoutRedirectUris: string;
  backchannelLogoutUri: string;
  /** Seconds as the select holds them; '' for no limit. */
  mfaMaxAge: string;
  kind: ClientKind;
}

export const newClientDraft: ClientDraft = {
  name: '',
  redirectUris: '',
  postLogoutRedirectUris: '',
  backchannelLogoutUri: '',
  mfaMaxAge: '',
  kind: 'confidential',
};

export function draftOf(client: OidcClient): ClientDraft {
  return {
    name: client.name,
    redirectUris: joinLines(client.redirectUris),
    postLogoutRedirectUris: joinLines(client.postLogoutRedirectUris),
    backchannelLogoutUri: client.backchannelLogoutUri ?? '',
    mfaMaxAge: client.mfaMaxAge === null ? '' : String(client.mfaMaxAge),
    kind: client.public ? 'public' : 'confidential',
  };
}

export interface ClientProblems {
  name?: 'required' | 'tooLong';
  redirectUris?: { lines: LineProblem[] } | 'required' | 'tooMany';
  postLogoutRedirectUris?: { lines: LineProblem[] } | 'tooMany';
  backchannelLogoutUri?: 'invalid';
  mfaMaxAge?: 'invalid';
}

export type ClientFormResult =
  { ok: true; input: OidcClientRequest } | { ok: false; problems: ClientProblems };

const isClientUrl = (value: string): boolean => ClientUrl.safeParse(value).success;

/**
 * The form as the API takes it, or what is wrong with it, field by field.
 *
 * @example
 *   readClientDraft({ ...newClientDraft, name: 'Intranet', redirectUris: 'https://intranet.example.org/cb' })
 *   // → { ok: true, input: { name: 'Intranet', redirectUris: ['https://intranet.example.org/cb'], … } }
 */
export function readClientDraft(draft: ClientDraft): ClientFormResult {
  const problems: ClientProblems = {};
  const redirects = readLines(draft.redirectUris, isClientUrl);
  if (redirects.problems.length > 0) problems.redirectUris = { lines: redirects.problems };
  else if (redirects.values.length === 0) problems.redirectUris = 'required';
  const logouts = readLines(draft.postLogoutRedirectUris, isClientUrl);
  if (logouts.problems.length > 0) problems.postLogoutRedirectUris = { lines: logouts.problems };
  const backchannel = draft.backchannelLogoutUri.trim();
  if (backchannel !== '' && !isClientUrl(backchannel)) problems.backchannelLogoutUri = 'invalid';
  const age = draft.mfaMaxAge.trim();
  if (age !== '' && !/^\d+$/.test(age)) problems.mfaMaxAge = 'invalid';

  const parsed = OidcClientRequest.safeParse({
    name: draft.name,
    redirectUris: redirects.values,
    postLogoutRedirectUris: logouts.values,
    backchannelLogoutUri: backchannel === '' ? null : backchannel,
    mfaMaxAge: age === '' ? null : Number(age),
    public: draft.kind === 'public',
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field] = issue.path;
      if (field === 'name') problems.name = draft.name.trim() === '' ? 'required' : 'tooLong';
      else if (field === 'redirectUris') problems.redirectUris ??= 'tooMany';
      else if (field === 'postLogoutRedirectUris') problems.postLogoutRedirectUris ??= 'tooMany';
      else if (field === 'mfaMaxAge') problems.mfaMaxAge = 'invalid';
    }
  }
  if (!parsed.success || Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, input: parsed.data };
}
