import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identifiersOf, parseCondition, undefinedIdentifier, type ConditionNode } from './condition.js';

const ast = (condition: string) => {
  const result = parseCondition(condition);
  if (!result.ok) throw new Error(result.error);
  return result.ast;
};
const ref = (name: string): ConditionNode => ({ type: 'ref', name });

describe('parsing a condition (spec §Condition)', () => {
  it('reads the forms of the specification', () => {
    expect(ast('keywords1 or keywords2')).toEqual({
      type: 'or',
      children: [ref('keywords1'), ref('keywords2')],
    });
    expect(ast('keywords and not filters')).toEqual({
      type: 'and',
      children: [ref('keywords'), { type: 'not', child: ref('filters') }],
    });
    expect(ast('selection1 and (keywords1 or keywords2)')).toEqual({
      type: 'and',
      children: [ref('selection1'), { type: 'or', children: [ref('keywords1'), ref('keywords2')] }],
    });
    expect(ast('1 of them')).toEqual({ type: 'of', quantifier: 'one', pattern: null });
    expect(ast('all of them')).toEqual({ type: 'of', quantifier: 'all', pattern: null });
    expect(ast('all of selection*')).toEqual({ type: 'of', quantifier: 'all', pattern: 'selection*' });
    expect(ast('1 of selection* and keywords')).toEqual({
      type: 'and',
      children: [{ type: 'of', quantifier: 'one', pattern: 'selection*' }, ref('keywords')],
    });
    expect(ast('1 of selection* and not 1 of filter*')).toEqual({
      type: 'and',
      children: [
        { type: 'of', quantifier: 'one', pattern: 'selection*' },
        { type: 'not', child: { type: 'of', quantifier: 'one', pattern: 'filter*' } },
      ],
    });
  });

  it('binds or loosest, then and, then not', () => {
    expect(ast('a or b and not c')).toEqual({
      type: 'or',
      children: [ref('a'), { type: 'and', children: [ref('b'), { type: 'not', child: ref('c') }] }],
    });
    expect(ast('not not a')).toEqual({ type: 'not', child: { type: 'not', child: ref('a') } });
  });

  it('reads operators in any case and keeps identifiers as written', () => {
    expect(ast('Sel AND NOT Filter')).toEqual({
      type: 'and',
      children: [ref('Sel'), { type: 'not', child: ref('Filter') }],
    });
  });

  it('says where a malformed condition goes wrong', () => {
    expect(parseCondition('a and')).toMatchObject({ ok: false, column: 6 });
    expect(parseCondition('(a or b')).toMatchObject({ ok: false, error: 'a bracket is not closed' });
    expect(parseCondition('a b')).toMatchObject({ ok: false, error: 'unexpected "b"', column: 3 });
    expect(parseCondition(')')).toMatchObject({ ok: false, column: 1 });
    expect(parseCondition('')).toMatchObject({ ok: false, error: 'the condition is empty' });
    expect(parseCondition('3 of them')).toMatchObject({ ok: false, unsupported: 'condition "3 of"' });
    expect(parseCondition('sel | count() > 5')).toMatchObject({
      ok: false,
      unsupported: 'condition aggregation (|)',
    });
    expect(parseCondition(`${'('.repeat(100_000)}a${')'.repeat(100_000)}`)).toMatchObject({
      ok: false,
      column: 65,
    });
    expect(parseCondition(`${'not '.repeat(100_000)}a`)).toMatchObject({
      ok: false,
      error: 'nested more than 64 levels deep',
    });
    expect(ast(`${'('.repeat(60)}a${')'.repeat(60)}`)).toEqual(ref('a'));
  });

  it('prints back to an equivalent condition (property)', () => {
    const name = fc
      .stringMatching(/^[a-z_][a-z0-9_]{0,6}$/)
      .filter((n) => !['and', 'or', 'not', 'of', 'them', 'all'].includes(n));
    const { node } = fc.letrec<{ node: ConditionNode }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        name.map((n) => ref(n)),
        fc.record({
          type: fc.constant('of' as const),
          quantifier: fc.constantFrom('one' as const, 'all' as const),
          pattern: fc.option(
            name.map((n) => `${n}*`),
            { nil: null },
          ),
        }),
        fc.record({ type: fc.constant('not' as const), child: tie('node') }),
        fc.record({
          type: fc.constantFrom('and' as const, 'or' as const),
          children: fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
        }),
      ),
    }));
    const print = (n: ConditionNode): string => {
      switch (n.type) {
        case 'ref':
          return n.name;
        case 'of':
          return `${n.quantifier === 'one' ? '1' : 'all'} of ${n.pattern ?? 'them'}`;
        case 'not':
          return `not (${print(n.child)})`;
        case 'and':
        case 'or':
          return n.children.map((c) => `(${print(c)})`).join(` ${n.type} `);
      }
    };
    // Brackets flatten nothing: a and (b and c) stays nested, as printed.
    fc.assert(
      fc.property(node, (n) => {
        expect(ast(print(n))).toEqual(n);
      }),
    );
  });

  it('never throws on any text, and points inside it when it refuses', () => {
    const piece = fc.constantFrom(
      'a',
      'sel_*',
      'and',
      'or',
      'not',
      '1',
      'all',
      'of',
      'them',
      '(',
      ')',
      '|',
      ' ',
      '  ',
      '2',
      'AND',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(piece, { maxLength: 12 }).map((p) => p.join(' ')),
        ),
        (text) => {
          const result = parseCondition(text);
          if (!result.ok) {
            expect(result.column).toBeGreaterThanOrEqual(1);
            expect(result.column).toBeLessThanOrEqual(text.length + 1);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('search identifier patterns', () => {
  const names = ['selection', 'selection_1', 'selection_2', 'filter_main', '_private'];

  it('match * anywhere in the pattern', () => {
    expect(identifiersOf('selection*', names)).toEqual(['selection', 'selection_1', 'selection_2']);
    expect(identifiersOf('*_main', names)).toEqual(['filter_main']);
    expect(identifiersOf('sel*_2', names)).toEqual(['selection_2']);
  });

  it('them leaves out identifiers starting with an underscore', () => {
    expect(identifiersOf(null, names)).toEqual(['selection', 'selection_1', 'selection_2', 'filter_main']);
  });

  it('a condition naming what the detection lacks is reported', () => {
    expect(undefinedIdentifier(ast('selection and missing'), names)).toBe(
      'search identifier "missing" is not defined',
    );
    expect(undefinedIdentifier(ast('1 of nothing*'), names)).toBe('no search identifier matches "nothing*"');
    expect(undefinedIdentifier(ast('all of selection* and not filter_main'), names)).toBeUndefined();
  });
});
