import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertEvents,
  alertRule,
  commandLine,
  countsByName,
  durationParts,
  eventKeyFields,
  fieldRows,
  fieldText,
  lineRange,
  receiverRows,
  ruleErrorLine,
} from './format';

describe('an event’s fields', () => {
  it('shows the key fields as text, and nothing for those it lacks', () => {
    expect(
      eventKeyFields({ fields: { user: 'alice', src_ip: '203.0.113.7', action: 'login', rip: '1' } }),
    ).toEqual({ user: 'alice', src_ip: '203.0.113.7', action: 'login', outcome: undefined });
  });

  it('writes lists, numbers and objects on one line', () => {
    expect(fieldText(['imap', 'pop3'])).toBe('imap, pop3');
    expect(fieldText(993)).toBe('993');
    expect(fieldText({ a: 1 })).toBe('{"a":1}');
    expect(fieldText(null)).toBeUndefined();
  });

  it('lists every field by name, in order', () => {
    expect(fieldRows({ user: 'a', action: 'login', empty: null })).toEqual([
      { name: 'action', value: 'login' },
      { name: 'user', value: 'a' },
    ]);
  });
});

describe('a block’s command', () => {
  it('reads as a shell would take it', () => {
    expect(commandLine(['fail2ban-client', 'set', 'rempart', 'banip', '203.0.113.7'])).toBe(
      'fail2ban-client set rempart banip 203.0.113.7',
    );
    expect(commandLine(['nft', 'add', 'element', '{ 203.0.113.7 }', "it's"])).toBe(
      "nft add element '{ 203.0.113.7 }' 'it'\\''s'",
    );
  });

  it('keeps each argument whole, whatever it holds', () => {
    // A POSIX shell's reading of the words: bare, or single-quoted pieces glued with \'.
    const words = (line: string): string[] =>
      [...line.matchAll(/(?:[^\s'\\]+|'[^']*'|\\.)+/g)].map((m) =>
        m[0].replace(
          /'([^']*)'|\\(.)/g,
          (_all, quoted: string | undefined, escaped: string | undefined) => quoted ?? escaped ?? '',
        ),
      );
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { maxLength: 6 }), (argv) => {
        expect(words(commandLine(argv))).toEqual(argv);
      }),
    );
  });
});

describe('a server watch alert’s events', () => {
  const alert = {
    source: 'serverwatch' as const,
    details: {
      ruleId: 'r1',
      level: 'high',
      events: [
        { at: '2026-12-03T08:00:00.000Z', raw: 'auth failed', fields: { user: 'alice' } },
        { nonsense: true },
      ],
      eventIds: ['1'],
    },
  };

  it('are those the details carry that can be read', () => {
    expect(alertEvents(alert)).toEqual([
      { at: '2026-12-03T08:00:00.000Z', raw: 'auth failed', fields: { user: 'alice' } },
    ]);
    expect(alertRule(alert)).toEqual({ ruleId: 'r1', level: 'high' });
  });

  it('are none for another module’s alert', () => {
    expect(alertEvents({ ...alert, source: 'netguard' })).toEqual([]);
  });
});

describe('the rest', () => {
  it('finds the line a broken rule’s message points to', () => {
    expect(ruleErrorLine('pasted.yml:12: unknown modifier "contain"')).toBe(12);
    expect(ruleErrorLine('rule at line 7: bad condition')).toBe(7);
    expect(ruleErrorLine('no rule in this text')).toBeUndefined();
  });

  it('finds a line of the pasted rules, to put the caret on it', () => {
    expect(lineRange('title: x\nlogsource:\n  product: linux', 2)).toEqual({ start: 9, end: 19 });
    expect(lineRange('a', 1)).toEqual({ start: 0, end: 1 });
    expect(lineRange('a\n', 3)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.array(
          fc.string().map((s) => s.replace(/\n/g, '')),
          { minLength: 1 },
        ),
        (lines) => {
          const text = lines.join('\n');
          lines.forEach((line, index) => {
            const range = lineRange(text, index + 1)!;
            expect(text.slice(range.start, range.end)).toBe(line);
          });
        },
      ),
    );
  });

  it('writes durations in ms under a second, in seconds above', () => {
    expect(durationParts(42.4)).toEqual({ unit: 'ms', value: 42 });
    expect(durationParts(1530)).toEqual({ unit: 's', value: 1.5 });
  });

  it('lists the receivers and the counts by name', () => {
    expect(
      receiverRows({
        syslog: { port: 514, messages: { udp: 3, tcp: 1, tls: 0 }, truncated: 0, connections: 1 },
        files: [{ path: '/var/log/mail.log', format: 'auto', lines: 9, rotations: 0, waiting: false }],
      }),
    ).toEqual([
      { key: 'syslog-tcp', name: 'tcp', count: 1 },
      { key: 'syslog-udp', name: 'udp', count: 3 },
      { key: 'file-/var/log/mail.log', name: '/var/log/mail.log', count: 9 },
    ]);
    expect(countsByName({ full: 2, too_long: 5, none: 0 })).toEqual([
      { name: 'too_long', count: 5 },
      { name: 'full', count: 2 },
    ]);
  });
});
