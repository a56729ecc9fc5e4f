/** Devices, scans and events shaped as the API sends them, for the spyware logic's tests. */
import { DeviceDetail, Scan, SpywareDevice, type TimelineEvent } from '@rempart/core';

let counter = 0;
const uuid = (): string => {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
};

export function device(overrides: Partial<SpywareDevice> = {}): SpywareDevice {
  return SpywareDevice.parse({
    id: uuid(),
    owner: { id: uuid(), email: 'claire.martin@interieur.gouv.fr' },
    name: 'iPhone de Claire',
    platform: 'ios',
    serial: null,
    status: 'never_scanned',
    lastScanAt: null,
    malware: [],
    detections: 0,
    ...overrides,
  });
}

export const pegasusEvent: TimelineEvent = {
  at: '2023-02-03T09:20:15.000Z',
  artifact: 'sms',
  file: 'HomeDomain/Library/SMS/sms.db',
  record: 'received from +33699999999 (SMS): Your parcel is waiting https://weather4free.com/track?id=77',
  detection: {
    type: 'domain',
    indicator: 'weather4free.com',
    indicatorId: 'indicator--a1b2',
    source: 'pegasus.stix2',
    malware: ['Pegasus'],
    matched: 'https://weather4free.com/track?id=77',
  },
};

export function scan(overrides: Partial<Scan> = {}): Scan {
  return Scan.parse({
    id: uuid(),
    deviceId: uuid(),
    device: { name: 'iPhone de Claire', platform: 'ios', owner: 'claire.martin@interieur.gouv.fr' },
    kind: 'ios-backup',
    purpose: 'Routine check before the minister’s trip',
    status: 'awaiting_consent',
    requestedBy: 'rssi@interieur.gouv.fr',
    requestedAt: '2026-03-01T08:00:00.000Z',
    consent: null,
    progress: null,
    startedAt: null,
    finishedAt: null,
    verdict: null,
    malware: [],
    indicators: null,
    deviceInfo: {},
    artifacts: [],
    detections: [],
    timelineCount: 0,
    rawKeptUntil: null,
    rawPurgedAt: null,
    error: null,
    ...overrides,
  });
}

export function detail(deviceOverrides: Partial<SpywareDevice>, scans: Scan[]): DeviceDetail {
  return DeviceDetail.parse({ device: device(deviceOverrides), scans });
}
