/**
 * The "request a check" form, read with the API's own schema (`ScanRequest`): the first problem
 * of each field, in words the page translates, or the request to send.
 */
import { ScanRequest, type ScanKind, type SpywareDevice } from '@rempart/core';
import { kindsFor } from './scans';

export interface ScanRequestDraft {
  owner: string;
  deviceName: string;
  platform: SpywareDevice['platform'];
  serial: string;
  kind: ScanKind;
  purpose: string;
}

export const newScanRequestDraft: ScanRequestDraft = {
  owner: '',
  deviceName: '',
  platform: 'ios',
  serial: '',
  kind: 'ios-backup',
  purpose: '',
};

/** The purpose is shown to the owner, who consents to it: it must say something. */
export const PURPOSE_MIN = 10;
export const PURPOSE_MAX = 1000;

export interface ScanRequestProblems {
  owner?: 'required' | 'invalid';
  deviceName?: 'required' | 'tooLong';
  serial?: 'tooLong';
  kind?: 'wrongPlatform';
  purpose?: 'required' | 'tooShort' | 'tooLong';
}

export type ScanRequestResult =
  { ok: true; request: ScanRequest } | { ok: false; problems: ScanRequestProblems };

/** Switching the platform keeps the kind when it fits, else takes the platform's first kind. */
export function withPlatform(draft: ScanRequestDraft, platform: SpywareDevice['platform']): ScanRequestDraft {
  const kinds = kindsFor(platform);
  return { ...draft, platform, kind: kinds.includes(draft.kind) ? draft.kind : (kinds[0] ?? draft.kind) };
}

/**
 * @example
 *   readScanRequest({ ...newScanRequestDraft, owner: 'x' }).problems?.owner // → 'invalid'
 */
export function readScanRequest(draft: ScanRequestDraft): ScanRequestResult {
  const problems: ScanRequestProblems = {};
  const owner = draft.owner.trim();
  const name = draft.deviceName.trim();
  const serial = draft.serial.trim();
  const purpose = draft.purpose.trim();
  if (owner === '') problems.owner = 'required';
  if (name === '') problems.deviceName = 'required';
  else if (name.length > 120) problems.deviceName = 'tooLong';
  if (serial.length > 64) problems.serial = 'tooLong';
  if (!kindsFor(draft.platform).includes(draft.kind)) problems.kind = 'wrongPlatform';
  if (purpose === '') problems.purpose = 'required';
  else if (purpose.length < PURPOSE_MIN) problems.purpose = 'tooShort';
  else if (purpose.length > PURPOSE_MAX) problems.purpose = 'tooLong';

  const parsed = ScanRequest.safeParse({
    owner,
    device: { name, platform: draft.platform, ...(serial === '' ? {} : { serial }) },
    kind: draft.kind,
    purpose,
  });
  if (!parsed.success) {
    // Whatever the schema refuses that the checks above let through is the address's form.
    if (Object.keys(problems).length === 0 || parsed.error.issues.some((issue) => issue.path[0] === 'owner'))
      problems.owner ??= 'invalid';
    return { ok: false, problems };
  }
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, request: parsed.data };
}
