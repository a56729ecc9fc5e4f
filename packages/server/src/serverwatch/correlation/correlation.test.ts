import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parse, parseAllDocuments, parseDocument } from 'yaml';
import { RempartError } from '@rempart/core';
import {
  conditionHolds,
  loadCorrelation,
  loadCorrelationsFromText,
  SigmaCorrelationError,
  type CorrelationRule,
} from './correlation.js';

const SIGMA_RULES = fileURLToPath(new URL('../../../assets/serverwatch/sigmahq/rules/', import.meta.url));

const SPEC = fileURLToPath(
  new URL(
    '../../../assets/serverwatch/sigmahq/spec/sigma-correlation-rules-specification.md',
    import.meta.url,
  ),
);
/** The YAML examples of the correlation specification, word for word. */
const specExamples = [...readFileSync(SPEC, 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** The example of the specification that starts with `start`. */
function example(start: string): string {
  const found = specExamples.find((text) => text.startsWith(start));
  if (found === undefined) throw new Error(`the specification has no example starting with ${start}`);
  return found;
}
// Spec § Example "Failed Logins Followed by Successful Login".
const SPEC_EXAMPLE = example('title: Correlation - Multiple Failed Logins');

const load = (yaml: string, file = 'mr_test.yml'): CorrelationRule => loadCorrelation(parse(yaml), file);

/** The error `run` throws; fails the test when it throws nothing or something else. */
function refusal(run: () => unknown): SigmaCorrelationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SigmaCorrelationError);
    return error as SigmaCorrelationError;
  }
  throw new Error('expected a SigmaCorrelationError, got a result');
}

