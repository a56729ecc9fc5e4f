/**
 * The server watch pages, from what the administrator does to what the server is sent and what
 * the page shows: the fetch at the API boundary is the only thing replaced, and the answers are
 * parsed with the contract and rendered with the pages' own components, in each language.
 */
import type {
  Alert,
  RuleCount,
  WatchBlockView,
  WatchEventView,
  WatchHitView,
  WatchStatusView,
} from '@rempart/core';
import { createElement } from 'react';
import { describe, expect, it, vi } from 'vitest';

// The router listens to the browser's history when it loads; these tests have no browser.
vi.hoisted(() => {
  if (typeof globalThis.window === 'undefined')
    Object.assign(globalThis, { window: { addEventListener: () => undefined } });
});

import { ApiError, api } from '../api';
import { BlockTable } from '../components/serverwatch/block-table';
import { EventTable } from '../components/serverwatch/event-table';
import { HitDetail, HitTable } from '../components/serverwatch/hit-table';
import { inputRefusal } from '../components/serverwatch/refusal';
import { RuleTable } from '../components/serverwatch/rule-table';
import { StatusView } from '../components/serverwatch/status-view';
import { TimelineChart } from '../components/serverwatch/timeline-chart';
import { hitsHref } from '../serverwatch/query';
import { bucketHits } from '../serverwatch/timeline';
import { fetchMock, jsonAnswer, render, signedInAsAdmin } from '../test-support';

signedInAsAdmin();

const decode = (text: string): string =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const textOf = (html: string): string =>
  decode(html.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/** The text of each row of the table marked with `marker`, cells joined by ' | '. */
function rows(html: string, marker: string): string[] {
  const table = html.slice(html.search(new RegExp(`<table\\b[^>]*${marker}`)));
  const body = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
  return [...body.matchAll(/<tr\b[^>]*>(.*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd]\b[^>]*>(.*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1]!)).join(' | '),
  );
}

const sent = (call = 0) => {
  const [path, init] = fetchMock.mock.calls[call] ?? [];
  return {
    path: typeof path === 'string' ? path : '',
    method: init?.method,
    headers: (init?.headers ?? {}) as Record<string, string>,
    body: init?.body,
  };
};

// ---- what the server answers ----

const status: WatchStatusView = {
  running: true,
  rules: {
    detection: 152,
    correlation: 4,
    skipped: [{ file: 'sigmahq/proc_creation.yml', title: 'Odd process', unsupported: ['value_sum'] }],
  },
  queue: {
    capacity: 10_000,
    depth: 3,
    highWater: 420,
    accepted: 12_000,
    refused: 2,
    dropped: { total: 5, byReason: { full: 5 }, bySource: { 'syslog-udp': 5 } },
  },
  syslog: { port: 5514, messages: { udp: 11_990, tcp: 10 }, truncated: 0, connections: 1 },
  files: [],
  httpIngest: false,
  events: { received: 12_000, unparsed: 40, stored: 11_995, failedBatches: 0 },
  hits: { total: 9, alerts: 3, merged: 6, suppressed: 0 },
  responses: { block: 'dry-run', webhook: false },
};

const alertId = '5d7f5a52-3c1f-4f4e-9a51-0d3f6f1b2c3d';
const hit: WatchHitView = {
  id: '42',
  at: '2026-12-03T08:12:00.000Z',
  rule: {
    id: '512a9a02-4bd8-4dfd-b8af-889ae41ae546',
    title: 'Mail Brute Force From One Source',
    level: 'high',
    kind: 'correlation',
    file: 'mail_login_failures.yml',
  },
  group: { src_ip: '203.0.113.66', user: 'ministre' },
  value: 12,
  count: 3,
  eventIds: ['101', '102'],
  alertId,
  hunt: null,
};

