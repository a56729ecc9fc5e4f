/**
 * The conformance suite of the Sigma engine: each rule of the specification (Sigma rules
 * specification v2.1.0, modifiers appendix v2.1.0), most of them with the specification's own
 * example, written as a rule, loaded, compiled and run on events that must and must not match.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FieldValue, WatchEvent } from '../event.js';
import { compileRule, PreparedEvent, RuleSet } from './compile.js';
import { loadSigmaRule, type SigmaDetectionRule } from './rule.js';
import type { ModifierOptions } from './modifiers.js';

/** A rule around a detection section written as the specification writes it (4-space indents). */
function rule(
  detection: string,
  options: ModifierOptions = {},
  logsource = 'product: test',
): SigmaDetectionRule {
  const text = `title: Conformance\nlogsource:\n    ${logsource}\ndetection:\n${detection
    .replace(/^\n/, '')
    .replace(/\s+$/, '')}\n`;
  const loaded = loadSigmaRule(text, 'conformance.yml', options);
  if (loaded.kind !== 'detection') throw new Error('not a detection rule');
  return loaded;
}

function event(fields: Record<string, FieldValue>, raw = ''): WatchEvent {
  return { time: 0, logsource: { product: 'test' }, fields, raw, parsed: true };
}

/** Which of the events the detection matches. */
function hits(detection: string, events: WatchEvent[], options: ModifierOptions = {}): boolean[] {
  const compiled = compileRule(rule(detection, options));
  return events.map((e) => compiled.matches(e));
}

const field = (name: string) => (value: FieldValue) => event({ [name]: value });

describe('selections (spec §Lists, §Maps)', () => {
  it('a list of strings is searched in the whole event, linked with OR', () => {
    const detection = String.raw`
    keywords:
        - 'EVILSERVICE'
        - 'svchost.exe -n evil'
    condition: keywords`;
    expect(
      hits(detection, [
        event({}, 'Service EvilService installed'),
        event({}, 'C:\\svchost.exe -n evil'),
        event({}, 'svchost.exe -k netsvcs'),
      ]),
    ).toEqual([true, true, false]);
  });

  it('a list of maps matches when any one map does', () => {
    const detection = String.raw`
    selection:
        - Image|endswith: '\\example.exe'
        - Description|contains: 'Test executable'
    condition: selection`;
    expect(
      hits(detection, [
        event({ Image: 'C:\\tmp\\example.exe' }),
        event({ Description: 'A Test Executable here' }),
        event({ Image: 'C:\\tmp\\other.exe', Description: 'Other' }),
      ]),
    ).toEqual([true, true, false]);
  });

  it('a map needs every field; a field with a list of values needs one of them', () => {
    const detection = String.raw`
    selection:
        EventLog: Security
        EventID:
            - 517
            - 1102
    condition: selection`;
    expect(
      hits(detection, [
        event({ EventLog: 'Security', EventID: 1102 }),
        event({ EventLog: 'security', EventID: '517' }),
        event({ EventLog: 'Security', EventID: 4624 }),
        event({ EventLog: 'System', EventID: 517 }),
        event({ EventID: 517 }),
      ]),
    ).toEqual([true, true, false, false, false]);
  });

  it('quoted values such as hexadecimal codes are compared as written', () => {
    const detection = String.raw`
    selection:
          EventLog: Security
          EventID: 4769
          TicketOptions: '0x40810000'
          TicketEncryption: '0x17'
    condition: selection`;
    const base = { EventLog: 'Security', EventID: 4769, TicketOptions: '0x40810000' };
    expect(
      hits(detection, [
        event({ ...base, TicketEncryption: '0x17' }),
        event({ ...base, TicketEncryption: '23' }),
      ]),
    ).toEqual([true, false]);
  });

  it("the specification's first example matches the path in any case", () => {
    const detection = String.raw`
    selection:
        Image: 'C:\Windows\System32\whoami.exe'
    condition: selection`;
    expect(
      hits(detection, [
        event({ Image: 'c:\\windows\\system32\\WHOAMI.EXE' }),
        event({ Image: 'C:\\Windows\\System32\\whoami.exe.bak' }),
      ]),
    ).toEqual([true, false]);
  });

  it('a field whose value is a list matches when one of its elements does', () => {
    expect(
      hits(`    selection:\n        Tags: admin\n    condition: selection`, [
        event({ Tags: ['user', 'Admin'] }),
        event({ Tags: ['user'] }),
      ]),
    ).toEqual([true, false]);
  });
});

