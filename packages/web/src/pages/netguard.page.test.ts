/**
 * The network guard pages, from what the administrator does to what the server is sent and what
 * the page shows: the fetch at the API boundary is the only thing replaced, and the answers are
 * rendered with the pages' own components.
 */
import type { Device, DnsVerdict, MdmImportResult, QueryStats } from '@rempart/core';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { ApiError, api } from '../api';
import { BarList } from '../components/netguard/bar-list';
import {
  ComplianceBadge,
  MdmImportRefusal,
  MdmImported,
  Violations,
} from '../components/netguard/device-parts';
import { fileProblem, linesProblem } from '../components/netguard/fields';
import { ListProblems } from '../components/netguard/list-problems';
import { TrafficChart } from '../components/netguard/traffic-chart';
import { VerdictView } from '../components/netguard/verdict-view';
import { fetchMock, i18n, jsonAnswer, render, signedInAsAdmin } from '../test-support';

// ---- the server's side ----

signedInAsAdmin();

const listId = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const storedList = {
  id: listId,
  name: 'social',
  action: 'block',
  format: 'hosts',
  source: { kind: 'upload' },
  rules: 2,
  problems: [{ line: 3, reason: 'an IP address, not a domain name' }],
  problemCount: 1,
  updatedAt: '2026-03-12T10:00:00.000Z',
};

const device: Device = {
  id: '22222222-2222-4222-8222-222222222222',
  name: 'iPhone of the minister',
  platform: 'ios',
  owner: 'claire.martin@example.org',
  group: 'cabinet',
  serial: 'F2LX8',
  addresses: ['10.1.4.17'],
  enrolledAt: '2026-03-01T08:00:00.000Z',
  lastReportAt: '2026-03-12T09:00:00.000Z',
  osVersion: '17.5.1',
  apps: 42,
  compliant: false,
  violations: [
    { app: 'com.zhiliaoapp.musically', reason: 'blocked', category: 'tiktok-bytedance' },
    { app: 'com.example.sideloaded', reason: 'not_in_catalogue' },
  ],
};

const mdmResult: MdmImportResult = {
  updated: 3,
  enrolled: 1,
  notCompliant: [{ device: 'F2LX8', apps: ['com.zhiliaoapp.musically', 'com.example.sideloaded'] }],
  errors: [{ line: 7, message: 'platform "Windows" is neither iOS nor Android' }],
  errorsOmitted: 2,
};

const mdmRefusal = {
  error: {
    code: 'validation_failed',
    message: 'No device could be read from this export.',
    details: { errors: [{ line: 1, message: 'no Serial number column (a header such as serial)' }] },
  },
};

// ---- the page's side ----

