import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { artifactsOf, detectionLine, detectionRows, malwareNames } from './detections';
import { pegasusEvent } from './test-fixtures';

const plain = {
  at: null,
  artifact: 'files',
  file: 'Manifest.db',
  record: '/private/var/mobile/Library/SMS/sms.db',
};

describe('detections as the page lists them', () => {
  it('keep only the events with a detection, with everything a reader needs', () => {
    const rows = detectionRows([plain, pegasusEvent]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      at: '2023-02-03T09:20:15.000Z',
      artifact: 'sms',
      file: 'HomeDomain/Library/SMS/sms.db',
      type: 'domain',
      indicator: 'weather4free.com',
      matched: 'https://weather4free.com/track?id=77',
      malware: ['Pegasus'],
      source: 'pegasus.stix2',
    });
  });

  it('do not repeat what matched when it is the indicator itself', () => {
    const exact = { ...pegasusEvent, detection: { ...pegasusEvent.detection!, matched: 'weather4free.com' } };
    expect(detectionRows([exact])[0]?.matched).toBeUndefined();
  });

  it('give every row its own key, even for the same indicator twice in one artifact', () => {
    const keys = detectionRows([pegasusEvent, pegasusEvent, pegasusEvent]).map((row) => row.key);
    expect(new Set(keys).size).toBe(3);
  });

  it('say a detection in one line, with its malware when there is one', () => {
    const [row] = detectionRows([pegasusEvent]);
    expect(detectionLine(row!, 'domain')).toBe('domain weather4free.com (Pegasus)');
    expect(detectionLine({ ...row!, malware: [] }, 'domain')).toBe('domain weather4free.com');
  });
});

describe('malware names', () => {
  it('are named once each, as first published, in alphabetical order', () => {
    expect(malwareNames([['Pegasus'], ['pegasus', 'Predator'], [' ', 'Hermit ']])).toEqual([
      'Hermit',
      'Pegasus',
      'Predator',
    ]);
  });

  it('never hold two names that differ only by case, nor an empty one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }), { maxLength: 5 }),
        (lists) => {
          const names = malwareNames(lists);
          const lowered = names.map((name) => name.toLocaleLowerCase());
          expect(new Set(lowered).size).toBe(names.length);
          expect(names.every((name) => name.trim() === name && name !== '')).toBe(true);
        },
      ),
    );
  });
});

describe('the artifacts of a list of events', () => {
  it('are each named once, in the order they first appear', () => {
    expect(artifactsOf([pegasusEvent, plain, pegasusEvent])).toEqual(['sms', 'files']);
  });
});
