import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseList, ruleRank, type ParseListOptions } from './lists.js';
import { compileMatcher } from './matcher.js';

/** A matcher from lists given as [name, text, options]. */
function matcher(...lists: [string, string, Omit<ParseListOptions, 'name'>?][]) {
  return compileMatcher(lists.map(([name, text, options]) => parseList(text, { name, ...options })));
}

describe('names and the names below them', () => {
  const m = matcher(['ads', 'ads.example']);

  it('a listed name blocks itself and every name below it', () => {
    expect(m.match('ads.example')?.action).toBe('block');
    expect(m.match('a.b.ads.example')?.action).toBe('block');
  });

  it('does not block its parent, a lookalike or a name that merely ends the same', () => {
    expect(m.match('example')).toBeUndefined();
    expect(m.match('badads.example')).toBeUndefined();
    expect(m.match('ads.example.org')).toBeUndefined();
    expect(m.match('')).toBeUndefined();
  });

  it('compares names lowercase and without the root dot, as DNS does (RFC 4343)', () => {
    expect(m.match('WwW.ADS.example.')?.action).toBe('block');
  });

  it('says which list, line and rule decided, and which listed name covered the query', () => {
    const hosts = matcher(['hosts', '# header\n0.0.0.0 x.example y.example']);
    expect(hosts.match('cdn.y.example')).toEqual({
      action: 'block',
      important: false,
      kind: 'domain',
      list: 'hosts',
      line: 2,
      text: '0.0.0.0 x.example y.example',
      domain: 'y.example',
    });
  });

  it('|name^ covers the name alone, *.name the names below it alone', () => {
    const scoped = matcher(['scoped', '|exact.example^\n*.below.example']);
    expect(scoped.match('exact.example')?.action).toBe('block');
    expect(scoped.match('www.exact.example')).toBeUndefined();
    expect(scoped.match('below.example')).toBeUndefined();
    expect(scoped.match('www.below.example')?.action).toBe('block');
  });

  it('a name normalisation changed is still found (uppercase, punycode)', () => {
    const idn = matcher(['idn', 'Bücher.Example\nUPPER.example']);
    expect(idn.match('www.xn--bcher-kva.example')?.domain).toBe('xn--bcher-kva.example');
    expect(idn.match('upper.example')?.text).toBe('UPPER.example');
    expect(idn.explain('www.BÜCHER.example')[0]?.domain).toBe('xn--bcher-kva.example');
  });
});

describe('precedence', () => {
  it('an exception wins over the block it carves out, and covers the names below it', () => {
    const m = matcher(['ads', '||ads.example^\n@@||good.ads.example^']);
    expect(m.match('good.ads.example')).toMatchObject({ action: 'allow', line: 2 });
    expect(m.match('x.good.ads.example')?.action).toBe('allow');
    expect(m.match('bad.ads.example')).toMatchObject({ action: 'block', line: 1 });
  });

  it('an exception in one list lifts a block from another', () => {
    const m = matcher(['block', 'tracker.example'], ['fixes', '@@||cdn.tracker.example^']);
    expect(m.match('cdn.tracker.example')).toMatchObject({ action: 'allow', list: 'fixes' });
  });

  it('an $important block beats an exception; an $important exception beats it back', () => {
    expect(matcher(['l', '||t.example^$important\n@@||t.example^']).match('t.example')?.action).toBe('block');
    expect(
      matcher(['l', '||t.example^$important\n@@||t.example^\n@@||t.example^$important']).match('a.t.example'),
    ).toMatchObject({ action: 'allow', important: true, line: 3 });
  });

  it('an allow-list beats every blocklist, $important rules included', () => {
    const m = matcher(
      ['strict', '||example.gov^$important\n/example/'],
      ['ours', 'intranet.example.gov', { action: 'allow' }],
    );
    expect(m.match('www.intranet.example.gov')).toMatchObject({ action: 'allow', list: 'ours' });
    expect(m.match('www.example.gov')?.action).toBe('block');
  });

  it('at equal rank the most specific name decides, then the earlier list, then the earlier line', () => {
    const m = matcher(
      ['a', 'example.org\ndup.example'],
      ['b', 'www.example.org\ndup.example\nx.dup.example'],
    );
    expect(m.match('a.www.example.org')).toMatchObject({ list: 'b', domain: 'www.example.org' });
    expect(m.match('dup.example')).toMatchObject({ list: 'a', line: 2 });
    expect(m.match('x.dup.example')).toMatchObject({ list: 'b', line: 3 });
  });

  it('wildcards and regular expressions are tried after names, and only when they could change the verdict', () => {
    const m = matcher([
      'w',
      '||ads*.example^\n@@||ads1.example^\n/^tracker[0-9]+\\./\n@@/^tracker7\\.ok\\./',
    ]);
    expect(m.match('ads1.example')).toMatchObject({ action: 'allow', kind: 'domain' });
    expect(m.match('ads2.example')).toMatchObject({ action: 'block', kind: 'wildcard', line: 1 });
    expect(m.match('tracker7.example.net')).toMatchObject({ action: 'block', kind: 'regex', line: 3 });
    expect(m.match('tracker7.ok.example')).toMatchObject({ action: 'allow', kind: 'regex', line: 4 });
    expect(m.match('WWW.ADS9.EXAMPLE.')?.kind).toBe('wildcard');
  });
});

