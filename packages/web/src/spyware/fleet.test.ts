import { DeviceStatus } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deviceStatusOrder,
  filterDevices,
  fleetTiles,
  isFiltered,
  noFleetFilter,
  sortDevices,
  summariseFleet,
  tileOf,
  tileStatuses,
} from './fleet';
import { device } from './test-fixtures';

const claire = device({ name: 'iPhone de Claire', status: 'clean', lastScanAt: '2026-03-01T10:00:00.000Z' });
const marc = device({
  owner: { id: '11111111-1111-4111-8111-111111111111', email: 'marc.dubois@interieur.gouv.fr' },
  name: 'Pixel de Marc',
  platform: 'android',
  serial: 'R58N91ABCDE',
  status: 'infected',
  lastScanAt: '2026-02-01T10:00:00.000Z',
  malware: ['Predator'],
  detections: 3,
});
const anne = device({
  owner: { id: '22222222-2222-4222-8222-222222222222', email: 'anne.leroy@interieur.gouv.fr' },
  name: 'iPhone d’Anne',
  status: 'awaiting_consent',
});
const paul = device({
  owner: { id: '33333333-3333-4333-8333-333333333333', email: 'paul.henry@interieur.gouv.fr' },
  name: 'iPad de Paul',
});
const fleet = [claire, anne, paul, marc];

const anyDevice = fc
  .record({
    status: fc.constantFrom(...DeviceStatus.options),
    platform: fc.constantFrom('ios' as const, 'android' as const),
    name: fc.string({ minLength: 1, maxLength: 12 }),
    lastScanAt: fc.option(
      fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      { nil: null },
    ),
    malware: fc.array(fc.constantFrom('Pegasus', 'Predator', 'Hermit'), { maxLength: 2 }),
  })
  .map((fields) => device(fields));

describe('the fleet, most urgent first', () => {
  it('puts an infected phone above everything, and clean ones last', () => {
    expect(sortDevices(fleet).map((d) => d.name)).toEqual([
      'Pixel de Marc',
      'iPhone d’Anne',
      'iPad de Paul',
      'iPhone de Claire',
    ]);
  });

  it('never lets a device of a less urgent status rise above a more urgent one, whatever the fleet', () => {
    fc.assert(
      fc.property(fc.array(anyDevice, { maxLength: 30 }), (devices) => {
        const sorted = sortDevices(devices);
        expect(sorted).toHaveLength(devices.length);
        for (let i = 1; i < sorted.length; i += 1) {
          const rank = (d: (typeof sorted)[number]) => deviceStatusOrder.indexOf(d.status);
          expect(rank(sorted[i - 1]!)).toBeLessThanOrEqual(rank(sorted[i]!));
        }
      }),
    );
  });

  it('reads the same whatever order the server listed the devices in', () => {
    fc.assert(
      fc.property(
        fc
          .array(anyDevice, { maxLength: 20 })
          .chain((d) => fc.tuple(fc.constant(d), fc.shuffledSubarray(d, { minLength: d.length }))),
        ([devices, shuffled]) => {
          expect(sortDevices(shuffled).map((d) => d.id)).toEqual(sortDevices(devices).map((d) => d.id));
        },
      ),
    );
  });
});

describe('the fleet’s tiles', () => {
  it('count infected, clean, awaiting consent and never scanned, even when none', () => {
    const summary = summariseFleet(fleet);
    expect(summary.total).toBe(4);
    expect(summary.tiles.map((t) => [t.tile, t.count])).toEqual([
      ['infected', 1],
      ['clean', 1],
      ['awaiting_consent', 1],
      ['never_scanned', 1],
    ]);
    expect(summariseFleet([]).tiles.map((t) => t.count)).toEqual([0, 0, 0, 0]);
  });

  it('add a tile for scans under way and for failed ones only when there are some', () => {
    const summary = summariseFleet([...fleet, device({ status: 'ready' }), device({ status: 'scanning' })]);
    expect(summary.tiles.map((t) => [t.tile, t.count])).toContainEqual(['in_progress', 2]);
    expect(summary.tiles.map((t) => t.tile)).not.toContain('failed');
  });

  it('count every device exactly once, in the tile its status belongs to', () => {
    fc.assert(
      fc.property(fc.array(anyDevice, { maxLength: 40 }), (devices) => {
        const summary = summariseFleet(devices);
        const counted = fleetTiles.reduce(
          (sum, tile) => sum + tileStatuses[tile].reduce((s, status) => s + summary.byStatus[status], 0),
          0,
        );
        expect(counted).toBe(devices.length);
        for (const entry of summary.tiles)
          expect(entry.count).toBe(devices.filter((d) => tileOf(d.status) === entry.tile).length);
      }),
    );
  });
});

describe('the fleet’s filter', () => {
  it('finds devices by owner, name, serial or malware, every word having to match', () => {
    expect(filterDevices(fleet, { ...noFleetFilter, text: 'predator' })).toEqual([marc]);
    expect(filterDevices(fleet, { ...noFleetFilter, text: 'R58N91' })).toEqual([marc]);
    expect(filterDevices(fleet, { ...noFleetFilter, text: 'iphone claire' })).toEqual([claire]);
    expect(filterDevices(fleet, { ...noFleetFilter, text: 'iphone marc' })).toEqual([]);
  });

  it('keeps a tile’s devices, or one platform’s', () => {
    expect(filterDevices(fleet, { ...noFleetFilter, status: 'infected' })).toEqual([marc]);
    expect(filterDevices(fleet, { ...noFleetFilter, platform: 'android' })).toEqual([marc]);
    expect(filterDevices(fleet, { ...noFleetFilter, platform: 'ios', status: 'never_scanned' })).toEqual([
      paul,
    ]);
  });

  it('keeps everything when nothing is asked, and says so', () => {
    expect(filterDevices(fleet, noFleetFilter)).toEqual(fleet);
    expect(isFiltered(noFleetFilter)).toBe(false);
    expect(isFiltered({ ...noFleetFilter, text: '   ' })).toBe(false);
    expect(isFiltered({ ...noFleetFilter, status: 'clean' })).toBe(true);
  });

  it('only ever narrows the list, keeping its order, whatever is typed', () => {
    fc.assert(
      fc.property(
        fc.array(anyDevice, { maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.constantFrom('all' as const, ...fleetTiles),
        (devices, text, status) => {
          const kept = filterDevices(devices, { text, status, platform: 'all' });
          const positions = kept.map((d) => devices.indexOf(d));
          expect(positions.every((p) => p >= 0)).toBe(true);
          expect([...positions].sort((a, b) => a - b)).toEqual(positions);
          for (const d of kept) if (status !== 'all') expect(tileOf(d.status)).toBe(status);
        },
      ),
    );
  });
});
