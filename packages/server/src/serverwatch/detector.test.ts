import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Detector, type WatchHit } from './detector.js';
import type { FieldValue, WatchEvent } from './event.js';
import { type LogFormat, type ParseContext, parseLine, readHead } from './parsers/index.js';
import { dayContexts, mailDay } from './parsers/mail-day.js';
import { loadRuleFiles, loadRuleText, shippedRulesDir, sigmaHqRulesDir } from './rules.js';
import { jointSeam } from './scan-logs.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

/** A mail login as the Postfix and Dovecot parsers give it. */
function login(
  at: number,
  user: string,
  ip: string,
  outcome: 'success' | 'failure',
  protocol = 'imap',
): WatchEvent {
  return event(at, { service: 'dovecot' }, { action: 'login', outcome, user, src_ip: ip, protocol });
}

function event(
  at: number,
  logsource: WatchEvent['logsource'],
  fields: Record<string, FieldValue>,
): WatchEvent {
  return {
    time: at,
    logsource: { product: 'linux', ...logsource },
    fields,
    raw: JSON.stringify(fields),
    parsed: true,
  };
}

function run(detector: Detector, events: WatchEvent[]): WatchHit[] {
  return [...events.flatMap((e) => detector.push(e)), ...detector.flush()];
}

const titles = (hits: WatchHit[]) => [...new Set(hits.map((h) => h.rule.title))].sort();

describe('the shipped rules for mail servers', () => {
  const rules = loadRuleFiles([shippedRulesDir()]);

  it('all run: six detection rules and five correlations, none skipped', () => {
    expect(rules.skipped).toEqual([]);
    expect(rules.detections).toHaveLength(6);
    expect(rules.correlations).toHaveLength(5);
  });

  it('find a brute force on one mailbox, then the login it won, and report neither login alone', () => {
    const detector = new Detector(rules);
    const events = [
      ...Array.from({ length: 12 }, (_, i) =>
        login(T0 + i * 20_000, 'minister@gov.example', '203.0.113.9', 'failure'),
      ),
      login(T0 + 300_000, 'minister@gov.example', '203.0.113.9', 'success'),
    ];
    const hits = run(detector, events);
    expect(titles(hits)).toEqual(['Mail Brute Force From One Source', 'Mail Login After Many Failures']);
    const won = hits.find((h) => h.rule.title === 'Mail Login After Many Failures')!;
    expect(won.rule.level).toBe('critical');
    expect(won.group).toEqual({ src_ip: '203.0.113.9', user: 'minister@gov.example' });
  });

  it('find password spraying across mailboxes from one source, and logins to many mailboxes', () => {
    const detector = new Detector(rules);
    const users = Array.from({ length: 12 }, (_, i) => `agent${i}@gov.example`);
    const sprayed = users.map((user, i) =>
      login(T0 + i * 30_000, user, '198.51.100.23', 'failure', 'submission'),
    );
    const used = users
      .slice(0, 6)
      .map((user, i) => login(T0 + 600_000 + i * 30_000, user, '198.51.100.23', 'success'));
    expect(titles(run(detector, [...sprayed, ...used]))).toEqual([
      'Mail Logins To Many Mailboxes From One Source',
      'Mail Password Spraying From One Source',
    ]);
  });

  it('find a mailbox emptied and Exchange exploitation, and nothing in an ordinary day', () => {
    const detector = new Detector(rules);
    const web = (at: number, method: string, stem: string, query = '-') =>
      event(
        at,
        { product: 'windows', service: 'iis', category: 'webserver' },
        {
          'cs-method': method,
          'cs-uri-stem': stem,
          'cs-uri-query': query,
          'c-ip': '192.0.2.77',
          'sc-status': 200,
        },
      );
    const attack = [
      event(
        T0,
        { service: 'dovecot' },
        { action: 'logout', user: 'a@gov.example', bytes_out: 2_300_000_000 },
      ),
      web(T0 + 1, 'GET', '/autodiscover/autodiscover.json', '@evil.example/PowerShell/?X-Rps-CAT=x'),
      web(T0 + 2, 'POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=ResetOAB'),
      web(T0 + 3, 'POST', '/owa/auth/shell.aspx'),
    ];
    expect(titles(run(detector, attack))).toEqual([
      'Exchange Autodiscover Server-Side Request Forgery (ProxyShell, ProxyNotShell)',
      'Exchange Control Panel Exploitation',
      'Mailbox Emptied Over IMAP or POP3',
      'Web Shell Reached In An Exchange Folder',
    ]);
    const ordinary = [
      ...Array.from({ length: 300 }, (_, i) =>
        login(T0 + i * 60_000, `u${i % 40}@gov.example`, `10.0.${i % 7}.${i % 40}`, 'success'),
      ),
      // A user mistyping twice, a phone with an old password: under every threshold.
      login(T0, 'u1@gov.example', '10.0.1.1', 'failure'),
      login(T0 + 5_000, 'u1@gov.example', '10.0.1.1', 'failure'),
      event(T0, { service: 'dovecot' }, { action: 'logout', user: 'u2@gov.example', bytes_out: 48_000_000 }),
      web(T0 + 4, 'GET', '/owa/auth/logon.aspx', 'url=https%3a%2f%2fmail.gov.example%2fowa%2f'),
      web(T0 + 5, 'POST', '/EWS/Exchange.asmx'),
      web(T0 + 6, 'GET', '/autodiscover/autodiscover.json', 'Email=u1%40gov.example&Protocol=ActiveSync'),
    ];
    expect(run(new Detector(rules), ordinary)).toEqual([]);
  });
});

