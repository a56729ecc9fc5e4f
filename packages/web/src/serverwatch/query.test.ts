import { WatchHuntRequest, WatchSearchQuery, type WatchHitPage } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectHits,
  eventsSearch,
  groupSearch,
  hitsHref,
  hitsSearch,
  hitsSinceSearch,
  huntRequest,
  readHitsView,
  readSearchView,
  searchHref,
  searchValue,
} from './query';

const now = Date.parse('2026-12-03T09:00:00.000Z');

describe('a search in the address', () => {
  it('comes back as it was shared', () => {
    const href = searchHref({ q: 'src_ip:203.0.113.0/24 -outcome:success', hours: 168 });
    expect(href).toBe('/watch/search?q=src_ip%3A203.0.113.0%2F24+-outcome%3Asuccess&hours=168');
    expect(readSearchView(href.slice(href.indexOf('?')))).toEqual({
      q: 'src_ip:203.0.113.0/24 -outcome:success',
      hours: 168,
    });
  });

  it('leaves out the default window and an empty query, and reads an unknown window as the default', () => {
    expect(searchHref({ q: '  ', hours: 24 })).toBe('/watch/search');
    expect(readSearchView('?hours=5')).toEqual({ q: '', hours: 24 });
  });

  it('survives any query text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(1, 24, 168, 720 as const), (q, hours) => {
        const href = searchHref({ q, hours });
        const back = readSearchView(href.includes('?') ? href.slice(href.indexOf('?')) : '');
        expect(back).toEqual({ q: q.trim(), hours });
      }),
    );
  });

  it('names a rule’s hits, or a hunt’s', () => {
    expect(hitsHref({ ruleId: 'abc-1' })).toBe('/watch/hits?ruleId=abc-1');
    expect(readHitsView('?hunt=h1')).toEqual({ ruleId: undefined, hunt: 'h1', hours: 24 });
    expect(hitsHref({})).toBe('/watch/hits');
  });
});

describe('what the API is asked', () => {
  it('asks for events of the window ending now, older than a cursor when paging', () => {
    const search = eventsSearch({ q: ' user:alice ', hours: 1 }, now, '1796266606985_42');
    const params = Object.fromEntries(new URLSearchParams(search));
    expect(params).toEqual({
      q: 'user:alice',
      from: '2026-12-03T08:00:00.000Z',
      to: '2026-12-03T09:00:00.000Z',
      limit: '100',
      before: '1796266606985_42',
    });
    expect(WatchSearchQuery.safeParse(params).success).toBe(true);
  });

  it('lists a hunt’s hits whatever their time, the live ones over the window', () => {
    expect(hitsSearch({ hunt: 'h1' }, now)).toBe('hunt=h1&limit=100');
    expect(hitsSearch({ ruleId: 'r1', hours: 1 }, now, undefined, 500)).toBe(
      'from=2026-12-03T08%3A00%3A00.000Z&to=2026-12-03T09%3A00%3A00.000Z&ruleId=r1&limit=500',
    );
  });

  it('reads only the live hits since a moment, for the overview’s live updates', () => {
    expect(hitsSinceSearch('2026-12-03T08:45:00.000Z', now, undefined, 500)).toBe(
      'from=2026-12-03T08%3A45%3A00.000Z&to=2026-12-03T09%3A00%3A00.000Z&limit=500',
    );
  });

  it('runs the current rules when none are pasted', () => {
    expect(huntRequest('   \n', 24, now)).toEqual({
      from: '2026-12-02T09:00:00.000Z',
      to: '2026-12-03T09:00:00.000Z',
    });
    const pasted = huntRequest('title: x\n', 1, now);
    expect(pasted.rules).toBe('title: x\n');
    expect(WatchHuntRequest.safeParse(pasted).success).toBe(true);
  });
});

describe('values of the search language', () => {
  it('are written bare when plain, quoted and escaped otherwise', () => {
    expect(searchValue('203.0.113.7')).toBe('203.0.113.7');
    expect(searchValue('a "b" c*')).toBe('"a \\"b\\" c\\*"');
    expect(searchValue('')).toBe('""');
  });

  it('can always be read back to the same value', () => {
    // The language's reading of a value: quoted, each backslash makes the next character plain.
    const read = (text: string): string =>
      text.startsWith('"') ? text.slice(1, -1).replace(/\\(.)/gs, '$1') : text;
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(read(searchValue(value))).toBe(value);
      }),
    );
  });

  it('search for a correlation’s source and user', () => {
    expect(groupSearch({ src_ip: '203.0.113.7', user: 'claire martin' })).toBe(
      'src_ip:203.0.113.7 user:"claire martin"',
    );
    expect(groupSearch({ protocol: 'imap' })).toBeUndefined();
    expect(groupSearch(null)).toBeUndefined();
  });
});

describe('the hits read for the timeline', () => {
  const page = (ids: string[], next: string | null): WatchHitPage => ({
    hits: ids.map((id) => ({
      id,
      at: '2026-12-03T08:30:00.000Z',
      rule: { id: 'r', title: 'R', level: 'high', kind: 'detection', file: 'r.yml' },
      group: null,
      value: null,
      count: 1,
      eventIds: [],
      alertId: null,
      hunt: null,
    })),
    next,
  });

  it('follow the cursor to the last page', async () => {
    const asked: (string | undefined)[] = [];
    const pages = [page(['1', '2'], '10_2'), page(['3'], null)];
    const result = await collectHits((before) => {
      asked.push(before);
      return Promise.resolve(pages[asked.length - 1]!);
    });
    expect(asked).toEqual([undefined, '10_2']);
    expect(result).toMatchObject({ complete: true });
    expect(result.hits.map((h) => h.id)).toEqual(['1', '2', '3']);
  });

  it('stop after a bounded number of pages and say the count is partial', async () => {
    let asked = 0;
    const result = await collectHits(() => {
      asked += 1;
      return Promise.resolve(page([String(asked)], `${asked}_1`));
    }, 3);
    expect(asked).toBe(3);
    expect(result.complete).toBe(false);
  });
});
