import { ScanKind, ScanRequest } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newScanRequestDraft, readScanRequest, withPlatform, type ScanRequestDraft } from './request';

const filled: ScanRequestDraft = {
  owner: ' claire.martin@interieur.gouv.fr ',
  deviceName: 'iPhone de Claire',
  platform: 'ios',
  serial: '',
  kind: 'ios-backup',
  purpose: 'Contrôle avant le déplacement du ministre',
};

describe('a request for a check', () => {
  it('is sent trimmed, without a serial nobody typed', () => {
    expect(readScanRequest(filled)).toEqual({
      ok: true,
      request: {
        owner: 'claire.martin@interieur.gouv.fr',
        device: { name: 'iPhone de Claire', platform: 'ios' },
        kind: 'ios-backup',
        purpose: 'Contrôle avant le déplacement du ministre',
      },
    });
  });

  it('names each field left empty', () => {
    expect(readScanRequest(newScanRequestDraft)).toEqual({
      ok: false,
      problems: { owner: 'required', deviceName: 'required', purpose: 'required' },
    });
  });

  it('refuses an address that is not one, and a purpose too short to tell the owner anything', () => {
    expect(readScanRequest({ ...filled, owner: 'claire' })).toEqual({
      ok: false,
      problems: { owner: 'invalid' },
    });
    expect(readScanRequest({ ...filled, purpose: 'check' })).toEqual({
      ok: false,
      problems: { purpose: 'tooShort' },
    });
    expect(readScanRequest({ ...filled, purpose: 'x'.repeat(1001) })).toEqual({
      ok: false,
      problems: { purpose: 'tooLong' },
    });
  });

  it('refuses an Android bug report of an iPhone', () => {
    expect(readScanRequest({ ...filled, kind: 'android-bugreport' })).toEqual({
      ok: false,
      problems: { kind: 'wrongPlatform' },
    });
  });

  it('keeps the artifact when the platform still yields it, else takes the platform’s first', () => {
    expect(withPlatform(filled, 'android').kind).toBe('android-bugreport');
    expect(withPlatform({ ...filled, kind: 'sysdiagnose' }, 'ios').kind).toBe('sysdiagnose');
  });

  it('sends only what the API accepts, and names a problem whenever it sends nothing', () => {
    fc.assert(
      fc.property(
        fc.record({
          owner: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 })),
          deviceName: fc.string({ maxLength: 130 }),
          platform: fc.constantFrom('ios' as const, 'android' as const),
          serial: fc.string({ maxLength: 70 }),
          kind: fc.constantFrom(...ScanKind.options),
          purpose: fc.string({ maxLength: 1010 }),
        }),
        (draft) => {
          const result = readScanRequest(draft);
          if (result.ok) expect(ScanRequest.safeParse(result.request).success).toBe(true);
          else expect(Object.keys(result.problems).length).toBeGreaterThan(0);
        },
      ),
    );
  });
});