describe('wildcards and escaping (spec §String Wildcard, §Escape Character)', () => {
  it('? stands for exactly one character', () => {
    const f = field('Image');
    expect(
      hits(`    selection:\n        Image: prog?.exe\n    condition: selection`, [
        f('progA.exe'),
        f('progB.exe'),
        f('prog.exe'),
        f('progAB.exe'),
      ]),
    ).toEqual([true, true, false, false]);
  });

  it('* stands for any number of characters, none included', () => {
    const f = field('Image');
    expect(
      hits(`    selection:\n        Image: antivirus_V*.exe\n    condition: selection`, [
        f('antivirus_V1.exe'),
        f('antivirus_V21.2.1.exe'),
        f('antivirus_V.exe'),
        f('antivirus_X1.exe'),
      ]),
    ).toEqual([true, true, true, false]);
  });

  it('a plain backslash can be written single or double', () => {
    const f = field('Path');
    const single = String.raw`    selection:
        Path: 'C:\Windows\x'
    condition: selection`;
    const double = String.raw`    selection:
        Path: 'C:\\Windows\\x'
    condition: selection`;
    expect(hits(single, [f('C:\\Windows\\x')])).toEqual([true]);
    expect(hits(double, [f('C:\\Windows\\x'), f('C:\\\\Windows\\\\x')])).toEqual([true, false]);
  });

  it('an escaped wildcard \\* or \\? is a plain character', () => {
    const f = field('Value');
    const detection = String.raw`    selection:
        Value: 'a\*b\?'
    condition: selection`;
    expect(hits(detection, [f('a*b?'), f('axbz'), f('a\\*b\\?')])).toEqual([true, false, false]);
  });

  it('\\\\* is a backslash followed by a wildcard', () => {
    const f = field('Path');
    const detection = String.raw`    selection:
        Path: 'C:\\*'
    condition: selection`;
    expect(hits(detection, [f('C:\\Windows'), f('C:\\'), f('C:Windows')])).toEqual([true, true, false]);
  });

  it('\\\\\\* is a backslash followed by a plain star', () => {
    const f = field('Path');
    const detection = String.raw`    selection:
        Path: 'C:\\\*'
    condition: selection`;
    expect(hits(detection, [f('C:\\*'), f('C:\\Windows')])).toEqual([true, false]);
  });

  it('three or four backslashes are a double backslash', () => {
    const f = field('Path');
    for (const written of [String.raw`\\\\`, String.raw`\\\\\\\\`.slice(0, 3)]) {
      const detection = `    selection:\n        Path: 'a${written}b'\n    condition: selection`;
      expect(hits(detection, [f('a\\\\b'), f('a\\b')])).toEqual([true, false]);
    }
  });
});

describe('special values (spec §Special Field Values, §Field Existence)', () => {
  it('null matches an absent or null field: the spec example keeps only events that set PasswordLastSet', () => {
    const detection = String.raw`
    selection:
        EventID: 4738
    filter:
        PasswordLastSet: null
    condition: selection and not filter`;
    expect(
      hits(detection, [
        event({ EventID: 4738 }),
        event({ EventID: 4738, PasswordLastSet: null }),
        event({ EventID: 4738, PasswordLastSet: '2024-01-01' }),
        event({ EventID: 4738, PasswordLastSet: '' }),
      ]),
    ).toEqual([false, false, true, true]);
  });

  it("an empty value '' matches an empty field and nothing else (the spec's valid example)", () => {
    const detection = String.raw`
    selection_main:
        FieldA: 'something'
    selection_empty1:
        FieldB: ''
    selection_empty2:
        FieldB: null
    condition: selection_main and 1 of selection_empty*`;
    expect(
      hits(detection, [
        event({ FieldA: 'something', FieldB: '' }),
        event({ FieldA: 'something' }),
        event({ FieldA: 'something', FieldB: 'x' }),
        event({ FieldA: 'other', FieldB: '' }),
      ]),
    ).toEqual([true, true, false, false]);
  });

  it("null inside a list of values is refused, on the list's line (the spec's invalid example)", () => {
    const text = [
      'title: Invalid',
      'logsource:',
      '    product: test',
      'detection:',
      '    selection_main:',
      "        FieldA: 'something'",
      '        FieldB:',
      "            - ''",
      '            - null',
      '    condition: selection_main',
    ].join('\n');
    expect(() => loadSigmaRule(text, 'invalid.yml')).toThrow(
      /^invalid\.yml:7: .*null cannot be part of a list/,
    );
  });

  it('exists: true needs the field present, even empty or null; exists: false needs it absent', () => {
    const detection = String.raw`
    selection:
        EventID: 4738
        PasswordLastSet|exists: true
    condition: selection`;
    expect(
      hits(detection, [
        event({ EventID: 4738, PasswordLastSet: null }),
        event({ EventID: 4738, PasswordLastSet: '' }),
        event({ EventID: 4738 }),
      ]),
    ).toEqual([true, true, false]);
    expect(
      hits(`    selection:\n        PasswordLastSet|exists: false\n    condition: selection`, [
        event({ EventID: 4738 }),
        event({ PasswordLastSet: '' }),
      ]),
    ).toEqual([true, false]);
  });
});

