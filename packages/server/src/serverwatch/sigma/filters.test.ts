import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../event.js';
import { compileRule } from './compile.js';
import { applyFilters } from './filters.js';
import { loadSigmaRule, type SigmaFilter } from './rule.js';

const spec = readFileSync(
  fileURLToPath(
    new URL('../../../assets/serverwatch/sigmahq/spec/sigma-filters-specification.md', import.meta.url),
  ),
  'utf8',
);
/** The filter example of the filters specification: `User|startswith: 'adm_'` over two rules. */
const specFilter = [...spec.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .find((t) => t.includes('\nfilter:'))!;

const filter = (text: string) => {
  const loaded = loadSigmaRule(text, 'mf_filter.yml');
  if (loaded.kind !== 'filter') throw new Error('not a filter');
  return loaded;
};
const rule = (id: string, logsource = 'category: process_creation\n    product: windows') =>
  compileRule(
    loadSigmaRule(
      `title: Rule ${id}\nid: ${id}\nlogsource:\n    ${logsource}\ndetection:\n    selection:\n        Image|endswith: '\\rar.exe'\n    condition: selection\n`,
      `${id}.yml`,
    ),
  );
const event = (fields: Record<string, string>): WatchEvent => ({
  time: 0,
  logsource: { category: 'process_creation', product: 'windows' },
  fields,
  raw: '',
  parsed: true,
});

describe('Sigma filters (filters specification)', () => {
  const rar = '6f3e2987-db24-4c78-a860-b4f4095a7095';
  const other = '11111111-2222-4333-8444-555555555555';

  it("the specification's example excludes administrators' events from the rules it names, and only those", () => {
    const { rules, problems } = applyFilters([rule(rar), rule(other)], [filter(specFilter)]);
    const admin = event({ Image: 'C:\\rar.exe', User: 'adm_alice' });
    const agent = event({ Image: 'C:\\rar.exe', User: 'bob' });
    expect(rules.map((r) => [r.matches(admin), r.matches(agent)])).toEqual([
      [false, true],
      [true, true],
    ]);
    // The second rule the example names is not loaded here: that is said, not ignored.
    expect(problems).toEqual([
      {
        filter: { file: 'mf_filter.yml', title: 'Filter Administrator account' },
        rule: 'df0841c0-9846-4e9f-ad8a-7df91571771b',
        problem: 'no such rule',
      },
    ]);
  });

  it('names rules by name as well as by id, and combines several filters of one rule', () => {
    const named = compileRule(
      loadSigmaRule(
        "title: Named\nname: rar_use\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\rar.exe'\n    condition: selection\n",
        'named.yml',
      ),
    );
    const byUser = filter(
      'title: F1\nlogsource:\n    product: windows\nfilter:\n    rules: rar_use\n    selection:\n        User: svc_backup\n    condition: selection\n',
    );
    const byPath = filter(
      "title: F2\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - rar_use\n    path:\n        Image|startswith: 'C:\\Program Files\\'\n    user:\n        User: nobody\n    condition: path and not user\n",
    );
    const { rules, problems } = applyFilters([named], [byUser, byPath]);
    expect(problems).toEqual([]);
    const matches = (fields: Record<string, string>) => rules[0]!.matches(event(fields));
    expect(matches({ Image: 'C:\\tmp\\rar.exe', User: 'svc_backup' })).toBe(false);
    expect(matches({ Image: 'C:\\Program Files\\WinRAR\\rar.exe', User: 'alice' })).toBe(false);
    expect(matches({ Image: 'C:\\Program Files\\WinRAR\\rar.exe', User: 'nobody' })).toBe(true);
    expect(matches({ Image: 'C:\\tmp\\rar.exe', User: 'alice' })).toBe(true);
  });

  it('is not applied to a rule of another log source, and says so', () => {
    const linux = rule(rar, 'product: linux');
    const { rules, problems } = applyFilters([linux], [filter(specFilter)]);
    expect(rules[0]).toBe(linux);
    expect(problems.map((p) => [p.rule, p.problem])).toEqual([
      [rar, 'logsource differs'],
      ['df0841c0-9846-4e9f-ad8a-7df91571771b', 'no such rule'],
    ]);
  });

  it('is not applied when it uses what the engine does not support, and says what', () => {
    const unsupported: SigmaFilter = filter(
      "title: F\nlogsource:\n    product: windows\nfilter:\n    rules: [x]\n    selection:\n        User|expand: '%Admins%'\n    condition: selection\n",
    );
    expect(applyFilters([rule(rar)], [unsupported]).problems).toEqual([
      {
        filter: { file: 'mf_filter.yml', title: 'F' },
        rule: 'x',
        problem: 'unsupported',
        unsupported: ['placeholder %Admins%'],
      },
    ]);
  });

  it('a filter without rules or condition is refused on its line', () => {
    expect(() =>
      loadSigmaRule(
        'title: F\nlogsource:\n    product: windows\nfilter:\n    selection:\n        User: x\n    condition: selection\n',
        'f.yml',
      ),
    ).toThrow(/^f\.yml:5: filter\.rules: missing/);
    expect(() =>
      loadSigmaRule(
        'title: F\nlogsource:\n    product: windows\nfilter:\n    rules: [a]\n    selection:\n        User: x\n',
        'f.yml',
      ),
    ).toThrow(/^f\.yml:5: filter: no condition/);
  });
});