describe('the examples of the correlation specification', () => {
  it('reads the event_count example: 100 failed logins to a host in an hour', () => {
    // Spec § Event Count, as published.
    const rule = load(example('title: Many failed logins'));
    expect(rule).toMatchObject({
      title: 'Many failed logins',
      id: '0e95725d-7320-415d-80f7-004da920fc11',
      type: 'event_count',
      rules: ['5638f7c0-ac70-491d-8465-2a65075e0d86'],
      groupBy: ['ComputerName'],
      timespan: '1h',
      timespanMs: 3_600_000,
      condition: { gte: 100 },
      generate: false,
      unsupported: [],
    });
    expect(rule.field).toBeUndefined();
  });

  it('reads the value_count example: more than 100 user accounts per source and destination in a day', () => {
    // Spec § Value Count, as published.
    const rule = load(example('title: Failed login'));
    expect(rule).toMatchObject({
      type: 'value_count',
      groupBy: ['ComputerName', 'WorkstationName'],
      timespanMs: 86_400_000,
      condition: { gte: 100 },
      field: ['User'],
    });
  });

  it('reads the temporal example and needs all three rules when there is no condition', () => {
    // Spec § Temporal Proximity: the example is only the correlation section; a title is mandatory.
    const rule = load(`title: Reconnaissance\n${example('correlation:\n    type: temporal\n')}`);
    expect(rule).toMatchObject({
      type: 'temporal',
      rules: ['recon_cmd_a', 'recon_cmd_b', 'recon_cmd_c'],
      timespanMs: 300_000,
      condition: { gte: 3 },
    });
    expect(rule.id).toBeUndefined();
  });

  it('reads the temporal_ordered example: failed logins followed by a success of the same account', () => {
    // Spec § Ordered Temporal Proximity, correlation section as published.
    const rule = load(
      `title: Failed logins then a success\n${example('correlation:\n    type: temporal_ordered\n')}`,
    );
    expect(rule).toMatchObject({
      type: 'temporal_ordered',
      rules: ['many_failed_logins', 'successful_login'],
      condition: { gte: 2 },
    });
  });

  it('reads the range "101 to 200" as both comparisons', () => {
    // Spec § Condition: "To define a range, you can use the conjunction 'AND' in the mapping."
    const rule = load(`
title: Between 101 and 200
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User]
  timespan: 1h
  condition:
    gt: 100
    lte: 200
`);
    expect(rule.condition).toEqual({ gt: 100, lte: 200 });
    expect([100, 101, 200, 201].map((n) => conditionHolds(rule.condition, n))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it('reads the field name aliases example', () => {
    // Spec § Field Name Aliases Example, as published ("—" for title and id).
    const rule = load(example('title: —'));
    expect(rule.aliases).toEqual({
      internal_ip: { internal_error: 'destination.ip', new_network_connection: 'source.ip' },
      remote_ip: { internal_error: 'source.ip', new_network_connection: 'destination.ip' },
    });
    expect(rule.timespanMs).toBe(10_000);
  });

  it('reads the two correlations of the complete example and leaves its detection rules alone', () => {
    // Spec § Example "Failed Logins Followed by Successful Login": four documents, two correlations.
    const rules = loadCorrelationsFromText(SPEC_EXAMPLE, 'mr_failed_then_success.yml');
    expect(rules.map((r) => [r.title, r.type, r.name, r.level])).toEqual([
      [
        'Correlation - Multiple Failed Logins Followed by Successful Login',
        'temporal_ordered',
        undefined,
        'high',
      ],
      ['Multiple failed logons', 'event_count', 'multiple_failed_login', undefined],
    ]);
    expect(rules[0]).toMatchObject({
      author: 'Florian Roth (Nextron Systems)',
      references: ['https://reference.com'],
    });
  });
});

describe('a correlation rule that cannot be run', () => {
  const valid = {
    title: 'Brute force',
    correlation: {
      type: 'event_count',
      rules: ['failed_login'],
      'group-by': ['IpAddress'],
      timespan: '5m',
      condition: { gte: 10 },
    },
  };
  const withCorrelation = (patch: Record<string, unknown>) => ({
    ...valid,
    correlation: { ...valid.correlation, ...patch },
  });

  it.each([
    ['a list', [valid], /the document: a correlation rule is a YAML mapping/],
    ['a detection rule', { title: 'x', detection: {} }, /no correlation section/],
    ['no title', { correlation: valid.correlation }, /: title: missing$/],
    [
      'a detection beside the correlation',
      { ...valid, detection: { s: { a: 1 } } },
      /: detection: a correlation rule has no log source or detection of its own$/,
    ],
    [
      'an unknown type',
      withCorrelation({ type: 'event_sum' }),
      /correlation\.type: unknown correlation type "event_sum"/,
    ],
    ['no rules', withCorrelation({ rules: [] }), /correlation\.rules:/],
    ['a rule listed twice', withCorrelation({ rules: ['a', 'a'] }), /correlation\.rules: a is listed twice/],
    ['a timespan in weeks', withCorrelation({ timespan: '1w' }), /correlation\.timespan: "1w" is not/],
    ['an upper-case unit', withCorrelation({ timespan: '5M' }), /correlation\.timespan: "5M"/],
    ['a zero timespan', withCorrelation({ timespan: '0m' }), /correlation\.timespan/],
    ['a timespan over a year', withCorrelation({ timespan: '367d' }), /longer than 366 days/],
    ['no condition for event_count', withCorrelation({ condition: undefined }), /needs a condition/],
    ['a condition of words', withCorrelation({ condition: { gte: 'ten' } }), /correlation\.condition\.gte/],
    ['an unknown comparison', withCorrelation({ condition: { ge: 10 } }), /correlation\.condition/],
    ['a condition nothing passes', withCorrelation({ condition: { gt: 5, lt: 6 } }), /no count can pass/],
    [
      'a condition only an empty window passes',
      withCorrelation({ condition: { lt: 1 } }),
      /no count can pass/,
    ],
    [
      'a temporal condition past its number of rules',
      withCorrelation({ type: 'temporal', rules: ['a', 'b'], condition: { gte: 3 } }),
      /correlation\.condition: no count of 1 to 2 rules passes this condition/,
    ],
    ['a field on event_count', withCorrelation({ condition: { gte: 1, field: 'User' } }), /only value_count/],
    [
      'value_count without a field',
      withCorrelation({ type: 'value_count', condition: { gte: 3 } }),
      /value_count needs the field/,
    ],
    [
      'an alias for a rule not correlated',
      withCorrelation({ aliases: { ip: { other_rule: 'src_ip' } } }),
      /correlation\.aliases\.ip\.other_rule: other_rule is not one of the correlated rules/,
    ],
    ['a group-by field twice', withCorrelation({ 'group-by': ['a', 'a'] }), /group-by: a is listed twice/],
  ])('is refused, naming the file and the place, when it has %s', (_, doc, message) => {
    const error = refusal(() => loadCorrelation(doc, 'mr_bad.yml'));
    expect(error.message).toMatch(/^mr_bad\.yml: /);
    expect(error.message).toMatch(message);
    expect(error).toBeInstanceOf(RempartError);
    expect(error.code).toBe('validation_failed');
    expect(error.unsupported).toBeUndefined();
  });

  it.each([
    ['value_sum', 'title: Possible Exfiltration to Website'],
    ['value_avg', 'title: Suspicious average network traffic'],
    ['value_percentile', 'title: A computer spawned'],
  ])(
    'says by name that %s, in the example of the specification, is valid Sigma it does not run',
    (type, start) => {
      const error = refusal(() => load(example(start), 'mr_metric.yml'));
      expect(error.unsupported).toBe(`type ${type}`);
      expect(error.message).toBe(
        `mr_metric.yml: correlation.type: correlation type ${type} is not supported`,
      );
    },
  );

  it('says a metric correlation is not supported before finding fault with its threshold', () => {
    const avg = { type: 'value_avg', condition: { field: 'BytesOut', gt: 0.5 } };
    expect(refusal(() => loadCorrelation(withCorrelation(avg), 'f.yml')).unsupported).toBe('type value_avg');
  });

  it('says by name that temporal_ordered over only some of its rules is not run', () => {
    const patch = { type: 'temporal_ordered', rules: ['a', 'b', 'c'], condition: { gte: 2 } };
    const error = refusal(() => loadCorrelation(withCorrelation(patch), 'mr_some.yml'));
    expect(error.unsupported).toBe('temporal_ordered condition');
    expect(error.message).toMatch(/^mr_some\.yml: correlation\.condition: .*not supported/);
  });

  it('names what it reads without acting on it, instead of ignoring it silently', () => {
    const rule = loadCorrelation({ ...withCorrelation({ window: 'tumbling' }), taxonomy: 'ecs' }, 'mr_x.yml');
    expect(rule.unsupported).toEqual([
      'correlation.window: not part of the specification',
      'taxonomy ecs: field names are read as written',
    ]);
  });

  it('runs temporal_ordered with a condition that still means all of its rules', () => {
    const rule = loadCorrelation(
      withCorrelation({ type: 'temporal_ordered', rules: ['a', 'b'], condition: { eq: 2 } }),
      'x',
    );
    expect(rule.condition).toEqual({ eq: 2 });
  });

  it('gives the line of what is wrong when read from text', () => {
    const text = [
      'title: Brute force', // 1
      'correlation:', // 2
      '  type: event_count', // 3
      '  rules: [failed_login]', // 4
      '  group-by: [IpAddress]', // 5
      '  timespan: 5 minutes', // 6
      '  condition: { gte: 10 }', // 7
    ].join('\n');
    const error = refusal(() => loadCorrelationsFromText(text, 'mr_brute_force.yml'));
    expect(error.line).toBe(6);
    expect(error.message).toBe(
      'mr_brute_force.yml:6: correlation.timespan: "5 minutes" is not a number and s, m, h or d',
    );
    // A missing key is placed where its parent starts.
    const noCondition = refusal(() =>
      loadCorrelationsFromText(
        text.replace('  condition: { gte: 10 }', '').replace('5 minutes', '5m'),
        'f.yml',
      ),
    );
    expect(noCondition.message).toBe(
      'f.yml:3: correlation.condition: event_count needs a condition (gt, gte, lt…)',
    );
    // The second document of a stream is counted from the top of the file.
    const second = refusal(() =>
      loadCorrelationsFromText(
        `${text.replace('5 minutes', '5m')}\n---\ntitle: y\ncorrelation:\n  type: nope\n`,
        'g.yml',
      ),
    );
    expect(second.message).toBe('g.yml:11: correlation.rules: missing');
  });

  it('gives the line with a parsed document too, and of malformed YAML', () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument('title: x\ncorrelation:\n  type: 7\n', { lineCounter });
    expect(refusal(() => loadCorrelation(doc, 'h.yml', { lineCounter })).message).toMatch(
      /^h\.yml:3: correlation\.type:/,
    );
    // A plain object is placed where its document starts, when the caller knows it.
    const plain = refusal(() =>
      loadCorrelation({ title: 'x', correlation: { type: 7 } }, 'k.yml', { line: 21 }),
    );
    expect(plain.message).toMatch(/^k\.yml:21: correlation\.type:/);
    const broken = refusal(() => loadCorrelationsFromText('title: x\ncorrelation:\n  rules: [a\n', 'i.yml'));
    expect(broken.message).toMatch(/^i\.yml:\d+: YAML: /);
    expect(broken.line).toBeGreaterThan(0);
    const twice = refusal(() => loadCorrelationsFromText('title: x\ntitle: y\ncorrelation: {}\n', 'j.yml'));
    expect(twice.message).toMatch(/^j\.yml:2: YAML: .*unique/i);
  });

  it('whatever document it is given, returns a runnable rule or refuses it with a SigmaCorrelationError', () => {
    const word = fc.constantFrom('a', 'failed_login', 'User', 'x.y', '', '5m', '0s', '10', 'gte', 'type');
    const anyValue = fc.oneof(fc.anything(), word, fc.integer(), fc.array(word));
    const correlation = fc.record(
      {
        type: fc.oneof(
          fc.constantFrom('event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'x'),
          anyValue,
        ),
        rules: fc.oneof(fc.array(word, { maxLength: 4 }), anyValue),
        'group-by': fc.oneof(fc.array(word, { maxLength: 3 }), anyValue),
        timespan: fc.oneof(
          fc
            .tuple(fc.integer({ min: -5, max: 1e11 }), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'M', ''))
            .map(([n, u]) => `${n}${u}`),
          anyValue,
        ),
        condition: fc.oneof(
          fc.dictionary(
            fc.constantFrom('gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'field', 'ge'),
            fc.oneof(fc.integer({ min: -3, max: 200 }), word, fc.double()),
          ),
          anyValue,
        ),
        aliases: fc.oneof(fc.dictionary(word, fc.dictionary(word, word)), anyValue),
        generate: fc.oneof(fc.boolean(), anyValue),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.anything(),
      fc.record(
        {
          title: fc.oneof(word, anyValue),
          id: anyValue,
          level: fc.oneof(fc.constant('high'), anyValue),
          correlation,
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(doc, (input) => {
        let rule: CorrelationRule;
        try {
          rule = loadCorrelation(input, 'fuzz.yml');
        } catch (error) {
          expect(error).toBeInstanceOf(SigmaCorrelationError);
          expect((error as Error).message.startsWith('fuzz.yml')).toBe(true);
          return;
        }
        expect(rule.timespanMs).toBeGreaterThan(0);
        expect(rule.rules.length).toBeGreaterThan(0);
        expect(Object.keys(rule.condition).length).toBeGreaterThan(0);
        // Some count passes the condition, or the rule could never raise anything.
        const counts = [...Array(300).keys()].slice(
          1,
          rule.type.startsWith('temporal') ? rule.rules.length + 1 : 300,
        );
        expect(counts.some((n) => conditionHolds(rule.condition, n))).toBe(true);
        if (rule.type === 'value_count') expect(rule.field?.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('whatever text it is given, reads it or refuses it with a SigmaCorrelationError', () => {
    const lines = fc.array(
      fc.oneof(
        fc.constantFrom(
          'title: t',
          'correlation:',
          '  type: event_count',
          '  rules: [a, b]',
          '  timespan: 1h',
          '  condition: {gte: 2}',
          '  group-by:',
          '    - User',
          '---',
          '  - [',
          'x: &a [*a]',
          '"',
        ),
        fc.string(),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(lines, (l) => {
        try {
          loadCorrelationsFromText(l.join('\n'), 'fuzz.yml');
        } catch (error) {
          expect(error).toBeInstanceOf(SigmaCorrelationError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('the SigmaHQ rules shipped with the project', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? files(join(dir, entry.name))
        : entry.name.endsWith('.yml')
          ? [join(dir, entry.name)]
          : [],
    );

  it('read without error, each file yielding exactly its correlation documents', () => {
    const all = files(SIGMA_RULES);
    // The selection holds web, Linux and Exchange detection rules (SOURCE.md there); none is a
    // correlation yet, but one that comes must load, and no detection rule may be taken for one.
    expect(all.length).toBeGreaterThan(100);
    for (const file of all) {
      const text = readFileSync(file, 'utf8');
      const expected = parseAllDocuments(text).filter((doc) => doc.has('correlation')).length;
      expect(loadCorrelationsFromText(text, file)).toHaveLength(expected);
    }
  });
});