const alert: Alert = {
  id: alertId,
  createdAt: '2026-12-03T08:12:00.000Z',
  severity: 'high',
  source: 'serverwatch',
  title: 'Mail Brute Force From One Source (src_ip 203.0.113.66, user ministre)',
  details: {
    ruleId: hit.rule.id,
    level: 'high',
    group: hit.group,
    events: [
      {
        at: '2026-12-03T08:11:58.000Z',
        raw: 'dovecot: imap-login: Disconnected (auth failed, 1 attempts): user=<ministre>, rip=203.0.113.66',
        fields: { user: 'ministre', src_ip: '203.0.113.66', outcome: 'failure' },
      },
    ],
    eventIds: ['101', '102'],
  },
  acknowledgedAt: null,
  acknowledgedBy: null,
};

const events: WatchEventView[] = [
  {
    id: '102',
    at: '2026-12-03T08:11:58.000Z',
    receivedAt: '2026-12-03T08:11:58.100Z',
    source: 'syslog-udp',
    format: 'dovecot',
    logsource: { product: 'linux', service: 'dovecot' },
    host: 'mx1',
    fields: {
      user: 'ministre',
      src_ip: '203.0.113.66',
      action: 'login',
      outcome: 'failure',
      protocol: 'imap',
    },
    raw: '<38>Dec  3 08:11:58 mx1 dovecot: imap-login: Disconnected (auth failed, 1 attempts): user=<ministre>, rip=203.0.113.66',
    parsed: true,
  },
  {
    id: '103',
    at: '2026-12-03T08:11:59.000Z',
    receivedAt: '2026-12-03T08:11:59.100Z',
    source: 'syslog-udp',
    format: 'raw',
    logsource: {},
    host: null,
    fields: {},
    raw: 'garbage <script>',
    parsed: false,
  },
];

const block: WatchBlockView = {
  address: '203.0.113.66',
  ruleId: hit.rule.id,
  ruleTitle: hit.rule.title,
  at: '2026-12-03T08:12:00.000Z',
  expiresAt: '2026-12-03T09:12:00.000Z',
  mode: 'dry-run',
  command: ['nft', 'add', 'element', 'inet', 'rempart', 'blocked4', '{ 203.0.113.66 timeout 3600s }'],
  error: null,
};

const rule = (ruleId: string, title: string, hits: number, level: string | null): RuleCount => ({
  ruleId,
  title,
  level,
  kind: 'detection',
  hits,
  lastHitAt: '2026-12-03T08:00:00.000Z',
});

// ---- the tests ----

describe('what the server is sent', () => {
  it('reads the status, events, hits and rule counts with GET and checks each answer', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, status));
    expect(await api.watch.status()).toEqual(status);
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { events, next: '1796266606985_42' }));
    expect((await api.watch.events('q=user%3Aministre&limit=100')).next).toBe('1796266606985_42');
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { hits: [hit], next: null }));
    expect((await api.watch.hits('ruleId=x')).hits).toEqual([hit]);
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { rules: [rule('r', 'R', 2, 'low')] }));
    await api.watch.rules({ from: '2026-12-02T09:00:00.000Z', to: '2026-12-03T09:00:00.000Z' });
    expect([0, 1, 2, 3].map((call) => sent(call).path)).toEqual([
      '/api/watch/status',
      '/api/watch/events?q=user%3Aministre&limit=100',
      '/api/watch/hits?ruleId=x',
      '/api/watch/rules?from=2026-12-02T09%3A00%3A00.000Z&to=2026-12-03T09%3A00%3A00.000Z',
    ]);
    expect(sent(0).method).toBe('GET');
  });

  it('refuses an answer that does not follow the contract', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { ...status, queue: undefined }));
    await expect(api.watch.status()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('runs a hunt with POST, the rules as JSON and the anti-forgery token', async () => {
    const result = {
      id: 'h-1',
      from: null,
      to: null,
      events: 100,
      hits: 1,
      rules: { detection: 1, correlation: 0 },
      byRule: [],
      ms: 12,
    };
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, result));
    await api.watch.hunt({ rules: 'title: x' });
    expect(sent().path).toBe('/api/watch/hunts');
    expect(sent().method).toBe('POST');
    expect(sent().headers['x-csrf-token']).toBe('csrf-token');
    expect(JSON.parse(sent().body as string)).toEqual({ rules: 'title: x' });
  });

  it('lifts a block with DELETE, the address in the path', async () => {
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await api.watch.unblock('2001:db8::1');
    expect(sent().path).toBe('/api/watch/blocks/2001%3Adb8%3A%3A1');
    expect(sent().method).toBe('DELETE');
    expect(sent().headers['x-csrf-token']).toBe('csrf-token');
  });

  it('keeps the server’s words when a search or a rule is refused, to show them beside the box', async () => {
    const message = 'a quote is not closed (at 9)';
    fetchMock.mockResolvedValueOnce(
      jsonAnswer(400, { error: { code: 'validation_failed', message, details: { position: 9 } } }),
    );
    const failure: unknown = await api.watch.events('q=%22').catch((error: unknown) => error);
    expect(inputRefusal(failure)).toBe(message);
    expect(inputRefusal(new ApiError(503, 'service_unavailable', 'down'))).toBeUndefined();
  });
});

