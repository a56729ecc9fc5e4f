import { RempartError, watchEventFormats } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logFormats } from '../parsers/index.js';
import { searchTerm } from '../../test-support/watch-search.js';
import {
  formatSearch,
  parseSearch,
  SEARCH_MAX_LENGTH,
  SEARCH_MAX_TERMS,
  type SearchQuery,
} from './search.js';

const piece = fc.string({ maxLength: 8 });
const pattern = fc.array(piece, { minLength: 1, maxLength: 4 });
const fieldName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/)
  .filter(
    (name) =>
      !['format', 'parsed', 'source', 'host', 'product', 'service', 'category', 'src_ip'].includes(name),
  );
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
/** Any query the language can say. */
const searchQuery: fc.Arbitrary<SearchQuery> = fc.record({
  terms: fc.array(
    searchTerm({
      pattern,
      field: fieldName,
      format: fc.constantFrom(...watchEventFormats),
      parsed: true,
      address: fc.oneof(
        fc.record({ address: fc.oneof(ipv4, ipv6), prefix: fc.constant(undefined) }),
        fc.record({ address: ipv4, prefix: fc.integer({ min: 0, max: 32 }) }),
        fc.record({ address: ipv6, prefix: fc.integer({ min: 0, max: 128 }) }),
      ),
    }),
    { maxLength: 8 },
  ),
});

/** The reason and position of the validation error `text` is refused with. */
function refusal(text: string): { reason: unknown; position: unknown } {
  try {
    parseSearch(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RempartError);
    const e = error as RempartError;
    expect(e.code).toBe('validation_failed');
    const details = e.details as { reason: unknown; position: unknown };
    return { reason: details.reason, position: details.position };
  }
  throw new Error(`${JSON.stringify(text)} was accepted`);
}