describe('keywords (spec §Keywords search)', () => {
  it('are found in the raw line and in string field values, in any case', () => {
    const detection = String.raw`
    mimikatz_keywords:
        - 'event::clear'
        - 'event::drop'
    condition: mimikatz_keywords`;
    expect(
      hits(detection, [
        event({}, 'mimikatz # EVENT::Clear'),
        event({ CommandLine: 'mimikatz.exe event::drop exit' }, 'unparsed'),
        event({ Nested: { deeper: ['x event::drop'] } }),
        event({ CommandLine: 'event::list' }, 'event::list'),
      ]),
    ).toEqual([true, true, true, false]);
  });

  it("'|all' needs every keyword", () => {
    const detection = String.raw`
    keywords_cmdlet:
        '|all':
            - 'OabVirtualDirectory'
            - ' -ExternalUrl '
    condition: keywords_cmdlet`;
    expect(
      hits(detection, [
        event({}, 'Set-OabVirtualDirectory -ExternalUrl http://x'),
        event({}, 'Set-OabVirtualDirectory -InternalUrl http://x'),
      ]),
    ).toEqual([true, false]);
  });

  it('look into nested values only so deep, so that no event can exhaust the stack', () => {
    let nested: FieldValue = 'needle';
    for (let i = 0; i < 100_000; i++) nested = [nested];
    let shallow: FieldValue = 'needle';
    for (let i = 0; i < 10; i++) shallow = { level: shallow };
    const detection = `    keywords:\n        - needle\n    condition: keywords`;
    expect(hits(detection, [event({ nested }), event({ shallow })])).toEqual([false, true]);
  });

  it('a single keyword string works like a list of one', () => {
    expect(
      hits(`    keywords: 'Failed password'\n    condition: keywords`, [
        event({}, 'sshd: Failed password for root'),
      ]),
    ).toEqual([true]);
  });
});

describe('generic modifiers (modifiers appendix §Generic Modifiers)', () => {
  const f = field('CommandLine');

  it('contains puts wildcards around the value', () => {
    expect(
      hits(`    selection:\n        CommandLine|contains: 'mimi'\n    condition: selection`, [
        f('x MIMIkatz y'),
        f('mim'),
      ]),
    ).toEqual([true, false]);
  });

  it('startswith and endswith anchor the value at either end (replacing adm* and *\\cmd.exe)', () => {
    expect(
      hits(`    selection:\n        User|startswith: 'adm'\n    condition: selection`, [
        event({ User: 'Admin1' }),
        event({ User: 'xadm' }),
      ]),
    ).toEqual([true, false]);
    const endswith = String.raw`    selection:
        Image|endswith: '\cmd.exe'
    condition: selection`;
    expect(
      hits(endswith, [event({ Image: 'C:\\Windows\\CMD.exe' }), event({ Image: 'C:\\x\\cmd.exe.tmp' })]),
    ).toEqual([true, false]);
  });

  it('wildcards inside a contains value keep their meaning', () => {
    expect(
      hits(`    selection:\n        CommandLine|contains: 'a?c*z'\n    condition: selection`, [
        f('--abcxyz--'),
        f('--acz--'),
      ]),
    ).toEqual([true, false]);
  });

  it('all links a list of values with AND; a single value with all is refused', () => {
    const detection = String.raw`
    selection:
        CommandLine|contains|all:
            - ' -enc '
            - 'powershell'
    condition: selection`;
    expect(hits(detection, [f('powershell -enc AAAA'), f('powershell -nop')])).toEqual([true, false]);
    expect(() =>
      rule(`    selection:\n        CommandLine|contains|all: 'x'\n    condition: selection`),
    ).toThrow(/conformance\.yml:6: field CommandLine: all needs a list/);
  });

  it('cased makes the comparison case-sensitive', () => {
    expect(
      hits(`    selection:\n        User|cased: 'Admin'\n    condition: selection`, [
        event({ User: 'Admin' }),
        event({ User: 'admin' }),
      ]),
    ).toEqual([true, false]);
    expect(
      hits(`    selection:\n        User|contains|cased: 'dm'\n    condition: selection`, [
        event({ User: 'Admin' }),
        event({ User: 'ADMIN' }),
      ]),
    ).toEqual([true, false]);
  });

  it('neq matches a field that is none of the values', () => {
    const detection = String.raw`
    selection:
        Status|neq:
            - ok
            - done
    condition: selection`;
    expect(
      hits(detection, [event({ Status: 'failed' }), event({ Status: 'OK' }), event({ Status: 'done' })]),
    ).toEqual([true, false, false]);
  });
});