describe('the overview', () => {
  const buckets = bucketHits(
    [
      { at: '2026-12-03T08:12:00.000Z', level: 'high', count: 3 },
      { at: '2026-12-03T08:40:00.000Z', level: 'informational', count: 1 },
    ],
    Date.parse('2026-12-03T08:00:00.000Z'),
    Date.parse('2026-12-03T09:00:00.000Z'),
    5 * 60_000,
  );

  it('draws the hits as bars stacked by level, named and summed up for assistive technologies', () => {
    const html = render(createElement(TimelineChart, { buckets, hours: 1, complete: true }));
    expect(html).toContain('role="img"');
    expect(html).toContain('data-hits="4"');
    expect(textOf(html.slice(html.indexOf('<desc'), html.indexOf('</desc>')))).toBe(
      'Hits between 08:00 and 09:00: 4. 3 High, 1 Info.',
    );
    expect([...html.matchAll(/class="watch-segment (watch-level-[a-z]+)"/g)].map((m) => m[1])).toEqual([
      'watch-level-high',
      'watch-level-info',
    ]);
  });

  it('gives the figures behind the bars in a table, and says when only the newest hits were read', () => {
    const html = render(createElement(TimelineChart, { buckets, hours: 1, complete: false }));
    expect(rows(html, 'class="table"')).toEqual([
      '08:10 | 0 | 3 | 0 | 0 | 0 | 3',
      '08:40 | 0 | 0 | 0 | 0 | 1 | 1',
    ]);
    expect(textOf(html)).toContain('only the most recent are drawn');
  });

  it('ranks the rules by hits, each linking to its hits', () => {
    const html = render(
      createElement(RuleTable, {
        rules: [rule('a', 'Login failed', 2, 'informational'), rule('b', 'Brute force', 9, 'high')],
        hrefOf: (r: RuleCount) => hitsHref({ ruleId: r.ruleId }),
      }),
    );
    expect(rows(html, 'data-testid="watch-rules"')).toEqual([
      'Brute force | High | Detection | 9 | 2026-12-03 08:00',
      'Login failed | Info | Detection | 2 | 2026-12-03 08:00',
    ]);
    expect(html).toContain('href="/watch/hits?ruleId=b"');
  });

  it('says loudly that blocking is a dry-run, and what was lost and why', () => {
    const html = render(createElement(StatusView, { status }));
    const responses = html.slice(html.indexOf('>', html.indexOf('data-testid="watch-responses"')) + 1);
    expect(textOf(responses)).toMatch(
      /^Blocking Dry-run .* Blocks are recorded, with their command, but not applied\./,
    );
    const queue = textOf(html.slice(html.indexOf('data-testid="watch-queue"')));
    expect(queue).toContain('Lines lost 5 (needs attention) because: full 5 from syslog-udp 5');
    expect(textOf(html)).toContain('Syslog port 5514 (UDP and TCP)');
    expect(textOf(html)).toContain('Syslog over UDP 11,990');
    expect(rows(html, 'data-testid="watch-skipped"')).toEqual([
      'Odd process | sigmahq/proc_creation.yml | value_sum',
    ]);
  });

  it('speaks French and Dutch too', () => {
    expect(textOf(render(createElement(StatusView, { status }), 'fr'))).toContain('Blocage Simulation');
    expect(textOf(render(createElement(StatusView, { status }), 'nl'))).toContain('Blokkeren Proefmodus');
  });
});

