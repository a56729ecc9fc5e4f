/**
 * The fleet as an administrator reads it: the devices that need attention first (an infection
 * above everything), counts by status for the tiles, and the table's filter.
 */
import type { DeviceStatus, SpywareDevice } from '@rempart/core';

/**
 * Most urgent first: an infection, then a scan that failed (nobody knows), then work under way,
 * then what waits on someone, and the clean devices last.
 */
export const deviceStatusOrder = [
  'infected',
  'failed',
  'scanning',
  'ready',
  'awaiting_consent',
  'never_scanned',
  'clean',
] as const satisfies readonly DeviceStatus[];

// A compile-time check that the order names every status of the contract.
type Missing = Exclude<DeviceStatus, (typeof deviceStatusOrder)[number]>;
const everyStatusOrdered: [Missing] extends [never] ? true : never = true;
void everyStatusOrdered;

export function statusRank(status: DeviceStatus): number {
  return deviceStatusOrder.indexOf(status);
}

const time = (iso: string | null): number => (iso === null ? -Infinity : Date.parse(iso));

/**
 * Orders devices by urgency, then the latest scan first, then owner and name, so that the same
 * fleet always reads the same way.
 */
export function compareDevices(a: SpywareDevice, b: SpywareDevice): number {
  return (
    statusRank(a.status) - statusRank(b.status) ||
    time(b.lastScanAt) - time(a.lastScanAt) ||
    a.owner.email.localeCompare(b.owner.email) ||
    a.name.localeCompare(b.name) ||
    a.id.localeCompare(b.id)
  );
}

export function sortDevices(devices: readonly SpywareDevice[]): SpywareDevice[] {
  return [...devices].sort(compareDevices);
}

/** The tiles above the table, in this order; `in_progress` counts `ready` and `scanning`. */
export type FleetTile =
  'infected' | 'clean' | 'awaiting_consent' | 'never_scanned' | 'in_progress' | 'failed';

export interface FleetSummary {
  total: number;
  byStatus: Readonly<Record<DeviceStatus, number>>;
  /** The four tiles an administrator always sees, then those of statuses some device is in. */
  tiles: { tile: FleetTile; count: number; statuses: readonly DeviceStatus[] }[];
}

export const fleetTiles = [
  'infected',
  'clean',
  'awaiting_consent',
  'never_scanned',
  'in_progress',
  'failed',
] as const satisfies readonly FleetTile[];

export const tileStatuses: Readonly<Record<FleetTile, readonly DeviceStatus[]>> = {
  infected: ['infected'],
  clean: ['clean'],
  awaiting_consent: ['awaiting_consent'],
  never_scanned: ['never_scanned'],
  in_progress: ['ready', 'scanning'],
  failed: ['failed'],
};
const alwaysShown: readonly FleetTile[] = ['infected', 'clean', 'awaiting_consent', 'never_scanned'];
const shownWhenSome: readonly FleetTile[] = ['in_progress', 'failed'];

export function summariseFleet(devices: readonly SpywareDevice[]): FleetSummary {
  const byStatus = Object.fromEntries(deviceStatusOrder.map((status) => [status, 0])) as Record<
    DeviceStatus,
    number
  >;
  for (const device of devices) byStatus[device.status] += 1;
  const tile = (name: FleetTile) => {
    const statuses = tileStatuses[name];
    return { tile: name, statuses, count: statuses.reduce((sum, status) => sum + byStatus[status], 0) };
  };
  return {
    total: devices.length,
    byStatus,
    tiles: [...alwaysShown.map(tile), ...shownWhenSome.map(tile).filter((entry) => entry.count > 0)],
  };
}

export interface FleetFilter {
  /** Words that must all appear in the owner, the device's name or serial, or a malware name. */
  text: string;
  /** A tile's statuses, or every device. */
  status: FleetTile | 'all';
  platform: SpywareDevice['platform'] | 'all';
}

export const noFleetFilter: FleetFilter = { text: '', status: 'all', platform: 'all' };

/**
 * @example
 *   filterDevices(devices, { text: 'pegasus martin', status: 'all', platform: 'ios' })
 *   // → the iPhones of agents named Martin on which Pegasus was found
 */
export function filterDevices(devices: readonly SpywareDevice[], filter: FleetFilter): SpywareDevice[] {
  const words = filter.text
    .toLocaleLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '');
  return devices.filter((device) => {
    if (filter.status !== 'all' && !tileStatuses[filter.status].includes(device.status)) return false;
    if (filter.platform !== 'all' && device.platform !== filter.platform) return false;
    if (words.length === 0) return true;
    const haystack = [device.owner.email, device.name, device.serial ?? '', ...device.malware]
      .join('\n')
      .toLocaleLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** The tile a device's status is counted in. */
export function tileOf(status: DeviceStatus): FleetTile {
  return fleetTiles.find((tile) => tileStatuses[tile].includes(status)) ?? 'in_progress';
}

export function isFiltered(filter: FleetFilter): boolean {
  return filter.text.trim() !== '' || filter.status !== 'all' || filter.platform !== 'all';
}