const decode = (text: string): string =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The visible text of the first element opening with `<tag` whose opening tag holds `marker`. */
function textOf(html: string, tag: string, marker: string): string {
  const start = html.search(new RegExp(`<${tag}\\b[^>]*${marker}[^>]*>`));
  expect(start, `no <${tag} ${marker}>`).toBeGreaterThanOrEqual(0);
  let depth = 0;
  const pattern = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  pattern.lastIndex = start;
  for (let m = pattern.exec(html); m; m = pattern.exec(html)) {
    depth += m[1] === '/' ? -1 : 1;
    if (depth === 0)
      return decode(html.slice(start, m.index).replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim();
  }
  throw new Error(`<${tag} ${marker}> is not closed`);
}

/** The text of each row of the table marked with `marker`, cells joined by ' | '. */
function rows(html: string, marker: string): string[] {
  const table = html.slice(html.search(new RegExp(`<table\\b[^>]*${marker}`)));
  const body = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
  return [...body.matchAll(/<tr\b[^>]*>(.*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd]\b[^>]*>(.*?)<\/t[hd]>/g)]
      .map((cell) =>
        decode(cell[1]!.replace(/<[^>]*>/g, ' '))
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .join(' | '),
  );
}

// ---- the tests ----

describe('what the server is sent', () => {
  it('saves a group with PUT, its id in the address, the checked JSON body and the anti-forgery token', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonAnswer(200, {
        group: {
          id: 'cabinet',
          name: 'Cabinet',
          description: '',
          cidrs: ['10.1.0.0/16'],
          categories: ['spyware'],
          lists: [],
          blockMode: 'nxdomain',
          trusted: false,
          noPrivateApps: true,
          updatedAt: '2026-03-12T10:00:00.000Z',
        },
      }),
    );
    const input = { name: 'Cabinet', cidrs: ['10.1.0.0/16'], categories: ['spyware' as const] };
    const { group } = await api.netguard.saveGroup('cabinet', input);

    expect(group.name).toBe('Cabinet');
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe('/api/netguard/groups/cabinet');
    expect(init?.method).toBe('PUT');
    expect(init?.headers).toMatchObject({ 'content-type': 'application/json', 'x-csrf-token': 'csrf-token' });
    expect(JSON.parse(init?.body as string)).toEqual(input);
  });

  it('uploads a list as the file’s own text, typed text/plain, its name, kind and format in the query', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(201, { list: storedList }));
    const file = new File(['0.0.0.0 tiktok.com\n0.0.0.0 bytedance.com\n10.0.0.1\n'], 'social.hosts');
    const { list } = await api.netguard.uploadList(file, {
      name: 'social & co',
      action: 'block',
      format: 'hosts',
    });

    expect(list.problems).toEqual([{ line: 3, reason: 'an IP address, not a domain name' }]);
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe('/api/netguard/lists?name=social+%26+co&action=block&format=hosts');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe(file);
    expect(init?.headers).toMatchObject({ 'content-type': 'text/plain', 'x-csrf-token': 'csrf-token' });
  });

  it('replaces a list’s text with PUT', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, { list: storedList }));
    const file = new File(['tiktok.com\n'], 'social.txt');
    await api.netguard.replaceList(listId, file);
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe(`/api/netguard/lists/${listId}`);
    expect(init?.method).toBe('PUT');
    expect(init?.body).toBe(file);
    expect(init?.headers).toMatchObject({ 'content-type': 'text/plain', 'x-csrf-token': 'csrf-token' });
  });

  it('asks for a verdict without a client when none was given', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, blockedVerdict));
    await api.netguard.test({ domain: 'www.tiktok.com' });
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/netguard/test?domain=www.tiktok.com');
  });

  it('downloads a group’s profile under the name the server gives it', async () => {
    fetchMock.mockResolvedValueOnce(
      new Response('<?xml version="1.0"?><plist/>', {
        status: 200,
        headers: {
          'content-type': 'application/x-apple-aspen-config',
          'content-disposition': 'attachment; filename="rempart-cabinet.mobileconfig"',
        },
      }),
    );
    const saved = await api.netguard.policy('ios', 'cabinet');
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/netguard/policy?platform=ios&group=cabinet');
    expect(saved.fileName).toBe('rempart-cabinet.mobileconfig');
    expect(await saved.blob.text()).toBe('<?xml version="1.0"?><plist/>');
  });

  it('keeps the token of a device just enrolled, which no other answer carries', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonAnswer(201, { device: { ...device, compliant: null }, token: 'tok_abcdefghijklmnopqrstuvwxyz' }),
    );
    const enrolled = await api.netguard.enrolDevice({
      name: 'iPhone of the minister',
      platform: 'ios',
      group: 'cabinet',
    });
    expect(enrolled.token).toBe('tok_abcdefghijklmnopqrstuvwxyz');
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe('/api/netguard/devices');
    expect(init?.method).toBe('POST');
  });

  it('imports an MDM export as the file’s own text, typed text/csv, with the anti-forgery token', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(200, mdmResult));
    const file = new File(['Serial;Platform;Bundle ID\nF2LX8;iOS;com.zhiliaoapp.musically\n'], 'export.csv');
    const result = await api.netguard.importMdmExport(file);

    expect(result).toEqual(mdmResult);
    const [path, init] = fetchMock.mock.calls[0]!;
    expect(path).toBe('/api/netguard/devices/import');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe(file);
    expect(init?.headers).toMatchObject({ 'content-type': 'text/csv', 'x-csrf-token': 'csrf-token' });
  });

  it('says why an MDM export was refused, with the lines it could not read', async () => {
    fetchMock.mockResolvedValueOnce(jsonAnswer(400, mdmRefusal));
    const upload = api.netguard.importMdmExport(new File(['Name,Owner\nPhone,a@example.org\n'], 'x.csv'));
    await expect(upload).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
      details: { errors: [{ line: 1, message: 'no Serial number column (a header such as serial)' }] },
    });
  });

  it('says why a list was refused, with the lines it could not read', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonAnswer(422, {
        error: {
          code: 'list_empty',
          message: 'No rule could be read from this list.',
          details: { problems: [{ line: 1, reason: 'characters a domain name cannot hold' }] },
        },
      }),
    );
    const upload = api.netguard.uploadList(new File(['<html>'], 'page.html'), {
      name: 'page',
      action: 'block',
      format: 'auto',
    });
    await expect(upload).rejects.toMatchObject({
      code: 'list_empty',
      details: { problems: [{ line: 1, reason: 'characters a domain name cannot hold' }] },
    });
  });
});

