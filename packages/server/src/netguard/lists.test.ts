import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isNormalisedDomain,
  listFromEntries,
  MAX_PROBLEMS,
  normaliseDomain,
  parseList,
  regexRisk,
  type DomainRule,
  type ParsedList,
  type PatternRule,
} from './lists.js';

const rules = (list: ParsedList) => [...list.rules()];
const domainRules = (list: ParsedList) => rules(list).filter((r): r is DomainRule => r.kind === 'domain');
const patternRules = (list: ParsedList) => rules(list).filter((r): r is PatternRule => r.kind !== 'domain');
const names = (list: ParsedList) => domainRules(list).map((r) => r.domain);
const problemLines = (list: ParsedList) => list.problems.map((p) => p.line);

describe('hosts files', () => {
  it('reads every name of a hosts line, whatever the address', () => {
    const list = parseList(
      '0.0.0.0 a.example b.example\n127.0.0.1\tc.example\n::1 d.example\n192.168.1.5 e.example',
      { name: 'hosts' },
    );
    expect(names(list)).toEqual(['a.example', 'b.example', 'c.example', 'd.example', 'e.example']);
    expect(domainRules(list).map((r) => r.line)).toEqual([1, 1, 2, 3, 4]);
    expect(list.problems).toEqual([]);
  });

  it("skips the machine's own entries, as Pi-hole does, without reporting them", () => {
    const list = parseList(
      '127.0.0.1 localhost\n127.0.0.1 localhost.localdomain\n::1 ip6-localhost ip6-loopback\n255.255.255.255 broadcasthost\n0.0.0.0 0.0.0.0',
      { name: 'hosts' },
    );
    expect(list.size).toBe(0);
    expect(list.problems).toEqual([]);
  });

  it('ignores comments, on their own line and after the names', () => {
    const list = parseList('# StevenBlack-style header\n0.0.0.0 a.example # ads\n0.0.0.0 b.example#tracker', {
      name: 'hosts',
    });
    expect(names(list)).toEqual(['a.example', 'b.example']);
  });

  it('keeps, for each rule, its list, its line and the line as written', () => {
    const [rule] = rules(parseList('# header\n  0.0.0.0 a.example # ads  ', { name: 'hosts' }));
    expect(rule).toMatchObject({ list: 'hosts', line: 2, text: '0.0.0.0 a.example # ads', action: 'block' });
  });

  it('reports an address with no name, and a bad name with the line it is on', () => {
    const list = parseList('0.0.0.0 a.example\n0.0.0.0\n0.0.0.0 ok.example bad_/name.example', {
      name: 'hosts',
      format: 'hosts',
    });
    expect(names(list)).toEqual(['a.example', 'ok.example']);
    expect(list.problems).toEqual([
      { line: 2, text: '0.0.0.0', reason: 'not a hosts line: expected an address followed by names' },
      {
        line: 3,
        text: '0.0.0.0 ok.example bad_/name.example',
        reason: '"bad_/name.example": characters a domain name cannot hold',
      },
    ]);
  });

  it('a list declared as hosts reports the lines that are not hosts lines', () => {
    const list = parseList('0.0.0.0 a.example\nb.example\n||c.example^', { name: 'hosts', format: 'hosts' });
    expect(names(list)).toEqual(['a.example']);
    expect(problemLines(list)).toEqual([2, 3]);
  });
});

