import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consentFormType, malwareOf } from './fleet.service.js';

describe('a consent form', () => {
  it('is told by its first bytes: PDF, PNG or JPEG', () => {
    expect(consentFormType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(consentFormType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe(
      'image/png',
    );
    expect(consentFormType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toBe('image/jpeg');
    expect(consentFormType(Buffer.from('<html><body>%PDF-</body></html>'))).toBeUndefined();
    expect(consentFormType(new Uint8Array())).toBeUndefined();
  });

  it('is never taken for a type its first bytes do not say, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
        const type = consentFormType(bytes);
        const b = Buffer.from(bytes);
        if (type === 'application/pdf') expect(b.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        if (type === 'image/png') expect(b[0]).toBe(0x89);
        if (type === 'image/jpeg') expect([b[0], b[1], b[2]]).toEqual([0xff, 0xd8, 0xff]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the malware of detections', () => {
  it('names each family once, sorted, and nothing for detections of no named malware', () => {
    const event = (malware: string[]) => ({
      at: null,
      artifact: 'sms',
      file: 'sms.db',
      record: 'x',
      detection: {
        type: 'domain' as const,
        indicator: 'x',
        indicatorId: 'i',
        source: 's',
        malware,
        matched: 'x',
      },
    });
    expect(malwareOf([event(['Predator']), event(['Pegasus']), event([]), event(['Pegasus'])])).toEqual([
      'Pegasus',
      'Predator',
    ]);
    expect(malwareOf([])).toEqual([]);
  });
});
