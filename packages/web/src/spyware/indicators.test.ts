import { IndicatorSetName } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import {
  huntsNewestFirst,
  isRemovable,
  readSetName,
  setNameFromFile,
  splitSets,
  stixRefusal,
  typeCounts,
} from './indicators';

const set = (name: string, origin: 'shipped' | 'upload' | 'cli' | 'folder') => ({
  id: origin === 'shipped' ? `shipped:${name}` : `id-${name}`,
  name,
  origin,
  importedAt: null,
  importedBy: null,
  indicators: 10,
  byType: {},
  malware: [],
  skipped: 0,
});

describe('a bundle’s name', () => {
  it('is suggested from its file, keeping what the store accepts', () => {
    expect(setNameFromFile('pegasus-2024.stix2')).toBe('pegasus-2024.stix2');
    expect(setNameFromFile('Prédateur IOCs (2024).stix2')).toBe('Predateur-IOCs-2024-.stix2');
    expect(setNameFromFile('C:\\fakepath\\ioc.json')).toBe('ioc.json');
    expect(setNameFromFile('…')).toBe('');
  });

  it('is always one the store accepts, or none, whatever the file is called', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (fileName) => {
        const name = setNameFromFile(fileName);
        if (name !== '') expect(IndicatorSetName.safeParse(name).success).toBe(true);
      }),
    );
  });

  it('is refused before upload when empty, too long, or with characters the store refuses', () => {
    expect(readSetName('  ')).toEqual({ ok: false, problem: 'required' });
    expect(readSetName('a'.repeat(121))).toEqual({ ok: false, problem: 'tooLong' });
    expect(readSetName('pegasus 2024')).toEqual({ ok: false, problem: 'invalid' });
    expect(readSetName(' pegasus.stix2 ')).toEqual({ ok: true, name: 'pegasus.stix2' });
  });

  it('is accepted exactly when the API’s schema accepts it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 130 }), (name) => {
        expect(readSetName(name).ok).toBe(IndicatorSetName.safeParse(name).success);
      }),
    );
  });
});

describe('the indicator store', () => {
  it('shows the shipped bundles apart from those added, each by name', () => {
    const { shipped, imported } = splitSets([
      set('predator.stix2', 'shipped'),
      set('zeta', 'upload'),
      set('pegasus.stix2', 'shipped'),
      set('alpha', 'folder'),
    ]);
    expect(shipped.map((s) => s.name)).toEqual(['pegasus.stix2', 'predator.stix2']);
    expect(imported.map((s) => s.name)).toEqual(['alpha', 'zeta']);
  });

  it('lets an administrator remove only what was imported by hand', () => {
    expect(isRemovable({ origin: 'upload' })).toBe(true);
    expect(isRemovable({ origin: 'cli' })).toBe(true);
    expect(isRemovable({ origin: 'shipped' })).toBe(false);
    expect(isRemovable({ origin: 'folder' })).toBe(false);
  });

  it('counts a set’s indicators by type, most numerous first', () => {
    expect(typeCounts({ process: 37, domain: 1204, sha256: 0, email: 37 })).toEqual([
      ['domain', 1204],
      ['email', 37],
      ['process', 37],
    ]);
  });

  it('lists the latest retro-hunt first', () => {
    const hunt = (id: string, startedAt: string) => ({
      id,
      setId: 's',
      setName: 's',
      status: 'done' as const,
      startedAt,
      finishedAt: null,
      progress: { done: 0, total: 0 },
      dnsHits: [],
      scanHits: [],
      error: null,
    });
    expect(
      huntsNewestFirst([hunt('a', '2026-01-01T00:00:00.000Z'), hunt('b', '2026-02-01T00:00:00.000Z')]).map(
        (h) => h.id,
      ),
    ).toEqual(['b', 'a']);
  });
});

describe('a refused bundle', () => {
  it('is explained with the server’s words and the STIX object they name', () => {
    const error = new ApiError(400, 'stix_invalid', 'indicator--9f1c has no pattern', {
      object: 'indicator--9f1c',
    });
    expect(stixRefusal(error)).toEqual({
      message: 'indicator--9f1c has no pattern',
      object: 'indicator--9f1c',
    });
    expect(stixRefusal(new ApiError(400, 'stix_invalid', 'not a bundle'))).toEqual({
      message: 'not a bundle',
      object: undefined,
    });
    expect(stixRefusal(new ApiError(400, 'validation_failed', 'name'))).toBeUndefined();
  });

  it('is recognised as well when the server calls it a validation failure naming the object', () => {
    const error = new ApiError(400, 'validation_failed', 'x.stix2: object #3: type: required', {
      source: 'x.stix2',
      object: 'object #3',
    });
    expect(stixRefusal(error)).toEqual({
      message: 'x.stix2: object #3: type: required',
      object: 'object #3',
    });
  });
});
