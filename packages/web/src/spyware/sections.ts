/**
 * The spyware check's pages, each at its own address, so that a reload or a shared link lands on
 * the same one: the fleet under `/spyware`, a device at `/spyware/devices/<id>`, and every agent's
 * own devices at `/my-devices`.
 *
 * @example
 *   spywarePath('indicators')          // → '/spyware/indicators'
 *   spywareSectionOf('')               // → 'fleet'
 *   spywareDevicePath('3d5f…')         // → '/spyware/devices/3d5f…'
 */
export const spywareSections = ['fleet', 'request', 'indicators'] as const;
export type SpywareSection = (typeof spywareSections)[number];

export function spywarePath(section: SpywareSection): string {
  return section === 'fleet' ? '/spyware' : `/spyware/${section}`;
}

/** The section named by what follows `/spyware/` (empty for the fleet); undefined when none is. */
export function spywareSectionOf(rest: string): SpywareSection | undefined {
  if (rest === '') return 'fleet';
  if (rest === 'fleet') return undefined;
  return spywareSections.find((section) => section === rest);
}

export function spywareDevicePath(deviceId: string): string {
  return `/spyware/devices/${encodeURIComponent(deviceId)}`;
}

export const MY_DEVICES_PATH = '/my-devices';