const tiktokRule = {
  action: 'block' as const,
  list: 'tiktok-bytedance',
  category: 'tiktok-bytedance' as const,
  line: 12,
  rule: 'tiktok.com',
};
const blockedVerdict: DnsVerdict = {
  domain: 'www.tiktok.com',
  client: '10.1.4.17',
  group: { id: 'cabinet', name: 'Cabinet', why: 'enrolled device iPhone of the minister' },
  action: 'block',
  decidedBy: tiktokRule,
  matches: [{ action: 'block', list: 'social', line: 1, rule: '0.0.0.0 www.tiktok.com' }, tiktokRule],
  blockMode: 'nxdomain',
};

describe('a name tested', () => {
  it('announces the verdict, and says how the resolver answers', () => {
    const html = render(createElement(VerdictView, { verdict: blockedVerdict }));
    expect(textOf(html, 'div', 'role="status"')).toBe(
      'Blocked: www.tiktok.com for 10.1.4.17 The resolver answers that the name does not exist.',
    );
  });

  it('names the group, why the client is in it, and the deciding rule with where it comes from', () => {
    const html = render(createElement(VerdictView, { verdict: blockedVerdict }));
    const facts = textOf(html, 'dl', 'class="facts"');
    expect(facts).toContain('Group Cabinet cabinet');
    expect(facts).toContain(
      'Why this group The address belongs to the enrolled device iPhone of the minister.',
    );
    // Markup is read with a space for each tag: the comma follows the source's name in the page.
    expect(facts.replace(/ ,/g, ',')).toContain(
      'Deciding rule tiktok.com — category TikTok and ByteDance, line 12',
    );
  });

  it('lists every matching rule, the deciding one first and marked', () => {
    const html = render(createElement(VerdictView, { verdict: blockedVerdict }));
    expect(rows(html, 'data-testid="netguard-matches"')).toEqual([
      'Block Deciding | category TikTok and ByteDance | 12 | tiktok.com | —',
      'Block | list social | 1 | 0.0.0.0 www.tiktok.com | —',
    ]);
  });

  it('names the spyware a deciding rule points to', () => {
    const pegasus = {
      action: 'block' as const,
      list: 'spyware',
      category: 'spyware' as const,
      line: 0,
      rule: "pegasus.stix2 indicator--1 [domain-name:value = 'x.example']",
      malware: 'Pegasus',
    };
    const html = render(
      createElement(VerdictView, {
        verdict: { ...blockedVerdict, domain: 'x.example', decidedBy: pegasus, matches: [pegasus] },
      }),
    );
    expect(textOf(html, 'dd', 'data-testid="netguard-deciding"')).toContain('(spyware: Pegasus)');
    expect(rows(html, 'data-testid="netguard-matches"')[0]).toMatch(/\| Pegasus$/);
  });

  it('says an allow rule let the name through over the block rules', () => {
    const allow = { action: 'allow' as const, list: 'press office', line: 4, rule: '@@||tiktok.com^' };
    const html = render(
      createElement(VerdictView, {
        verdict: {
          ...blockedVerdict,
          action: 'allow',
          decidedBy: allow,
          matches: [...blockedVerdict.matches, allow],
        },
      }),
    );
    expect(textOf(html, 'div', 'role="status"')).toBe(
      'Allowed: www.tiktok.com for 10.1.4.17 An allow rule lets this name through, over 2 matching block rules.',
    );
  });

  it('keeps its live region in the page before any test, empty', () => {
    const html = render(createElement(VerdictView, { verdict: undefined }));
    expect(textOf(html, 'div', 'role="status"')).toBe('');
  });

  it('says the verdict in French and in Dutch too', () => {
    expect(
      textOf(render(createElement(VerdictView, { verdict: blockedVerdict }), 'fr'), 'div', 'role="status"'),
    ).toMatch(/^Bloqué : www\.tiktok\.com pour 10\.1\.4\.17 Le résolveur répond que le nom n’existe pas\.$/);
    expect(
      textOf(render(createElement(VerdictView, { verdict: blockedVerdict }), 'nl'), 'div', 'role="status"'),
    ).toMatch(/^Geblokkeerd: www\.tiktok\.com voor 10\.1\.4\.17/);
  });
});

