/**
 * A scan's life as the console shows it: whether it still waits on someone, how far it went (a
 * bar's fraction), who consented and how, and what the administrator may do next.
 */
import type { Consent, DeviceDetail, Scan, ScanKind, SpywareDevice } from '@rempart/core';

/** The artifacts each platform yields, in the order the request form offers them. */
export const kindsByPlatform = {
  ios: ['ios-backup', 'sysdiagnose'],
  android: ['android-bugreport', 'androidqf'],
} as const satisfies Record<SpywareDevice['platform'], readonly ScanKind[]>;

export function kindsFor(platform: SpywareDevice['platform']): readonly ScanKind[] {
  return kindsByPlatform[platform];
}

/** An encrypted iOS backup needs its password to be read; no other artifact has one. */
export function takesBackupPassword(kind: ScanKind): boolean {
  return kind === 'ios-backup';
}

/**
 * How much of something is done, as a fraction in [0, 1]; undefined when the total is not known
 * yet (the bar is then indeterminate rather than wrong).
 *
 * @example
 *   fractionDone(3, 4)  // → 0.75
 *   fractionDone(5, 0)  // → undefined
 */
export function fractionDone(done: number, total: number): number | undefined {
  if (!Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return undefined;
  return Math.min(1, Math.max(0, done / total));
}

/** Whole percents, never 100 before the end: a bar that says 100 while work goes on misleads. */
export function percentOf(fraction: number, finished = false): number {
  if (finished) return 100;
  return Math.min(99, Math.floor(fraction * 100));
}

/** A scan whose answer will change by itself: the console asks again until it does not. */
export function isUnderWay(scan: Pick<Scan, 'status'>): boolean {
  return scan.status === 'scanning';
}

const newestFirst = (a: Pick<Scan, 'requestedAt'>, b: Pick<Scan, 'requestedAt'>): number =>
  Date.parse(b.requestedAt) - Date.parse(a.requestedAt);

export function scansNewestFirst<T extends Pick<Scan, 'requestedAt'>>(scans: readonly T[]): T[] {
  return [...scans].sort(newestFirst);
}

/** The latest scan that finished reading its artifact: the device's findings are its findings. */
export function latestFinished(scans: readonly Scan[]): Scan | undefined {
  return scansNewestFirst(scans).find((scan) => scan.status === 'done');
}

/** The requests an owner has not answered yet, newest first. */
export function awaitingConsent(scans: readonly Scan[]): Scan[] {
  return scansNewestFirst(scans).filter((scan) => scan.status === 'awaiting_consent');
}

/**
 * What an administrator can do with a scan now. An artifact may be sent once the owner consented
 * (and again after a failed reading); the owner's consent, or a signed form, comes first.
 */
export type ScanStep = 'consent' | 'upload' | 'scanning' | 'finished' | 'withdrawn';

export function nextStep(scan: Pick<Scan, 'status' | 'consent'>): ScanStep {
  switch (scan.status) {
    case 'awaiting_consent':
      return 'consent';
    case 'ready':
      return 'upload';
    case 'failed':
      return scan.consent === null ? 'consent' : 'upload';
    case 'scanning':
      return 'scanning';
    case 'done':
      return 'finished';
    case 'withdrawn':
      return 'withdrawn';
  }
}

/** A consent record in the words the page uses: who, when, and for a form its file and hash. */
export type ConsentRecord =
  | { kind: 'none' }
  | { kind: 'agent'; who: string; at: string }
  | { kind: 'form'; who: string; at: string; fileName: string; sha256: string };

export function consentRecord(consent: Consent | null): ConsentRecord {
  if (consent === null) return { kind: 'none' };
  switch (consent.by) {
    case 'agent':
      return { kind: 'agent', who: consent.agent, at: consent.at };
    case 'form':
      return {
        kind: 'form',
        who: consent.attachedBy,
        at: consent.at,
        fileName: consent.fileName,
        sha256: consent.sha256.toLowerCase(),
      };
  }
}

/** The media types a signed consent form is accepted in. */
export const consentFormTypes = ['application/pdf', 'image/png', 'image/jpeg'] as const;
export type ConsentFormType = (typeof consentFormTypes)[number];

const formTypeByExtension: Readonly<Record<string, ConsentFormType>> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
};

/**
 * The `Content-Type` a signed form is sent with, from the browser's type or else the file's
 * extension; undefined for anything else (a Word document, a HEIC photo), refused before upload.
 *
 * @example
 *   consentFormType({ name: 'consent.PDF', type: '' })      // → 'application/pdf'
 *   consentFormType({ name: 'scan.heic', type: 'image/heic' }) // → undefined
 */
export function consentFormType(file: { name: string; type: string }): ConsentFormType | undefined {
  const type = file.type.toLowerCase();
  const known = consentFormTypes.find((candidate) => candidate === type);
  if (known !== undefined) return known;
  if (type !== '' && type !== 'application/octet-stream') return undefined;
  const extension = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : formTypeByExtension[extension];
}

/** An artifact is a zip of the backup, sysdiagnose, bug report or androidqf folder. */
export function looksLikeZip(file: { name: string; type: string }): boolean {
  return /\.zip$/i.test(file.name) || /^application\/(x-)?zip(-compressed)?$/i.test(file.type);
}

/** The facts the scanners name, in the order a reader looks for them. */
export const deviceFactKeys = [
  'name',
  'model',
  'osVersion',
  'build',
  'serial',
  'imei',
  'udid',
  'backupDate',
] as const;
export type DeviceFactKey = (typeof deviceFactKeys)[number];

export function isDeviceFactKey(key: string): key is DeviceFactKey {
  return (deviceFactKeys as readonly string[]).includes(key);
}

const factOrder: readonly string[] = deviceFactKeys;

/** The device's own facts, the usual ones first in a fixed order, then any others by name. */
export function deviceFacts(info: Readonly<Record<string, string>>): [string, string][] {
  const rank = (key: string) => {
    const index = factOrder.indexOf(key);
    return index === -1 ? factOrder.length : index;
  };
  return Object.entries(info)
    .filter(([, value]) => value.trim() !== '')
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The detail with `scan` in place of its previous version; unchanged when it holds no such scan. */
export function withScan(detail: DeviceDetail | undefined, scan: Scan): DeviceDetail | undefined {
  if (detail === undefined) return undefined;
  return { ...detail, scans: detail.scans.map((other) => (other.id === scan.id ? scan : other)) };
}