describe('explain', () => {
  it('lists every rule that covers a name, the deciding one first', () => {
    const m = matcher(
      ['block', '0.0.0.0 example.org\n||www.example.org^\n/www/'],
      ['allow', '@@||www.example.org^\n@@||other.example^'],
    );
    const all = m.explain('a.www.example.org');
    expect(all[0]).toEqual(m.match('a.www.example.org'));
    expect(all.map((r) => `${r.list}:${r.line}:${r.action}`)).toEqual([
      'allow:1:allow',
      'block:2:block',
      'block:1:block',
      'block:3:block',
    ]);
    expect(m.explain('nothing.example')).toEqual([]);
  });
});

describe('the compiled matcher', () => {
  it('counts the rules of each list and the distinct names', () => {
    const m = matcher(['a', 'x.example\ny.example\n/re/\nbad line'], ['b', 'x.example', { action: 'allow' }]);
    expect(m.counts).toEqual([
      { list: 'a', action: 'block', domains: 2, patterns: 1, problems: 1 },
      { list: 'b', action: 'allow', domains: 1, patterns: 0, problems: 0 },
    ]);
    expect(m.names).toBe(2);
  });

  it('matches nothing when compiled from nothing', () => {
    expect(compileMatcher([]).match('example.org')).toBeUndefined();
    expect(compileMatcher([]).names).toBe(0);
  });

  it('cannot be changed once compiled: reloading builds a new one', () => {
    const m = matcher(['a', 'x.example']);
    expect(Object.isFrozen(m)).toBe(true);
    expect(Reflect.set(m, 'match', () => undefined)).toBe(false);
  });

  it('holds a hundred thousand names across overlapping lists and finds each', () => {
    const name = (i: number) => `host${i}.zone${i % 97}.example`;
    const first = Array.from({ length: 100_000 }, (_, i) => `0.0.0.0 ${name(i)}`).join('\n');
    const second = Array.from({ length: 50_000 }, (_, i) => `||${name(i * 2)}^`).join('\n');
    const m = matcher(['first', first], ['second', second]);
    expect(m.names).toBe(100_000);
    for (const i of [0, 1, 4242, 99_999]) {
      expect(m.match(`www.${name(i)}`)).toMatchObject({ list: 'first', line: i + 1, domain: name(i) });
      expect(m.explain(name(i))).toHaveLength(i % 2 === 0 ? 2 : 1);
    }
    expect(m.match('host100000.zone0.example')).toBeUndefined();
  });
});

describe('against a direct reading of the rules', () => {
  // Few labels, so that generated rules and queries overlap often.
  const label = fc.constantFrom('a', 'b', 'c', 'ex', 'xn--bcher-kva');
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
  const rule = fc.record({
    name,
    form: fc.constantFrom('||{}^', '|{}^', '||*.{}^', '{}', '*.{}', '0.0.0.0 {}'),
    exception: fc.boolean(),
    important: fc.boolean(),
  });
  const ruleLine = (r: { name: string; form: string; exception: boolean; important: boolean }) => {
    const body = r.form.replace('{}', r.name);
    if (r.form.startsWith('0.0.0.0') || r.form === '*.{}' || r.form === '{}')
      return r.name.includes('.') ? body : '';
    return `${r.exception ? '@@' : ''}${body}${r.important ? '$important' : ''}`;
  };
  const lists = fc.array(fc.array(rule, { maxLength: 8 }), { minLength: 1, maxLength: 3 });

  /** What the rules say about `query`, read the slow way. */
  function expected(texts: string[][], query: string): 'block' | 'allow' | undefined {
    let best = -1;
    let action: 'block' | 'allow' | undefined;
    for (const [l, lines] of texts.entries()) {
      for (const line of lines) {
        if (line === '') continue;
        const parsed = parseList(line, { name: `l${l}` });
        for (const r of parsed.rules()) {
          if (r.kind !== 'domain') continue;
          const self = query === r.domain;
          const below = query.endsWith(`.${r.domain}`);
          const covered =
            r.scope === 'domain-only' ? self : r.scope === 'subdomains-only' ? below : self || below;
          const rank = ruleRank(r.action, r.important);
          if (covered && rank > best) {
            best = rank;
            action = r.action;
          }
        }
      }
    }
    return action;
  }

  it('gives the same verdict as checking every rule in turn', () => {
    fc.assert(
      fc.property(lists, fc.array(name, { minLength: 1, maxLength: 5 }), (generated, queries) => {
        const texts = generated.map((rules) => rules.map(ruleLine));
        const m = compileMatcher(texts.map((lines, l) => parseList(lines.join('\n'), { name: `l${l}` })));
        for (const query of queries) {
          expect(m.match(query)?.action).toBe(expected(texts, query));
          expect(m.explain(query)[0]).toEqual(m.match(query));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lets through every name an allow-list covers, whatever the blocklists say', () => {
    fc.assert(
      fc.property(
        lists,
        fc.array(name, { minLength: 1, maxLength: 3 }),
        name,
        (generated, allowed, below) => {
          const blocklists = generated.map((rules, l) =>
            parseList(rules.map(ruleLine).join('\n'), { name: `l${l}` }),
          );
          const allowList = parseList(allowed.map((a) => `||${a}^`).join('\n'), {
            name: 'allow',
            action: 'allow',
          });
          const m = compileMatcher([...blocklists, allowList]);
          // The deciding rule may be an important exception of a blocklist: it allows as well.
          for (const a of allowed) {
            expect(m.match(a)?.action).toBe('allow');
            expect(m.match(`${below}.${a}`)?.action).toBe('allow');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