describe('the overview', () => {
  const stats: QueryStats = {
    from: '2026-03-12T09:00:00.000Z',
    to: '2026-03-12T10:00:00.000Z',
    bucketSeconds: 60,
    totals: { queries: 1200, blocked: 300, cached: 600, clients: 12 },
    series: [
      { at: '2026-03-12T09:00:00.000Z', queries: 40, blocked: 10 },
      { at: '2026-03-12T09:30:00.000Z', queries: 20, blocked: 0 },
      { at: '2026-03-12T10:00:00.000Z', queries: 30, blocked: 5 },
    ],
    topBlocked: [],
    topClients: [],
  };

  it('draws queries and blocks as curves, named and summed up for assistive technologies', () => {
    const html = render(createElement(TrafficChart, { stats, hours: 1 }));
    expect(html).toContain('role="img"');
    expect(html).toContain('<title id="');
    expect(textOf(html, 'desc', 'id=')).toBe('1,200 queries and 300 blocked between 09:00 and 10:00.');
    const paths = [...html.matchAll(/<path class="([^"]+)" d="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(paths.map(([name]) => name)).toEqual([
      'traffic-area traffic-queries',
      'traffic-line traffic-queries',
      'traffic-area traffic-blocked',
      'traffic-line traffic-blocked',
    ]);
    // 40 is the top of the scale: the first point of the queries is at the top of the plot.
    expect(paths[1]![1]).toMatch(/^M0,0L/);
  });

  it('gives the figures behind the plot in a table', () => {
    const html = render(createElement(TrafficChart, { stats, hours: 1 }));
    expect(rows(html, 'class="table"')).toEqual(['09:00 | 40 | 10', '09:30 | 20 | 0', '10:00 | 30 | 5']);
  });

  it('ranks names with a bar each, the figure said in words', () => {
    const html = render(
      createElement(BarList, {
        bars: [
          { key: 'a', label: 'tiktok.com', value: 40, valueText: '40 times' },
          { key: 'b', label: 'ads.example', value: 10, valueText: '10 times' },
        ],
      }),
    );
    expect([...html.matchAll(/<rect class="bar-fill" width="([^"]+)"/g)].map((m) => m[1])).toEqual([
      '100',
      '25',
    ]);
    expect(html).toContain('aria-hidden="true"');
    expect(textOf(html, 'ol', 'class="bar-list')).toBe('tiktok.com 40 times ads.example 10 times');
  });
});

describe('a device’s compliance', () => {
  it('says NOT compliant and names each app and why', () => {
    const html = render(
      createElement(
        'div',
        null,
        createElement(ComplianceBadge, { device }),
        createElement(Violations, { device }),
      ),
    );
    expect(textOf(html, 'div', '')).toBe(
      'NOT compliant com.zhiliaoapp.musically — blocked (TikTok and ByteDance) com.example.sideloaded — not in the managed catalogue',
    );
    expect(html).toContain('badge compliance-not-compliant');
  });

  it('tells a device that never reported from a compliant one', () => {
    expect(render(createElement(ComplianceBadge, { device: { compliant: null } }))).toContain(
      'Not reported yet',
    );
    expect(render(createElement(ComplianceBadge, { device: { compliant: true } }))).toContain('>Compliant<');
    expect(render(createElement(ComplianceBadge, { device: { compliant: null } }), 'nl')).toContain(
      'Nog geen rapport',
    );
  });
});