describe('string modifiers (modifiers appendix §String Modifiers)', () => {
  it('windash makes -, /, en dash, em dash and horizontal bar interchangeable', () => {
    const f = field('CommandLine');
    const detection = `    selection:\n        CommandLine|windash|contains: ' -exec '\n    condition: selection`;
    expect(
      hits(detection, [
        f('x -exec y'),
        f('x /exec y'),
        f('x \u2013exec y'),
        f('x \u2014exec y'),
        f('x \u2015exec y'),
        f('x +exec y'),
      ]),
    ).toEqual([true, true, true, true, true, false]);
  });

  it('re is case-sensitive unless i is given', () => {
    const f = field('Url');
    expect(
      hits(`    selection:\n        Url|re: '^/owa/[a-z]+\\.aspx$'\n    condition: selection`, [
        f('/owa/auth.aspx'),
        f('/OWA/auth.aspx'),
      ]),
    ).toEqual([true, false]);
    expect(
      hits(`    selection:\n        Url|re|i: '^/owa/[a-z]+\\.aspx$'\n    condition: selection`, [
        f('/OWA/AUTH.aspx'),
      ]),
    ).toEqual([true]);
  });

  it('re with m anchors ^ and $ at each line; with s the dot matches newlines', () => {
    const f = field('Body');
    expect(
      hits(`    selection:\n        Body|re|m: '^second$'\n    condition: selection`, [
        f('first\nsecond\nthird'),
      ]),
    ).toEqual([true]);
    expect(
      hits(`    selection:\n        Body|re: '^second$'\n    condition: selection`, [
        f('first\nsecond\nthird'),
      ]),
    ).toEqual([false]);
    expect(
      hits(`    selection:\n        Body|re|s: 'first.second'\n    condition: selection`, [
        f('first\nsecond'),
      ]),
    ).toEqual([true]);
    expect(
      hits(`    selection:\n        Body|re: 'first.second'\n    condition: selection`, [f('first\nsecond')]),
    ).toEqual([false]);
  });

  it('re reads the leading (?i) of PCRE as the i flag, as SigmaHQ rules write it', () => {
    expect(
      hits(`    selection:\n        Url|re: '(?i)ipfs\\.io/'\n    condition: selection`, [
        event({ Url: 'https://IPFS.IO/x' }),
      ]),
    ).toEqual([true]);
  });

  it('a malformed regular expression is refused on its line', () => {
    expect(() => rule(`    selection:\n        Url|re: '(unclosed'\n    condition: selection`)).toThrow(
      /conformance\.yml:6: field Url: invalid regular expression/,
    );
  });
});