describe('domain lists', () => {
  it('reads one name a line with # and ! comments and Windows line ends, lowercase and without the final dot', () => {
    const list = parseList('! Title: test\r\n# comment\r\nAds.Example.\r\n\r\n  tracker.example  \r\n', {
      name: 'plain',
    });
    expect(names(list)).toEqual(['ads.example', 'tracker.example']);
    expect(rules(list)[0]).toMatchObject({ line: 3, text: 'Ads.Example.', scope: 'domain-and-subdomains' });
  });

  it('turns internationalised names into punycode, as a browser would query them', () => {
    expect(names(parseList('bücher.example\nMÜNCHEN.de\n||xn--80ak6aa92e.com^', { name: 'idn' }))).toEqual([
      'xn--bcher-kva.example',
      'xn--mnchen-3ya.de',
      'xn--80ak6aa92e.com',
    ]);
  });

  it('enforces the lengths of RFC 1035: 63 characters a label, 253 a name', () => {
    const label63 = `${'a'.repeat(63)}.example`;
    const label64 = `${'a'.repeat(64)}.example`;
    const name253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    const name254 = `${name253}d`;
    expect(name253).toHaveLength(253);
    const list = parseList([label63, label64, name253, name254].join('\n'), { name: 'long' });
    expect(names(list)).toEqual([label63, name253]);
    expect(list.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'label longer than 63 characters (RFC 1035 §2.3.4)'],
      [4, 'name longer than 253 characters (RFC 1035 §2.3.4)'],
    ]);
  });

  it('reports what is not a domain name, saying why', () => {
    const list = parseList('foo\n1.2.3.4\na..b.example\nexa mple.example\n10.0.0', { name: 'bad' });
    expect(list.size).toBe(0);
    expect(list.problems.map((p) => p.reason)).toEqual([
      '"foo" is a single label; write ||foo^ to block a whole top-level domain',
      'an IP address, not a domain name',
      'empty label',
      'more than one word on a line of a domain list',
      'ends in a numeric label: not a domain name',
    ]);
  });

  it('*.name and .name cover the names below it, not the name itself', () => {
    expect(domainRules(parseList('*.cdn.example\n.static.example', { name: 'w' }))).toMatchObject([
      { domain: 'cdn.example', scope: 'subdomains-only' },
      { domain: 'static.example', scope: 'subdomains-only' },
    ]);
  });

  it('a list declared as domains reports hosts and adblock lines', () => {
    const list = parseList('a.example\n0.0.0.0 b.example\n||c.example^', { name: 'd', format: 'domains' });
    expect(names(list)).toEqual(['a.example']);
    expect(list.problems.map((p) => p.reason)).toEqual([
      'a hosts line in a domain list',
      'adblock syntax in a domain list',
    ]);
  });
});