describe('problems shown line by line', () => {
  it('lists the lines of a list the server could not read, with how many more there were', () => {
    const html = render(
      createElement(ListProblems, {
        problems: [{ line: 3, reason: 'an IP address, not a domain name' }],
        total: 14,
        caption: 'Lines not read',
      }),
    );
    expect(rows(html, 'class="table"')).toEqual(['3 | an IP address, not a domain name']);
    expect(html).toContain('And 13 more lines not read.');
  });

  it('names the first refused lines of a text area, then counts the rest', () => {
    const t = i18n('en').t;
    const problems = Array.from({ length: 7 }, (_, n) => ({ line: n + 1, text: `bad${n + 1}` }));
    expect(linesProblem(t, 'Not address ranges', problems)).toBe(
      'Not address ranges: line 1 (bad1), line 2 (bad2), line 3 (bad3), line 4 (bad4), line 5 (bad5), and 2 more.',
    );
  });
});

describe('an MDM export imported', () => {
  it('counts the devices updated, newly enrolled and the lines not read', () => {
    const html = render(createElement(MdmImported, { result: mdmResult }));
    expect(textOf(html, 'h2', 'id="netguard-mdm-imported"')).toBe('MDM export imported');
    expect(textOf(html, 'p', '')).toBe(
      'Devices updated: 3. Newly enrolled in the default group: 1. Lines not read: 3.',
    );
  });

  it('names each device NOT compliant with the apps at fault', () => {
    const html = render(createElement(MdmImported, { result: mdmResult }));
    expect(rows(html, 'data-testid="netguard-mdm-not-compliant"')).toEqual([
      'F2LX8 | com.zhiliaoapp.musically com.example.sideloaded',
    ]);
  });

  it('lists the lines not read by number, and how many more there were', () => {
    const html = render(createElement(MdmImported, { result: mdmResult }));
    const problems = html.slice(html.indexOf('list-problems'));
    expect(rows(problems, 'class="table"')).toEqual(['7 | platform "Windows" is neither iOS nor Android']);
    expect(html).toContain('And 2 more lines not read.');
  });

  it('says every device is compliant when none is not, and lists no line when all were read', () => {
    const html = render(
      createElement(MdmImported, {
        result: { ...mdmResult, notCompliant: [], errors: [], errorsOmitted: 0 },
      }),
    );
    expect(html).toContain('Every device of the export is compliant.');
    expect(html).not.toContain('<table');
  });

  it('says it in French and in Dutch too', () => {
    expect(render(createElement(MdmImported, { result: mdmResult }), 'fr')).toContain(
      'Appareils mis à jour : 3. Nouveaux appareils enrôlés dans le groupe par défaut : 1.',
    );
    expect(render(createElement(MdmImported, { result: mdmResult }), 'nl')).toContain(
      'Bijgewerkte toestellen: 3.',
    );
  });

  it('says no device could be read from a refused export, and which lines could not be', () => {
    const { code, message, details } = mdmRefusal.error;
    const html = render(
      createElement(MdmImportRefusal, { error: new ApiError(400, code, message, details) }),
    );
    expect(textOf(html, 'p', 'server-detail')).toBe('No device could be read from this export.');
    expect(rows(html, 'class="table"')).toEqual(['1 | no Serial number column (a header such as serial)']);
  });

  it('gives the server’s own words for any other refusal', () => {
    const error = new ApiError(400, 'validation_failed', 'Send the export as text/csv.');
    expect(textOf(render(createElement(MdmImportRefusal, { error })), 'p', 'server-detail')).toBe(
      'Send the export as text/csv.',
    );
  });
});

describe('a file chosen for upload', () => {
  const t = i18n('en').t;

  it('asks for a file when none was chosen', () => {
    expect(fileProblem(undefined, t, 'en')).toBe('Choose a file.');
  });

  it('refuses an empty file by name, and sends any other', () => {
    expect(fileProblem(new File([], 'export.csv'), t, 'en')).toBe('export.csv is empty.');
    expect(fileProblem(new File(['Serial\n'], 'export.csv'), t, 'en')).toBeUndefined();
  });
});