describe('encodings (modifiers appendix §Encoding)', () => {
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

  it('base64 matches the value encoded in Base64', () => {
    const f = field('Payload');
    expect(
      hits(`    selection:\n        Payload|base64: 'cmd'\n    condition: selection`, [f('Y21k'), f('cmd')]),
    ).toEqual([true, false]);
    expect(
      hits(`    selection:\n        Payload|base64|contains: 'http://'\n    condition: selection`, [
        f(`x${b64('http://')}y`),
      ]),
    ).toEqual([true]);
  });

  it('base64offset|contains finds the value at any of the three byte offsets in a Base64 text', () => {
    const f = field('CommandLine');
    const detection = `    selection:\n        CommandLine|base64offset|contains: 'http://'\n    condition: selection`;
    const encoded = ['', 'a', 'ab', 'abc'].map((prefix) =>
      f(`powershell -enc ${b64(`${prefix}http://evil.example/x`)}`),
    );
    expect(hits(detection, [...encoded, f(`-enc ${b64('https://evil.example/x')}`)])).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('utf16le (and wide) encode each character on two bytes, low first; utf16be high first; utf16 adds the byte order mark', () => {
    const f = field('Data');
    expect(
      hits(`    selection:\n        Data|utf16le: 'cmd'\n    condition: selection`, [
        f('c\0m\0d\0'),
        f('cmd'),
      ]),
    ).toEqual([true, false]);
    expect(
      hits(`    selection:\n        Data|wide: 'cmd'\n    condition: selection`, [f('c\0m\0d\0')]),
    ).toEqual([true]);
    expect(
      hits(`    selection:\n        Data|utf16be: 'cmd'\n    condition: selection`, [f('\0c\0m\0d')]),
    ).toEqual([true]);
    expect(
      hits(`    selection:\n        Data|utf16: 'cmd'\n    condition: selection`, [f('\xff\xfec\0m\0d\0')]),
    ).toEqual([true]);
  });

  it('wide|base64offset|contains finds a PowerShell -EncodedCommand payload', () => {
    const f = field('CommandLine');
    const detection = `    selection:\n        CommandLine|wide|base64offset|contains: 'IEX'\n    condition: selection`;
    const encoded = (s: string) => f(`powershell -enc ${Buffer.from(s, 'utf16le').toString('base64')}`);
    expect(
      hits(detection, [
        encoded('IEX (New-Object Net.WebClient)'),
        encoded('x; IEX $a'),
        encoded('Write-Host hi'),
      ]),
    ).toEqual([true, true, false]);
  });

  it('base64 of a wildcard is refused', () => {
    expect(() => rule(`    selection:\n        P|base64: 'a*'\n    condition: selection`)).toThrow(
      /base64 cannot encode a wildcard/,
    );
  });
});

describe('numeric and time modifiers (modifiers appendix §Numeric, §Time)', () => {
  const f = field('Count');
  it('lt, lte, gt, gte compare numbers and numeric text; anything else does not match', () => {
    const run = (op: string) =>
      hits(`    selection:\n        Count|${op}: 10\n    condition: selection`, [
        f(9),
        f('10'),
        f(11),
        f('many'),
      ]);
    expect(run('lt')).toEqual([true, false, false, false]);
    expect(run('lte')).toEqual([true, true, false, false]);
    expect(run('gt')).toEqual([false, false, true, false]);
    expect(run('gte')).toEqual([false, true, true, false]);
  });

  it('a comparison with something else than a number is refused', () => {
    expect(() => rule(`    selection:\n        Count|gt: ten\n    condition: selection`)).toThrow(
      /"ten" is not a number/,
    );
  });

  it('hour, minute, day, week, month and year compare a component of a date (UTC)', () => {
    const t = field('Time');
    const at = '2024-03-10T22:45:00Z';
    const check = (unit: string, value: number) =>
      hits(`    selection:\n        Time|${unit}: ${value}\n    condition: selection`, [t(at)])[0];
    expect([
      check('minute', 45),
      check('hour', 22),
      check('day', 10),
      check('week', 10),
      check('month', 3),
      check('year', 2024),
    ]).toEqual([true, true, true, true, true, true]);
    expect(check('hour', 21)).toBe(false);
    expect(
      hits(`    selection:\n        Time|hour|gte: 20\n    condition: selection`, [
        t(at),
        t('2024-03-10T08:00:00Z'),
        t('not a date'),
      ]),
    ).toEqual([true, false, false]);
  });
});

describe('cidr (modifiers appendix §IP Modifiers)', () => {
  const f = field('DestinationIp');
  it('matches IPv4 addresses in the range, as in the appendix example', () => {
    expect(
      hits(`    selection:\n        DestinationIp|cidr: 10.0.0.0/8\n    condition: selection`, [
        f('10.1.2.3'),
        f('11.0.0.1'),
        f('not an ip'),
      ]),
    ).toEqual([true, false, false]);
  });

  it('matches IPv6 addresses in the range', () => {
    expect(
      hits(`    selection:\n        DestinationIp|cidr: '2001:db8::/32'\n    condition: selection`, [
        f('2001:db8:1::5'),
        f('2001:db9::1'),
        f('10.0.0.1'),
      ]),
    ).toEqual([true, false, false]);
  });

  it('a list of ranges matches an address in any of them; a malformed range is refused', () => {
    const detection = `    selection:\n        DestinationIp|cidr:\n            - 127.0.0.0/8\n            - 192.168.0.0/16\n    condition: selection`;
    expect(hits(detection, [f('192.168.4.4'), f('127.0.0.1'), f('8.8.8.8')])).toEqual([true, true, false]);
    expect(() => rule(`    selection:\n        Ip|cidr: 10.0.0.0/33\n    condition: selection`)).toThrow(
      /not a CIDR range/,
    );
  });
});

describe('specific modifiers (modifiers appendix §Specific Modifiers, spec §Placeholders)', () => {
  it('expand without a value for the placeholder is reported unsupported and the rule is not run', () => {
    const loaded = rule(`    selection:\n        User|expand: '%Administrators%'\n    condition: selection`);
    expect(loaded.unsupported).toEqual(['placeholder %Administrators%']);
    expect(() => compileRule(loaded)).toThrow(/not run: unsupported placeholder %Administrators%/);
  });

  it('expand with values given replaces the placeholder by each of them', () => {
    const options = { placeholders: { Servers: ['srv*', 'dc01'] } };
    const detection = `    selection:\n        Computer|expand: '%Servers%.corp'\n    condition: selection`;
    expect(
      hits(
        detection,
        [
          event({ Computer: 'srv12.corp' }),
          event({ Computer: 'DC01.corp' }),
          event({ Computer: 'pc1.corp' }),
        ],
        options,
      ),
    ).toEqual([true, true, false]);
  });

  it('without expand a placeholder is a literal value; with it, \\% is a plain percent sign', () => {
    expect(
      hits(`    selection:\n        V: '%name%'\n    condition: selection`, [event({ V: '%name%' })]),
    ).toEqual([true]);
    const detection = String.raw`    selection:
        V|expand: '\%plain%name%'
    condition: selection`;
    expect(
      hits(detection, [event({ V: '%plainbob' }), event({ V: 'plainbob' })], {
        placeholders: { name: ['bob'] },
      }),
    ).toEqual([true, false]);
  });

  it('fieldref compares a field with another field of the same event, and can be negated with neq', () => {
    const same = `    selection:\n        TargetUserName|fieldref: SubjectUserName\n    condition: selection`;
    const differ = `    selection:\n        TargetUserName|fieldref|neq: SubjectUserName\n    condition: selection`;
    const events = [
      event({ TargetUserName: 'alice', SubjectUserName: 'Alice' }),
      event({ TargetUserName: 'alice', SubjectUserName: 'bob' }),
    ];
    expect(hits(same, events)).toEqual([true, false]);
    expect(hits(differ, events)).toEqual([false, true]);
  });

  it('a modifier the specification does not define is reported by name and the rule is not run', () => {
    const loaded = rule(`    selection:\n        User|foo|contains: x\n    condition: selection`);
    expect(loaded.unsupported).toEqual(['modifier foo']);
    expect(() => compileRule(loaded)).toThrow(/unsupported modifier foo/);
  });
});

describe('conditions (spec §Condition)', () => {
  const defs = ['a', 'b', 'c'].map((n) => `    ${n}:\n        F${n}: 'yes'`).join('\n');
  const truth = (condition: string) => {
    const compiled = compileRule(rule(`${defs}\n    condition: ${condition}`));
    const table: string[] = [];
    for (let bits = 0; bits < 8; bits++) {
      const fields: Record<string, string> = {};
      ['a', 'b', 'c'].forEach((n, i) => {
        if (bits & (1 << i)) fields[`F${n}`] = 'yes';
      });
      if (compiled.matches(event(fields))) table.push(Object.keys(fields).join('') || '-');
    }
    return table;
  };

  it('and, or and not combine search identifiers', () => {
    expect(truth('a and b')).toEqual(['FaFb', 'FaFbFc']);
    expect(truth('a or b')).toEqual(['Fa', 'Fb', 'FaFb', 'FaFc', 'FbFc', 'FaFbFc']);
    expect(truth('not a')).toEqual(['-', 'Fb', 'Fc', 'FbFc']);
  });

  it('and binds tighter than or, not tighter than and', () => {
    expect(truth('a or b and c')).toEqual(truth('a or (b and c)'));
    expect(truth('a or b and c')).not.toEqual(truth('(a or b) and c'));
    expect(truth('not a and b')).toEqual(truth('(not a) and b'));
    expect(truth('not a and b')).not.toEqual(truth('not (a and b)'));
  });

  it('brackets group', () => {
    expect(truth('a and (b or c)')).toEqual(['FaFb', 'FaFc', 'FaFbFc']);
  });

  it('1 of and all of a pattern, with x of binding tighter than not', () => {
    const d = [
      '    selection_a:\n        Fa: yes',
      '    selection_b:\n        Fb: yes',
      '    filter_x:\n        Fx: yes',
    ].join('\n');
    const run = (condition: string) =>
      hits(`${d}\n    condition: ${condition}`, [
        event({ Fa: 'yes' }),
        event({ Fa: 'yes', Fb: 'yes' }),
        event({ Fa: 'yes', Fb: 'yes', Fx: 'yes' }),
      ]);
    expect(run('1 of selection_*')).toEqual([true, true, true]);
    expect(run('all of selection_*')).toEqual([false, true, true]);
    expect(run('all of selection_* and not 1 of filter_*')).toEqual([false, true, false]);
  });

  it('1 of them and all of them leave out identifiers starting with _', () => {
    const d = ['    sel:\n        Fa: yes', '    _helper:\n        Fh: yes'].join('\n');
    expect(hits(`${d}\n    condition: all of them`, [event({ Fa: 'yes' }), event({ Fh: 'yes' })])).toEqual([
      true,
      false,
    ]);
    expect(hits(`${d}\n    condition: 1 of them`, [event({ Fh: 'yes' })])).toEqual([false]);
  });

  it('a list of conditions matches when any of them does', () => {
    const d = `${defs}\n    condition:\n        - a and b\n        - c`;
    expect(hits(d, [event({ Fa: 'yes', Fb: 'yes' }), event({ Fc: 'yes' }), event({ Fa: 'yes' })])).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('a condition naming an undefined identifier, or malformed, is refused on its line', () => {
    expect(() => rule(`${defs}\n    condition: a and d`)).toThrow(
      /conformance\.yml:11: detection\.condition: search identifier "d" is not defined/,
    );
    expect(() => rule(`${defs}\n    condition: a and (b`)).toThrow(
      /conformance\.yml:11: .*bracket is not closed/,
    );
    expect(() => rule(`${defs}\n    condition: 1 of nothing*`)).toThrow(
      /no search identifier matches "nothing\*"/,
    );
  });

  it('an aggregation after | (the old correlation syntax) is reported unsupported', () => {
    const loaded = rule(`${defs}\n    condition: a | count() > 5`);
    expect(loaded.unsupported).toEqual(['condition aggregation (|)']);
  });
});

describe('field lookup', () => {
  const run = (name: string, fields: Record<string, FieldValue>) =>
    hits(`    selection:\n        ${name}: 'x'\n    condition: selection`, [event(fields)])[0];

  it('takes the exact name first, then the name in any case', () => {
    expect(run('TargetUserName', { targetusername: 'x' })).toBe(true);
    expect(run('TargetUserName', { TargetUserName: 'x', targetusername: 'y' })).toBe(true);
    expect(run('TargetUserName', { TargetUserName: 'y', targetusername: 'x' })).toBe(false);
  });

  it('follows a dotted path into nested objects, as Windows events in JSON nest them', () => {
    expect(run('Event.EventData.User', { Event: { EventData: { User: 'x' } } })).toBe(true);
    expect(run('event.eventdata.user', { Event: { EventData: { User: 'x' } } })).toBe(true);
    expect(run('Event.EventData.User', { Event: { EventData: { Other: 'x' } } })).toBe(false);
    expect(run('constructor', {})).toBe(false);
  });
});

describe('log sources', () => {
  it('an event matches the logsource when it has each category, product and service the rule names', () => {
    const compiled = compileRule(
      rule(`    sel:\n        F: x\n    condition: sel`, {}, 'product: linux\n    service: sshd'),
    );
    const from = (logsource: WatchEvent['logsource']) =>
      compiled.logsourceMatches({ ...event({}), logsource });
    expect(from({ product: 'linux', service: 'sshd' })).toBe(true);
    expect(from({ product: 'Linux', service: 'sshd', category: 'authentication' })).toBe(true);
    expect(from({ product: 'linux', service: 'auditd' })).toBe(false);
    expect(from({ service: 'sshd' })).toBe(false);
  });
});

describe('compiled predicates', () => {
  const many = Array.from({ length: 30 }, (_, i) => `            - 'needle${i}*x?y'`).join('\n');
  const detection = `    selection:\n        CommandLine|contains:\n${many}\n        Image|re: 'evil[0-9]+'\n    condition: selection`;

  it('compile no regular expression and lower-case nothing of the rule while matching', () => {
    const compiled = compileRule(rule(detection));
    const events = Array.from({ length: 200 }, (_, i) =>
      event({
        CommandLine: i % 4 === 0 ? 'run haystack' : `run NEEDLE${i % 30}abcxzy now`,
        Image: `evil${i}`,
      }),
    );
    const RealRegExp = globalThis.RegExp;
    let built = 0;
    globalThis.RegExp = new Proxy(RealRegExp, {
      construct(target, args: [string, string?]) {
        built++;
        return new target(...args);
      },
    });
    // Compiling builds the regular expressions (which shows the count sees the engine's)…
    compileRule(rule(detection));
    expect(built).toBeGreaterThan(0);
    built = 0;
    // …matching builds none.
    const lower = vi.spyOn(String.prototype, 'toLowerCase');
    try {
      const results = events.map((e) => compiled.matches(e));
      expect(results.filter(Boolean).length).toBe(150);
    } finally {
      globalThis.RegExp = RealRegExp;
    }
    // One lower-casing per event string (the CommandLine, the Image), none per rule value.
    expect(lower.mock.calls.length).toBeLessThanOrEqual(events.length * 2);
    lower.mockRestore();
    expect(built).toBe(0);
  });

  it('share the lookups of a prepared event between rules', () => {
    const a = compileRule(rule(`    s:\n        User: alice\n    condition: s`));
    const b = compileRule(rule(`    s:\n        User|startswith: ali\n    condition: s`));
    const prepared = new PreparedEvent(event({ User: 'ALICE' }));
    expect([a.matchesPrepared(prepared), b.matchesPrepared(prepared)]).toEqual([true, true]);
  });
});

describe('a rule set', () => {
  const sshd = compileRule(
    rule(`    s:\n        - 'Failed password'\n    condition: s`, {}, 'product: linux\n    service: sshd'),
  );
  const web = compileRule(
    rule(`    s:\n        cs-uri-stem|contains: '/owa/'\n    condition: s`, {}, 'category: webserver'),
  );
  const set = new RuleSet([sshd, web]);

  it('runs on an event only the rules of its log source, and returns those that fire', () => {
    const line = (
      logsource: WatchEvent['logsource'],
      fields: Record<string, FieldValue>,
      raw: string,
    ): WatchEvent => ({
      time: 0,
      logsource,
      fields,
      raw,
      parsed: true,
    });
    expect(
      set.match(line({ product: 'linux', service: 'sshd' }, {}, 'sshd[1]: Failed password for root')),
    ).toEqual([sshd]);
    // The same words from another source are no sshd failure.
    expect(set.match(line({ product: 'linux', service: 'cron' }, {}, 'Failed password'))).toEqual([]);
    expect(
      set.match(line({ category: 'webserver', product: 'iis' }, { 'cs-uri-stem': '/OWA/auth.owa' }, '')),
    ).toEqual([web]);
    expect(set.forLogsource({ category: 'webserver' })).toEqual([web]);
  });

  it('follows a log source object changed between events, and keeps a frozen one shared by many', () => {
    const failed = (logsource: WatchEvent['logsource']): WatchEvent => ({
      time: 0,
      logsource,
      fields: {},
      raw: 'sshd[1]: Failed password for root',
      parsed: true,
    });
    const changing: WatchEvent['logsource'] = { product: 'linux', service: 'sshd' };
    expect(set.match(failed(changing))).toEqual([sshd]);
    changing.service = 'cron';
    expect(set.match(failed(changing))).toEqual([]);
    const shared = Object.freeze({ product: 'linux', service: 'sshd' });
    const other = Object.freeze({ product: 'linux', service: 'cron' });
    for (let i = 0; i < 3; i++) {
      expect(set.match(failed(shared))).toEqual([sshd]);
      expect(set.match(failed(other))).toEqual([]);
    }
  });
});