describe('adblock (AdGuard DNS) syntax', () => {
  it('||name^ blocks a name and its subdomains, @@ makes an exception, $important raises a rule', () => {
    const list = parseList(
      '[Adblock Plus 2.0]\n||ads.example^\n@@||good.ads.example^\n||t.example^$important',
      {
        name: 'adblock',
      },
    );
    expect(domainRules(list)).toMatchObject([
      { domain: 'ads.example', scope: 'domain-and-subdomains', action: 'block', important: false, line: 2 },
      { domain: 'good.ads.example', action: 'allow', important: false, text: '@@||good.ads.example^' },
      { domain: 't.example', action: 'block', important: true },
    ]);
  });

  it('|name^ is the name alone, ||*.name^ the names below it, ||tld^ a whole top-level domain', () => {
    expect(
      domainRules(parseList('|exact.example^\n||*.below.example^\n||zip^', { name: 'a' })),
    ).toMatchObject([
      { domain: 'exact.example', scope: 'domain-only' },
      { domain: 'below.example', scope: 'subdomains-only' },
      { domain: 'zip', scope: 'domain-and-subdomains' },
    ]);
  });

  it('a wildcard becomes a pattern anchored as the rule says', () => {
    const [rule] = patternRules(parseList('||ads*.example.org^', { name: 'w' }));
    expect(rule?.kind).toBe('wildcard');
    const test = (name: string) => rule?.regex.test(name);
    expect(test('ads1.example.org')).toBe(true);
    expect(test('cdn.ads-eu.example.org')).toBe(true);
    expect(test('bads.example.org')).toBe(false);
    expect(test('ads1.example.org.evil.example')).toBe(false);
  });

  it('a rule without an end anchor matches what follows, as in AdGuard', () => {
    const [rule] = patternRules(parseList('||example.org', { name: 'w' }));
    expect(rule?.regex.test('www.example.organic.example')).toBe(true);
    expect(rule?.regex.test('myexample.org')).toBe(false);
  });

  it('a regular expression is compiled and matches case-insensitively', () => {
    const [rule] = patternRules(parseList('/^ad[0-9]+\\./', { name: 're' }));
    expect(rule).toMatchObject({ kind: 'regex', line: 1, text: '/^ad[0-9]+\\./', action: 'block' });
    expect(rule?.regex.test('AD12.example')).toBe(true);
    expect(rule?.regex.test('ads.example')).toBe(false);
  });

  it('a rule with a modifier it cannot honour is skipped, and the problem names the modifier', () => {
    const list = parseList(
      '||a.example^$client=10.0.0.1\n||b.example^$dnstype=AAAA,important\n@@||c.example^$badfilter',
      {
        name: 'mods',
      },
    );
    expect(list.size).toBe(0);
    expect(list.problems.map((p) => [p.line, p.reason])).toEqual([
      [1, 'unsupported modifier $client: rule skipped'],
      [2, 'unsupported modifier $dnstype: rule skipped'],
      [3, 'unsupported modifier $badfilter: rule skipped'],
    ]);
  });

  it('page-element and URL rules are reported: DNS sees names only', () => {
    const list = parseList('example.org##.banner\n||example.org/ads/*\n||example.org:8080^', { name: 'web' });
    expect(list.size).toBe(0);
    expect(list.problems.map((p) => p.reason)).toEqual([
      'a cosmetic (page element) rule: DNS filtering sees names only',
      'a rule about URLs (path, port or query): DNS filtering sees names only',
      'a rule about URLs (path, port or query): DNS filtering sees names only',
    ]);
  });

  it("an allow-list's every rule allows and outranks $important, whatever the line says", () => {
    const list = parseList('||a.example^\nb.example\n0.0.0.0 c.example\n/^d\\./', {
      name: 'allow',
      action: 'allow',
    });
    expect(rules(list).map((r) => [r.action, r.important])).toEqual([
      ['allow', true],
      ['allow', true],
      ['allow', true],
      ['allow', true],
    ]);
  });

  it('a list mixing the three formats is read line by line', () => {
    const list = parseList('0.0.0.0 a.example\nb.example\n||c.example^\n@@||d.example^', { name: 'mixed' });
    expect(names(list)).toEqual(['a.example', 'b.example', 'c.example', 'd.example']);
  });
});

describe('patterns a stranger could make slow', () => {
  it.each([
    ['(a+)+$', 'nested repetition'],
    ['(x|xy)*z', 'nested repetition'],
    ['(a{1,3})+b', 'nested repetition'],
    ['(.)\\1', 'back-references'],
    ['.*a.*ab', 'too many open-ended repetitions'],
    ['^.*a.*a.*ab', 'too many open-ended repetitions'],
    ['[a-z]{1,200}[a-z]{1,200}x', 'too many open-ended repetitions'],
    ['a'.repeat(600), 'longer than 512'],
  ])('refuses %s', (source, reason) => {
    expect(regexRisk(source)).toContain(reason);
    const list = parseList(`/${source}/`, { name: 're' });
    expect(list.size).toBe(0);
    expect(list.problems[0]?.reason).toContain(reason);
  });

  it.each([
    '^(.+[_.-])?adse?rv(er?|ice)?s?[0-9]*[_.-]',
    '(^|\\.)doubleclick\\.net$',
    '^ad[0-9]+\\.',
    '(?:ab){2,3}c+',
    '^[a-z0-9-]+\\.example$',
  ])('accepts the common expression %s', (source) => {
    expect(regexRisk(source)).toBeUndefined();
  });

  it('an expression that does not compile is reported', () => {
    expect(parseList('/[/', { name: 're' }).problems[0]?.reason).toMatch(/^invalid regular expression/);
  });

  it('limits wildcards the same way: one when unanchored, two after |', () => {
    const list = parseList('||a*b*c^\n|a*b*c^', { name: 'w' });
    expect(problemLines(list)).toEqual([1]);
    expect(patternRules(list).map((r) => r.line)).toEqual([2]);
  });
});

