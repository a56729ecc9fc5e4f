import { ScanKind, ScanStatus } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  awaitingConsent,
  consentFormType,
  consentRecord,
  deviceFacts,
  fractionDone,
  isUnderWay,
  kindsFor,
  latestFinished,
  looksLikeZip,
  nextStep,
  percentOf,
  takesBackupPassword,
  withScan,
} from './scans';
import { detail, scan } from './test-fixtures';

describe('a scan’s progress', () => {
  it('is a fraction of the records read, or unknown before the total is', () => {
    expect(fractionDone(3, 4)).toBe(0.75);
    expect(fractionDone(0, 0)).toBeUndefined();
    expect(fractionDone(5, -1)).toBeUndefined();
    expect(fractionDone(Number.NaN, 4)).toBeUndefined();
  });

  it('stays between 0 and 1 whatever the server counts', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (done, total) => {
        const fraction = fractionDone(done, total);
        if (fraction === undefined) expect(total).toBeLessThanOrEqual(0);
        else {
          expect(fraction).toBeGreaterThanOrEqual(0);
          expect(fraction).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('never says 100 % before the scan is over', () => {
    expect(percentOf(0.999)).toBe(99);
    expect(percentOf(1)).toBe(99);
    expect(percentOf(1, true)).toBe(100);
    expect(percentOf(0.5)).toBe(50);
  });

  it('is asked for again only while the artifact is being read', () => {
    for (const status of ScanStatus.options) expect(isUnderWay({ status })).toBe(status === 'scanning');
  });
});

describe('what an administrator does next with a scan', () => {
  it('waits for consent, then takes the artifact, then shows the findings', () => {
    expect(nextStep(scan({ status: 'awaiting_consent' }))).toBe('consent');
    expect(nextStep(scan({ status: 'ready' }))).toBe('upload');
    expect(nextStep(scan({ status: 'scanning' }))).toBe('scanning');
    expect(nextStep(scan({ status: 'done' }))).toBe('finished');
    expect(nextStep(scan({ status: 'withdrawn' }))).toBe('withdrawn');
  });

  it('offers a new upload after a failed reading only when the owner had consented', () => {
    const consent = {
      by: 'agent' as const,
      at: '2026-03-01T09:00:00.000Z',
      agent: 'claire.martin@interieur.gouv.fr',
    };
    expect(nextStep(scan({ status: 'failed', consent }))).toBe('upload');
    expect(nextStep(scan({ status: 'failed', consent: null }))).toBe('consent');
  });

  it('offers the artifacts of the device’s platform, and a password only for an iOS backup', () => {
    expect(kindsFor('ios')).toEqual(['ios-backup', 'sysdiagnose']);
    expect(kindsFor('android')).toEqual(['android-bugreport', 'androidqf']);
    const all = [...kindsFor('ios'), ...kindsFor('android')].sort();
    expect(all).toEqual([...ScanKind.options].sort());
    expect(ScanKind.options.filter(takesBackupPassword)).toEqual(['ios-backup']);
  });
});

describe('a device’s scans', () => {
  const old = scan({ status: 'done', requestedAt: '2026-01-01T08:00:00.000Z', verdict: 'clean' });
  const recent = scan({ status: 'done', requestedAt: '2026-02-01T08:00:00.000Z', verdict: 'infected' });
  const pending = scan({ status: 'awaiting_consent', requestedAt: '2026-03-01T08:00:00.000Z' });

  it('take their findings from the latest finished scan, not from one still waiting', () => {
    expect(latestFinished([old, pending, recent])?.id).toBe(recent.id);
    expect(latestFinished([pending])).toBeUndefined();
  });

  it('list the requests the owner has not answered yet', () => {
    expect(awaitingConsent([old, pending, recent]).map((s) => s.id)).toEqual([pending.id]);
  });
});

describe('a consent record', () => {
  it('says who consented in the console, and when', () => {
    expect(
      consentRecord({
        by: 'agent',
        at: '2026-03-01T09:00:00.000Z',
        agent: 'claire.martin@interieur.gouv.fr',
      }),
    ).toEqual({ kind: 'agent', who: 'claire.martin@interieur.gouv.fr', at: '2026-03-01T09:00:00.000Z' });
  });

  it('names a signed form, who attached it and its SHA-256 in lower case', () => {
    expect(
      consentRecord({
        by: 'form',
        at: '2026-03-01T09:00:00.000Z',
        attachedBy: 'rssi@interieur.gouv.fr',
        fileName: 'consentement.pdf',
        sha256: 'AB12',
      }),
    ).toEqual({
      kind: 'form',
      who: 'rssi@interieur.gouv.fr',
      at: '2026-03-01T09:00:00.000Z',
      fileName: 'consentement.pdf',
      sha256: 'ab12',
    });
    expect(consentRecord(null)).toEqual({ kind: 'none' });
  });
});

describe('files an administrator chooses', () => {
  it('takes a signed form as PDF, PNG or JPEG, from its type or else its extension', () => {
    expect(consentFormType({ name: 'form.pdf', type: 'application/pdf' })).toBe('application/pdf');
    expect(consentFormType({ name: 'FORM.PDF', type: '' })).toBe('application/pdf');
    expect(consentFormType({ name: 'scan.jpg', type: 'application/octet-stream' })).toBe('image/jpeg');
    expect(consentFormType({ name: 'scan.heic', type: 'image/heic' })).toBeUndefined();
    expect(consentFormType({ name: 'form.docx', type: '' })).toBeUndefined();
    expect(consentFormType({ name: 'pdf', type: '' })).toBeUndefined();
  });

  it('never sends a form with a type the server does not take, whatever its name and type', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, type) => {
        const sent = consentFormType({ name, type });
        if (sent !== undefined) expect(['application/pdf', 'image/png', 'image/jpeg']).toContain(sent);
      }),
    );
  });

  it('recognises a zip by its name or its type', () => {
    expect(looksLikeZip({ name: 'backup.ZIP', type: '' })).toBe(true);
    expect(looksLikeZip({ name: 'backup', type: 'application/x-zip-compressed' })).toBe(true);
    expect(looksLikeZip({ name: 'backup.tar', type: 'application/x-tar' })).toBe(false);
  });
});

describe('what the artifacts say of the device', () => {
  it('lists name, model and version first, then the rest by name, leaving out empty values', () => {
    expect(
      deviceFacts({
        imei: '3567',
        zeta: 'z',
        name: 'iPhone',
        osVersion: '16.3.1',
        model: 'iPhone14,2',
        blank: ' ',
      }),
    ).toEqual([
      ['name', 'iPhone'],
      ['model', 'iPhone14,2'],
      ['osVersion', '16.3.1'],
      ['imei', '3567'],
      ['zeta', 'z'],
    ]);
  });
});

describe('a device’s page, when one of its scans changes', () => {
  it('shows the new version of that scan in its place, and leaves the others alone', () => {
    const waiting = scan({ status: 'awaiting_consent' });
    const other = scan({ status: 'done', verdict: 'clean' });
    const page = detail({}, [waiting, other]);
    const consented = { ...waiting, status: 'ready' as const };
    const next = withScan(page, consented);
    expect(next?.scans).toEqual([consented, other]);
    expect(next?.device).toEqual(page.device);
    expect(withScan(page, scan())).toEqual(page);
    expect(withScan(undefined, consented)).toBeUndefined();
  });
});