describe('the search language', () => {
  it('reads free words as substrings of the raw line', () => {
    expect(parseSearch('  failed   password ')).toEqual({
      terms: [
        { kind: 'text', negated: false, pattern: ['failed'] },
        { kind: 'text', negated: false, pattern: ['password'] },
      ],
    });
  });

  it('reads an empty search as one matching every event', () => {
    expect(parseSearch('')).toEqual({ terms: [] });
    expect(parseSearch(' \t ')).toEqual({ terms: [] });
  });

  it('reads field:value, quoted values and escapes', () => {
    expect(
      parseSearch('user:"a b" action:login cs-uri-stem:/owa/auth.owa msg:"say \\"hi\\" \\\\ \\*"'),
    ).toEqual({
      terms: [
        { kind: 'field', negated: false, field: 'user', pattern: ['a b'] },
        { kind: 'field', negated: false, field: 'action', pattern: ['login'] },
        { kind: 'field', negated: false, field: 'cs-uri-stem', pattern: ['/owa/auth.owa'] },
        { kind: 'field', negated: false, field: 'msg', pattern: ['say "hi" \\ *'] },
      ],
    });
  });

  it('splits values at their stars, which are wildcards', () => {
    expect(parseSearch('user:adm*n *ecp* x**')).toEqual({
      terms: [
        { kind: 'field', negated: false, field: 'user', pattern: ['adm', 'n'] },
        { kind: 'text', negated: false, pattern: ['', 'ecp', ''] },
        { kind: 'text', negated: false, pattern: ['x', '', ''] },
      ],
    });
  });

  it('negates a term with a leading minus, and only there', () => {
    expect(parseSearch('-outcome:success -timeout a-b "-c"')).toEqual({
      terms: [
        { kind: 'field', negated: true, field: 'outcome', pattern: ['success'] },
        { kind: 'text', negated: true, pattern: ['timeout'] },
        { kind: 'text', negated: false, pattern: ['a-b'] },
        { kind: 'text', negated: false, pattern: ['-c'] },
      ],
    });
  });

  it('reads src_ip as an address or a CIDR range, and as text with wildcards', () => {
    expect(
      parseSearch('src_ip:203.0.113.5 src_ip:2001:db8::/32 -src_ip:10.0.0.0/8 src_ip:203.0.113.*').terms,
    ).toEqual([
      { kind: 'address', negated: false, address: '203.0.113.5', prefix: undefined },
      { kind: 'address', negated: false, address: '2001:db8::', prefix: 32 },
      { kind: 'address', negated: true, address: '10.0.0.0', prefix: 8 },
      { kind: 'field', negated: false, field: 'src_ip', pattern: ['203.0.113.', ''] },
    ]);
    expect(parseSearch('src_ip:unknown').terms).toEqual([
      { kind: 'field', negated: false, field: 'src_ip', pattern: ['unknown'] },
    ]);
  });

  it('reads the format, the receiver, the host, the log source and whether a line was parsed', () => {
    expect(
      parseSearch('format:Dovecot source:syslog-udp host:mx* service:sshd parsed:FALSE -parsed:true').terms,
    ).toEqual([
      { kind: 'format', negated: false, format: 'dovecot' },
      { kind: 'column', negated: false, column: 'source', pattern: ['syslog-udp'] },
      { kind: 'column', negated: false, column: 'host', pattern: ['mx', ''] },
      { kind: 'logsource', negated: false, key: 'service', pattern: ['sshd'] },
      { kind: 'parsed', negated: false, parsed: false },
      { kind: 'parsed', negated: true, parsed: true },
    ]);
  });

  it('takes a word whose colon follows no field name as a free word', () => {
    expect(parseSearch('12:30:01 :x').terms).toEqual([
      { kind: 'text', negated: false, pattern: ['12:30:01'] },
      { kind: 'text', negated: false, pattern: [':x'] },
    ]);
  });

  it('refuses bad input with a stable reason and the position of the fault', () => {
    expect(refusal('user:alice "open')).toEqual({ reason: 'unterminated_quote', position: 11 });
    expect(refusal('a - b')).toEqual({ reason: 'lone_minus', position: 2 });
    expect(refusal('a -')).toEqual({ reason: 'lone_minus', position: 2 });
    expect(refusal('user: alice')).toEqual({ reason: 'missing_value', position: 5 });
    expect(refusal('user:')).toEqual({ reason: 'missing_value', position: 5 });
    expect(refusal('"a"b')).toEqual({ reason: 'text_after_quote', position: 3 });
    expect(refusal('ab"c"')).toEqual({ reason: 'unexpected_quote', position: 2 });
    expect(refusal('x abc\\')).toEqual({ reason: 'dangling_escape', position: 5 });
    expect(refusal('format:exchange')).toEqual({ reason: 'unknown_format', position: 7 });
    expect(refusal('format:dove*')).toEqual({ reason: 'unknown_format', position: 7 });
    expect(refusal('parsed:maybe')).toEqual({ reason: 'invalid_boolean', position: 7 });
    expect(refusal('src_ip:203.0.113.0/33')).toEqual({ reason: 'invalid_cidr', position: 7 });
    expect(refusal('src_ip:2001:db8::/129')).toEqual({ reason: 'invalid_cidr', position: 7 });
    expect(refusal('src_ip:nothing/8')).toEqual({ reason: 'invalid_cidr', position: 7 });
    expect(refusal('src_ip:10.0.0.0/')).toEqual({ reason: 'invalid_cidr', position: 7 });
    expect(refusal('src_ip:fe80::1%eth0/64')).toEqual({ reason: 'invalid_cidr', position: 7 });
    expect(refusal(`${'f'.repeat(129)}:x`)).toEqual({ reason: 'field_too_long', position: 0 });
    expect(refusal('x'.repeat(SEARCH_MAX_LENGTH + 1))).toEqual({
      reason: 'query_too_long',
      position: SEARCH_MAX_LENGTH,
    });
    const many = Array.from({ length: SEARCH_MAX_TERMS + 1 }, (_, i) => `w${i}`).join(' ');
    expect(refusal(many)).toEqual({ reason: 'too_many_terms', position: many.lastIndexOf(' ') + 1 });
  });

  it('names every format the parsers have, and raw', () => {
    expect([...watchEventFormats].sort()).toEqual([...logFormats, 'raw'].sort());
  });

  it('never throws anything but its validation error, whatever the text', () => {
    const alphabet = fc.constantFrom(
      ' ',
      '"',
      '\\',
      '*',
      '-',
      ':',
      '/',
      'a',
      'Z',
      '_',
      '.',
      '1',
      '\t',
      'é',
      '\u0000',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: alphabet, maxLength: 60 }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom(
              'src_ip:',
              'format:',
              'parsed:',
              'user:',
              '-',
              '"',
              'host:',
              '10.0.0.0/',
              '::1/',
              ' ',
            ),
            fc.string({ unit: alphabet, maxLength: 6 }),
          ),
          { maxLength: 12 },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (q) => {
        let query: SearchQuery;
        try {
          query = parseSearch(q);
        } catch (error) {
          expect(error).toBeInstanceOf(RempartError);
          expect((error as RempartError).code).toBe('validation_failed');
          const { position } = (error as RempartError).details as { position: number };
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(q.length);
          return;
        }
        // What it accepts, it reads back the same from its own text.
        expect(parseSearch(formatSearch(query))).toEqual(query);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back any query from its text', () => {
    fc.assert(
      fc.property(searchQuery, (query) => {
        expect(parseSearch(formatSearch(query))).toEqual(query);
      }),
      { numRuns: 2000 },
    );
  });
});