describe('any text', () => {
  // Fragments of real list syntax, so that the fuzzer reaches the parser's corners.
  const fragment = fc.oneof(
    fc.constantFrom(
      '||',
      '|',
      '@@',
      '^',
      '$important',
      '$client=1',
      '*',
      '*.',
      '.',
      '/',
      '#',
      '!',
      '##',
      ' ',
      '\t',
    ),
    fc.constantFrom(
      '0.0.0.0 ',
      '::1 ',
      '127.0.0.1 ',
      'localhost',
      'ü',
      'Ä',
      '。',
      '-',
      '_',
      '(a+)+',
      '\\1',
      '[',
      '\r',
    ),
    fc.domain(),
    fc.string({ maxLength: 12 }),
  );
  const line = fc.array(fragment, { maxLength: 6 }).map((parts) => parts.join(''));
  const listText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(line, { maxLength: 12 }).map((l) => l.join('\n')),
  );
  const format = fc.constantFrom<'auto' | 'hosts' | 'domains' | 'adblock'>(
    'auto',
    'hosts',
    'domains',
    'adblock',
  );

  it('never throws, and every rule holds a valid name, its line and the line as written', () => {
    fc.assert(
      fc.property(listText, format, (text, fmt) => {
        const list = parseList(text, { name: 'fuzz', format: fmt });
        const lines = text.split('\n');
        expect(list.lineCount).toBe(lines.length);
        for (const rule of list.rules()) {
          if (rule.kind === 'domain') {
            expect(isNormalisedDomain(rule.domain)).toBe(true);
            expect(rule.domain.length).toBeLessThanOrEqual(253);
          }
          expect(rule.line).toBeGreaterThanOrEqual(1);
          expect(rule.line).toBeLessThanOrEqual(list.lineCount);
          expect(rule.text).toBe(lines[rule.line - 1]?.trim());
        }
        for (const problem of list.problems) {
          expect(problem.line).toBeGreaterThanOrEqual(1);
          expect(problem.line).toBeLessThanOrEqual(list.lineCount);
          expect(problem.reason).not.toBe('');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a name read back from a list is the name normalisation gives', () => {
    fc.assert(
      fc.property(fc.domain(), fc.boolean(), (domain, upper) => {
        const written = upper ? `${domain.toUpperCase()}.` : domain;
        const expected = normaliseDomain(written);
        const list = parseList(written, { name: 'one' });
        expect(names(list)).toEqual(expected.ok ? [expected.domain] : []);
      }),
    );
  });

  it('keeps the first problems of a list that is not a list at all, and counts them all', () => {
    const list = parseList(Array.from({ length: 2500 }, () => '<p>not a list</p>').join('\n'), {
      name: 'html',
    });
    expect(list.problems).toHaveLength(MAX_PROBLEMS);
    expect(list.problemCount).toBe(2500);
  });
});

describe('lists made from entries', () => {
  it('keeps each entry as a line with its own text and label', () => {
    const list = listFromEntries('spy', [
      { domain: 'Bad.Example', text: "[domain-name:value='Bad.Example']", label: 'Pegasus' },
      { domain: '10.0.0.1', text: 'an address' },
      { domain: 'other.example' },
    ]);
    expect(rules(list)).toMatchObject([
      { domain: 'bad.example', line: 1, text: "[domain-name:value='Bad.Example']", label: 'Pegasus' },
      { domain: 'other.example', line: 3, text: 'other.example' },
    ]);
    expect(list.problems).toEqual([
      { line: 2, text: 'an address', reason: 'an IP address, not a domain name' },
    ]);
  });
});
