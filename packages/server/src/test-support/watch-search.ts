/**
 * Terms of the server watch's search language, drawn at random for property tests: each test
 * gives the patterns, field names, formats and addresses it wants drawn (free text to fuzz the
 * parser, or values its stored events hold so that queries find something).
 */
import type { WatchEventFormat } from '@rempart/core';
import fc from 'fast-check';
import type { Pattern, SearchTerm } from '../serverwatch/store/search.js';

export interface SearchTermParts {
  pattern: fc.Arbitrary<Pattern>;
  field: fc.Arbitrary<string>;
  /** `src_ip` terms: an address alone (`prefix` undefined) or a range. */
  address: fc.Arbitrary<{ address: string; prefix: number | undefined }>;
  /** `format:` terms, when given. */
  format?: fc.Arbitrary<WatchEventFormat>;
  /** Whether to draw `parsed:` terms. */
  parsed?: boolean;
}

export function searchTerm(parts: SearchTermParts): fc.Arbitrary<SearchTerm> {
  const { pattern } = parts;
  const negated = fc.boolean();
  const terms: fc.Arbitrary<SearchTerm>[] = [
    fc.record({ kind: fc.constant('text' as const), negated, pattern }),
    fc.record({ kind: fc.constant('field' as const), negated, field: parts.field, pattern }),
    fc.record({
      kind: fc.constant('column' as const),
      negated,
      column: fc.constantFrom('source' as const, 'host' as const),
      pattern,
    }),
    fc.record({
      kind: fc.constant('logsource' as const),
      negated,
      key: fc.constantFrom('product' as const, 'service' as const, 'category' as const),
      pattern,
    }),
    parts.address.chain(({ address, prefix }) =>
      fc.record({
        kind: fc.constant('address' as const),
        negated,
        address: fc.constant(address),
        prefix: fc.constant(prefix),
      }),
    ),
  ];
  if (parts.format !== undefined)
    terms.push(fc.record({ kind: fc.constant('format' as const), negated, format: parts.format }));
  if (parts.parsed === true)
    terms.push(fc.record({ kind: fc.constant('parsed' as const), negated, parsed: fc.boolean() }));
  return fc.oneof(...terms);
}
