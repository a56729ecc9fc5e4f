import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileRule } from './compile.js';
import { isRunnable, loadSigmaDocuments, loadSigmaRule, SigmaRuleError, type LoadedRule } from './rule.js';

const shared = fileURLToPath(new URL('../../../assets/serverwatch/sigmahq/', import.meta.url));
const rulesDir = join(shared, 'rules');

function ymlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ymlFiles(path);
    return entry.name.endsWith('.yml') ? [path] : [];
  });
}
const sigmaHq = ymlFiles(rulesDir)
  .sort()
  .map((path) => ({ path, name: relative(rulesDir, path), text: readFileSync(path, 'utf8') }));

/** The YAML blocks of a specification file, as the specification writes them. */
function specExamples(file: string): string[] {
  const text = readFileSync(join(shared, 'spec', file), 'utf8');
  return [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const whoami = specExamples('sigma-rules-specification.md').find((t) =>
  t.startsWith('title: Whoami Execution'),
)!;

describe('loading a detection rule', () => {
  it("reads the specification's example rule whole", () => {
    const rule = loadSigmaRule(whoami, 'whoami.yml');
    expect(rule).toMatchObject({
      kind: 'detection',
      file: 'whoami.yml',
      title: 'Whoami Execution',
      description: 'Detects a whoami.exe execution',
      references: [
        'https://speakerdeck.com/heirhabarov/hunting-for-privilege-escalation-in-windows-environment',
      ],
      author: 'Florian Roth',
      date: '2019-10-23',
      logsource: { category: 'process_creation', product: 'windows' },
      level: 'high',
      unsupported: [],
    });
    if (rule.kind !== 'detection') throw new Error('not a detection rule');
    expect(rule.detection.conditionText).toEqual(['selection']);
    expect(rule.detection.identifiers.map((i) => i.name)).toEqual(['selection']);
    expect(rule.detection.identifiers[0]!.alternatives[0]![0]).toMatchObject({
      field: 'Image',
      modifiers: [],
      values: [{ value: 'C:\\Windows\\System32\\whoami.exe', line: 12 }],
    });
  });

  it('keeps id, status, tags, fields, false positives and related rules', () => {
    const rule = loadSigmaRule(
      [
        'title: T',
        'id: 929a690e-bef0-4204-a928-ef5e620d6fcc',
        'name: t_rule',
        'status: test',
        'related:',
        '    - id: 08fbc97d-0a2f-491c-ae21-8ffcfd3174e9',
        '      type: derived',
        'license: DRL-1.1',
        'logsource:',
        '    service: sshd',
        'detection:',
        '    sel:',
        '        a: 1',
        '    condition: sel',
        'fields:',
        '    - a',
        'falsepositives:',
        '    - Admins',
        'tags:',
        '    - attack.t1110',
        'scope:',
        '    - server',
        'custom_field: kept out of the way',
      ].join('\n'),
      'meta.yml',
    );
    expect(rule).toMatchObject({
      id: '929a690e-bef0-4204-a928-ef5e620d6fcc',
      name: 't_rule',
      status: 'test',
      related: [{ id: '08fbc97d-0a2f-491c-ae21-8ffcfd3174e9', type: 'derived' }],
      license: 'DRL-1.1',
      fields: ['a'],
      falsepositives: ['Admins'],
      tags: ['attack.t1110'],
      scope: ['server'],
    });
  });
});

describe('what the engine does not run', () => {
  it('a rule of another taxonomy than sigma is loaded, with the taxonomy reported unsupported', () => {
    const rule = loadSigmaRule(
      'title: T\ntaxonomy: custom\nlogsource:\n    product: x\ndetection:\n    s:\n        process_command_line: x\n    condition: s\n',
      't.yml',
    );
    expect(rule.kind === 'detection' && rule.unsupported).toEqual(['taxonomy custom']);
    expect(isRunnable(rule)).toBe(false);
  });

  it('a detection timeframe (Sigma 1 aggregations) is reported unsupported', () => {
    const rule = loadSigmaRule(
      'title: T\nlogsource:\n    product: x\ndetection:\n    s:\n        a: x\n    timeframe: 5m\n    condition: s\n',
      't.yml',
    );
    expect(rule.kind === 'detection' && rule.unsupported).toEqual(['detection timeframe']);
  });
});

describe('the SigmaHQ rules shipped in assets/serverwatch/sigmahq (DRL 1.1)', () => {
  it('are the 147 files', () => {
    expect(sigmaHq).toHaveLength(147);
  });

  it('all load as detection rules, none with anything unsupported, and all compile', () => {
    const unsupported: Record<string, string[]> = {};
    const kinds = new Set<string>();
    for (const file of sigmaHq) {
      for (const rule of loadSigmaDocuments(file.text, file.name)) {
        kinds.add(rule.kind);
        if (rule.kind === 'detection' && rule.unsupported.length > 0)
          unsupported[file.name] = rule.unsupported;
        if (rule.kind === 'detection' && rule.unsupported.length === 0)
          expect(compileRule(rule).rule).toBe(rule);
      }
    }
    expect(unsupported).toEqual({});
    expect([...kinds]).toEqual(['detection']);
  });

  it('keep their authors and licence', () => {
    for (const file of sigmaHq) {
      const rule = loadSigmaRule(file.text, file.name);
      expect(rule.kind === 'detection' && rule.author, file.name).toBeTruthy();
    }
  });
});

describe("Rempart's own rules for mail servers (assets/serverwatch/rules)", () => {
  it('load, their detection rules compile with nothing unsupported, their correlations are recognised', () => {
    const dir = fileURLToPath(new URL('../../../assets/serverwatch/rules/', import.meta.url));
    const documents = ymlFiles(dir).flatMap((path) =>
      loadSigmaDocuments(readFileSync(path, 'utf8'), relative(dir, path)),
    );
    const detections = documents.filter((d) => d.kind === 'detection');
    expect(detections.map((d) => [d.title, d.unsupported])).toEqual(detections.map((d) => [d.title, []]));
    for (const rule of detections) expect(compileRule(rule).rule).toBe(rule);
    expect(detections).toHaveLength(6);
    expect(documents.filter((d) => d.kind === 'correlation')).toHaveLength(5);
  });
});

describe('other Sigma documents', () => {
  it("recognises the specification's correlation example file: two correlations and two rules in one", () => {
    const example = specExamples('sigma-correlation-rules-specification.md').find((t) =>
      t.includes('\n---\n'),
    );
    const documents = loadSigmaDocuments(example!, 'correlation.yml');
    expect(documents.map((d) => [d.kind, d.title, d.line])).toEqual([
      ['correlation', 'Correlation - Multiple Failed Logins Followed by Successful Login', 1],
      ['correlation', 'Multiple failed logons', 21],
      ['detection', 'Single failed login', 35],
      ['detection', 'Successful login', 48],
    ]);
    const first = documents[0]!;
    expect(first.kind === 'correlation' && first.document.correlation).toMatchObject({
      type: 'temporal_ordered',
    });
    expect(() => loadSigmaRule(example!, 'correlation.yml')).toThrow(
      /^correlation\.yml:21: the file holds 4 YAML documents, not one/,
    );
  });

  it('recognises a correlation rule alone as not a detection rule, which compileRule refuses', () => {
    const example = specExamples('sigma-correlation-rules-specification.md').find((t) =>
      t.startsWith('title: Many failed logins'),
    )!;
    const rule = loadSigmaRule(example, 'many.yml');
    expect(rule).toMatchObject({
      kind: 'correlation',
      title: 'Many failed logins',
      id: '0e95725d-7320-415d-80f7-004da920fc11',
    });
    expect(isRunnable(rule)).toBe(false);
    expect(() => compileRule(rule)).toThrow(/a correlation rule, not a detection rule/);
  });

  it("reads the specification's filter example", () => {
    const example = specExamples('sigma-filters-specification.md').find((t) => t.includes('\nfilter:'))!;
    const filter = loadSigmaRule(example, 'mf_admins.yml');
    expect(filter).toMatchObject({
      kind: 'filter',
      title: 'Filter Administrator account',
      rules: ['6f3e2987-db24-4c78-a860-b4f4095a7095', 'df0841c0-9846-4e9f-ad8a-7df91571771b'],
      logsource: { category: 'process_creation', product: 'windows' },
      unsupported: [],
    });
  });
});

describe('a broken rule', () => {
  const base = [
    'title: Broken',
    'logsource:',
    '    product: linux',
    'detection:',
    '    selection:',
    '        User: root',
    '    condition: selection',
    'level: high',
  ];
  const broken = (line: number, replacement: string) =>
    base.map((l, i) => (i === line - 1 ? replacement : l)).join('\n');
  const problem = (text: string) => {
    try {
      loadSigmaRule(text, 'rules/broken.yml');
    } catch (error) {
      expect(error).toBeInstanceOf(SigmaRuleError);
      return (error as SigmaRuleError).message;
    }
    throw new Error('loaded');
  };

  it('names its file and line: YAML syntax', () => {
    expect(problem(broken(6, '        User: [root'))).toMatch(/^rules\/broken\.yml:\d+: not valid YAML/);
    expect(problem(broken(6, '        User: root\n        User: admin'))).toMatch(
      /^rules\/broken\.yml:7: not valid YAML: Map keys must be unique/,
    );
  });

  it('names its file and line: attributes', () => {
    expect(problem(broken(8, 'level: severe'))).toMatch(/^rules\/broken\.yml:8: level: /);
    expect(problem(broken(1, 'title: [a, b]'))).toMatch(/^rules\/broken\.yml:1: title: /);
    expect(problem(base.slice(1).join('\n'))).toMatch(/^rules\/broken\.yml:1: title: /);
    expect(problem(broken(3, '    product: [linux]'))).toMatch(/^rules\/broken\.yml:3: logsource\.product: /);
  });

  it('names its file and line: detection', () => {
    expect(problem(broken(7, '    condition: selection and'))).toMatch(
      /^rules\/broken\.yml:7: detection\.condition: /,
    );
    expect(problem(broken(7, '    nothing: here'))).toMatch(/^rules\/broken\.yml:5: detection: no condition/);
    expect(problem(broken(6, '        User:\n            nested: map'))).toMatch(
      /^rules\/broken\.yml:7: selection\.User: a value must be/,
    );
    expect(problem(broken(6, '        User|exists: maybe'))).toMatch(
      /^rules\/broken\.yml:6: field User: exists needs true or false/,
    );
    expect(problem(broken(6, '        User|i: x'))).toMatch(/^rules\/broken\.yml:6: .*flag of re/);
    expect(problem(broken(6, '        User|re|cidr: x'))).toMatch(
      /^rules\/broken\.yml:6: .*cannot be combined/,
    );
    expect(problem(broken(6, '        User|contains|contains: x'))).toMatch(
      /^rules\/broken\.yml:6: .*given twice/,
    );
  });

  it('names the line of an empty detection section', () => {
    expect(problem([...base.slice(0, 3), 'detection:', 'level: high'].join('\n'))).toMatch(
      /^rules\/broken\.yml:4: detection: must be a map/,
    );
  });

  it('is refused when it is a Sigma 1 rule collection', () => {
    expect(problem(['action: global', ...base].join('\n'))).toMatch(
      /^rules\/broken\.yml:1: action: global: Sigma 1 rule collections are not supported/,
    );
  });

  it('is refused when it is not a map, or is empty', () => {
    expect(problem('- a\n- b')).toMatch(/^rules\/broken\.yml:1: a Sigma rule is a YAML map/);
    expect(problem('')).toMatch(/^rules\/broken\.yml: the file holds no Sigma rule/);
  });

  it('cannot exhaust the stack by nesting', () => {
    expect(problem(`title: ${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toMatch(
      /^rules\/broken\.yml:1: nested more than 64 levels/,
    );
    const stairs = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(problem(stairs)).toMatch(/^rules\/broken\.yml:66: nested more than 64 levels/);
  });

  it('cannot blow up through aliases', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'title: bomb',
    ].join('\n');
    expect(problem(bomb)).toMatch(/^rules\/broken\.yml:1: cannot be read/);
  });
});

describe('the loader, fuzzed', () => {
  const expectOnlySigmaErrors = (text: string) => {
    let loaded: LoadedRule[];
    try {
      loaded = loadSigmaDocuments(text, 'fuzz.yml');
    } catch (error) {
      if (!(error instanceof SigmaRuleError)) throw error;
      expect(error.message.startsWith('fuzz.yml')).toBe(true);
      // Every refusal points at a line, but that of a file with nothing in it.
      if (error.problem !== 'the file holds no Sigma rule')
        expect(error.line, error.message).toBeGreaterThan(0);
      return;
    }
    // What loads compiles, unless it says what it does not support.
    for (const rule of loaded) if (isRunnable(rule)) compileRule(rule);
  };

  it('never throws anything but SigmaRuleError on random YAML', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
    const key = fc.oneof(
      fc.constantFrom(
        'title',
        'logsource',
        'detection',
        'condition',
        'selection',
        'filter',
        'correlation',
        'rules',
        'level',
        'id',
      ),
      fc.string({ maxLength: 12 }),
      fc
        .tuple(
          fc.constantFrom('Image', 'User', '', 'a.b'),
          fc.array(
            fc.constantFrom(
              ...'contains all re i cidr base64offset wide exists fieldref lt neq expand windash foo hour'.split(
                ' ',
              ),
            ),
            { maxLength: 3 },
          ),
        )
        .map(([f, mods]) => [f, ...mods].join('|')),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('tree'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(tree, (value) => expectOnlySigmaErrors(stringify(value))),
      { numRuns: 400 },
    );
  });

  it('never throws anything but SigmaRuleError on mutated SigmaHQ rules, and names the line when it refuses one', () => {
    const mutation = fc.record({
      file: fc.integer({ min: 0, max: sigmaHq.length - 1 }),
      at: fc.nat(),
      cut: fc.nat({ max: 8 }),
      insert: fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.constantFrom(
          ':',
          '- ',
          '|',
          '\n',
          '  ',
          "'",
          '"',
          '*',
          '&a',
          '*a',
          '[',
          '{',
          '#',
          '|re',
          '|cidr',
          ' and ',
          ' of ',
          '(',
          ')',
          'null',
        ),
      ),
    });
    fc.assert(
      fc.property(mutation, ({ file, at, cut, insert }) => {
        const text = sigmaHq[file]!.text;
        const position = at % (text.length + 1);
        const mutated = text.slice(0, position) + insert + text.slice(position + cut);
        try {
          expectOnlySigmaErrors(mutated);
        } catch (error) {
          throw new Error(`${sigmaHq[file]!.name} at ${position}: ${String(error)}`, { cause: error });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the line of the problem when one value is broken in a real rule', () => {
    const file = sigmaHq.find((f) => f.text.includes('|contains:'))!;
    const lines = file.text.split('\n');
    const index = lines.findIndex((l) => l.includes('|contains:'));
    lines[index] = lines[index]!.replace('|contains:', '|contains|exists:');
    expect(() => loadSigmaRule(lines.join('\n'), file.name)).toThrow(
      new RegExp(`^${file.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${index + 1}: `),
    );
  });
});