describe('the SigmaHQ rules with the shipped ones', () => {
  it("compile together into one detector, and a ProxyShell request fires both projects' rules", () => {
    const rules = loadRuleFiles([shippedRulesDir(), sigmaHqRulesDir()]);
    expect(rules.skipped).toEqual([]);
    const detector = new Detector(rules);
    expect(detector.detectionRules).toBe(rules.detections.length);
    expect(detector.filterProblems).toEqual([]);
    const hits = detector.push(
      event(
        T0,
        { product: 'windows', service: 'iis', category: 'webserver' },
        {
          'cs-method': 'GET',
          'cs-uri-stem': '/autodiscover/autodiscover.json',
          'cs-uri-query': '@foo.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@foo.com',
          'c-ip': '192.0.2.8',
          'sc-status': 401,
        },
      ),
    );
    expect(titles(hits)).toEqual([
      'Exchange Autodiscover Server-Side Request Forgery (ProxyShell, ProxyNotShell)',
      'Exchange ProxyShell Pattern',
    ]);
  });
});

describe('a line the offline scan leaves unread (its head shows no rule can match it)', () => {
  const rules = loadRuleFiles([shippedRulesDir(), sigmaHqRulesDir()]);
  // Without correlations, every rule that matches an event gives a hit of its own.
  const detector = new Detector({ ...rules, correlations: [] });
  const seam = jointSeam(detector);
  const receivedAt = Date.UTC(2026, 11, 3, 23, 0, 0);
  const day = [...mailDay({ seed: 13, lines: 20_000 }).lines()];

  /** Whether the scan leaves the line unread, and the hits of the line parsed whole. */
  function judge(
    line: string,
    format: LogFormat,
    context: ParseContext,
  ): { unread: boolean; hits: string[] } {
    // As the scan reads it: with the joint of cs-uri the rules need.
    const head = readHead(line, format, { ...context, jointSeam: seam });
    const unread = head !== undefined && !detector.mayMatch(head.logsource, line, head.composedTexts);
    const hits = detector.push(parseLine(line, format, context)).map((h) => h.rule.title);
    return { unread, hits };
  }

  it('is matched by no rule, on a day of a mail server with its attack', () => {
    const contexts = dayContexts(receivedAt);
    let unread = 0;
    let hits = 0;
    for (const l of day) {
      const judged = judge(l.line, l.format, contexts[l.file]);
      hits += judged.hits.length;
      if (!judged.unread) continue;
      unread++;
      expect(judged.hits, l.line).toEqual([]);
    }
    expect(unread).toBeGreaterThan(day.length / 2);
    expect(hits).toBeGreaterThan(0);
  }, 60_000);

  it('is matched by no rule, whatever is cut out of a line and put in it', () => {
    // Pieces of what the rules look for, and of what the parsers compose.
    const pieces = fc.constantFrom(
      'login',
      'success',
      'failure',
      'imap',
      ' sasl_username=x',
      'client=a[192.0.2.1], ',
      'warning: a[192.0.2.1]: SASL PLAIN authentication failed: x',
      'chmod 4777 /tmp/',
      'new user',
      '/owa/',
      '/ecp/',
      'autodiscover',
      '?',
      '.aspx',
      'powershell',
      // Numbers as large as a rule compares with, in the forms `gt`/`gte` read.
      ' out=600000000',
      ' out=6e8',
      ' out=0x1DCD6500',
      ': Disconnected: Logged out in=1 out=',
      ' ',
    );
    const insert = fc.oneof(pieces, fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.constantFrom(...day), fc.nat(), fc.nat(), insert, (l, a, b, put) => {
        const i = a % (l.line.length + 1);
        const j = b % (l.line.length + 1);
        const line = l.line.slice(0, Math.min(i, j)) + put + l.line.slice(Math.max(i, j));
        const judged = judge(line, l.format, { receivedAt });
        if (judged.unread) expect(judged.hits, line).toEqual([]);
      }),
      { numRuns: 5_000 },
    );
  });

  it('is not one whose cs-uri holds a literal across the `?` that the line does not hold', () => {
    const [rule] = loadRuleText(
      [
        'title: Across the query mark',
        'logsource: { category: webserver }',
        'detection:',
        '  selection:',
        // `\?` is the character itself, where `?` alone is Sigma's wildcard.
        "    cs-uri|contains: '.aspx\\?cmd='",
        '  condition: selection',
      ].join('\n'),
      'across.yml',
    ).detections;
    const across = new Detector({
      detections: [rule!],
      filters: [],
      correlations: [],
      skipped: [],
      files: 1,
    });
    const line =
      '2026-12-03 08:31:16 192.0.2.30 GET /owa/auth/x.aspx cmd=whoami 443 - 90.12.44.7 Mozilla/5.0 - 200 0 0 31';
    const context: ParseContext = { receivedAt };
    const head = readHead(line, 'iis', context)!;
    expect(across.mayMatch(head.logsource, line, head.composedTexts)).toBe(true);
    expect(across.mayMatch(head.logsource, line, [])).toBe(false);
    // What the scan gives the head: the literal's length less one on each side of the `?`.
    expect(jointSeam(across)).toBe('.aspx?cmd='.length - 1);
    const enough = readHead(line, 'iis', { receivedAt, jointSeam: jointSeam(across) })!;
    expect(across.mayMatch(enough.logsource, line, enough.composedTexts)).toBe(true);
    // Here the literal has five characters before it: four are too few.
    const tooFew = readHead(line, 'iis', { receivedAt, jointSeam: 4 })!;
    expect(across.mayMatch(tooFew.logsource, line, tooFew.composedTexts)).toBe(false);
    expect(across.push(parseLine(line, 'iis', context)).map((h) => h.rule.title)).toEqual([
      'Across the query mark',
    ]);
  });
});