describe('search results', () => {
  it('show the key fields in columns and mark the lines no parser understood', () => {
    const html = render(createElement(EventTable, { events }));
    // The time, to the second, is in the reader's time zone: the columns after it are compared.
    const shown = rows(html, 'data-testid="watch-events"').filter((_, i) => i % 2 === 0);
    // Each button names its line by its time, for those who hear it out of its row.
    expect(shown.every((row) => / \| Show the line \([^)]*\d\d:\d\d[^)]*\)$/.test(row))).toBe(true);
    const columns = (row: string) =>
      row
        .replace(/ \([^)]*\)$/, '')
        .split(' | ')
        .slice(1)
        .join(' | ');
    expect(shown.map(columns)).toEqual([
      'syslog-udp | dovecot | mx1 | ministre | 203.0.113.66 | login | failure | Show the line',
      'syslog-udp | Not parsed | — | — | — | — | — | Show the line',
    ]);
    expect(shown[0]).toMatch(/^[^|]*2026[^|]*:\d\d:58[^|]* \|/);
    expect(html).toContain('class="watch-unparsed"');
  });

  it('keep the raw line, escaped, folded until asked for', () => {
    const html = render(createElement(EventTable, { events }));
    expect(html).toContain('garbage &lt;script&gt;');
    expect(html).toMatch(/<tr id="watch-event-103" class="watch-event-detail" hidden="">/);
    expect(html).toContain('aria-controls="watch-event-103"');
  });
});

describe('hits', () => {
  it('list the rule, its level, the group and the merged duplicates', () => {
    const html = render(
      createElement(HitTable, {
        hits: [hit],
        alerts: { byId: new Map([[alertId, alert]]), loading: false },
        hours: 24,
        onOpen: () => undefined,
      }),
    );
    expect(rows(html, 'data-testid="watch-hits"')[0]).toBe(
      '2026-12-03 08:12 | Mail Brute Force From One Source | High | src_ip 203.0.113.66 user ministre | 3 | ' +
        'Show the events (Mail Brute Force From One Source, 2026-12-03 08:12)',
    );
  });
});

describe('a hit opened', () => {
  it('shows the events its alert carries, and searches for its source and user', () => {
    const html = render(
      createElement(HitDetail, {
        hit,
        alerts: { byId: new Map([[alertId, alert]]), loading: false },
        hours: 24,
      }),
    );
    const text = textOf(html);
    expect(text).toContain('Stored events 101 102');
    expect(text).toContain('Events in its alert (1)');
    expect(text).toContain(
      'imap-login: Disconnected (auth failed, 1 attempts): user=<ministre>, rip=203.0.113.66',
    );
    expect(html).toContain('href="/watch/search?q=src_ip%3A203.0.113.66+user%3Aministre"');
  });

  it('says so when its alert is no longer among the latest', () => {
    const html = render(
      createElement(HitDetail, { hit, alerts: { byId: new Map(), loading: false }, hours: 24 }),
    );
    expect(textOf(html)).toContain('Its alert is not among the latest alerts');
  });
});

describe('blocks', () => {
  it('show the mode and the command as a shell would run it', () => {
    const html = render(
      createElement(BlockTable, { blocks: [block], busy: false, onUnblock: () => undefined }),
    );
    expect(rows(html, 'data-testid="watch-blocks"')).toEqual([
      "203.0.113.66 | Mail Brute Force From One Source | 2026-12-03 08:12 | 2026-12-03 09:12 | Dry-run | nft add element inet rempart blocked4 '{ 203.0.113.66 timeout 3600s }' | Unblock 203.0.113.66",
    ]);
  });

  it('say when nothing is blocked', () => {
    expect(
      textOf(render(createElement(BlockTable, { blocks: [], busy: false, onUnblock: () => undefined }))),
    ).toBe('No address is blocked.');
  });
});
