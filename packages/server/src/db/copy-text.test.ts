import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CopyTimestamps, copyField } from './copy-text.js';

/** PostgreSQL's reading of a COPY text field (the sequences copyField writes, and \N). */
function readField(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c);
}

describe('copyField', () => {
  it('writes any text as one field that reads back the same', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const field = copyField(value);
        expect(field).not.toMatch(/[\t\n\r]/);
        expect(readField(field)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells null from the text \\N', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(readField(copyField('\\N'))).toBe('\\N');
    expect(copyField('a\tb\\c\nd\re')).toBe('a\\tb\\\\c\\nd\\re');
  });
});

describe('CopyTimestamps', () => {
  it('formats each instant as ISO 8601, whatever came before', () => {
    const times = new CopyTimestamps();
    const instants = [0, 1, 1, 1_700_000_000_123, 1, -86_400_000];
    for (const ms of instants) expect(times.format(new Date(ms))).toBe(new Date(ms).toISOString());
  });
});
