import { TimelineQuery } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  artifactChoices,
  clampView,
  initialTimelineView,
  nextPage,
  pageInfo,
  previousPage,
  timelineSearch,
  withFilter,
  type TimelineView,
} from './timeline';

const view = (overrides: Partial<TimelineView> = {}): TimelineView => ({
  offset: 0,
  limit: 100,
  detections: 'all',
  artifact: '',
  ...overrides,
});

const anyView = fc.record({
  offset: fc.nat({ max: 100_000 }),
  limit: fc.integer({ min: 1, max: 1000 }),
  detections: fc.constantFrom('all' as const, 'only' as const),
  artifact: fc.stringMatching(/^[a-z_]{0,64}$/),
});

describe('the timeline’s first view', () => {
  it('opens on the detections when there are some, else on every record', () => {
    expect(initialTimelineView(2).detections).toBe('only');
    expect(initialTimelineView(0).detections).toBe('all');
    expect(initialTimelineView(2).offset).toBe(0);
  });
});

describe('paging the timeline', () => {
  it('says which records are shown and whether there are more either side', () => {
    expect(pageInfo(view(), 250)).toEqual({
      from: 1,
      to: 100,
      page: 1,
      pages: 3,
      hasPrevious: false,
      hasNext: true,
    });
    expect(pageInfo(view({ offset: 200 }), 250)).toEqual({
      from: 201,
      to: 250,
      page: 3,
      pages: 3,
      hasPrevious: true,
      hasNext: false,
    });
    expect(pageInfo(view(), 0)).toEqual({
      from: 0,
      to: 0,
      page: 1,
      pages: 1,
      hasPrevious: false,
      hasNext: false,
    });
  });

  it('goes forward and back a page at a time, never before the first or past the last', () => {
    const second = nextPage(view(), 250);
    expect(second.offset).toBe(100);
    expect(nextPage(nextPage(second, 250), 250).offset).toBe(200);
    expect(previousPage(previousPage(second)).offset).toBe(0);
  });

  it('starts from the first page again when a filter changes', () => {
    const far = view({ offset: 400 });
    expect(withFilter(far, { detections: 'only' })).toEqual(view({ detections: 'only' }));
    expect(withFilter(far, { artifact: 'sms' }).offset).toBe(0);
  });

  it('comes back to the last page when the list became shorter than where the reader was', () => {
    expect(clampView(view({ offset: 500 }), 250).offset).toBe(200);
    expect(clampView(view({ offset: 500 }), 0).offset).toBe(0);
    expect(clampView(view({ offset: 100 }), 250).offset).toBe(100);
  });

  it('always shows a page within the list, however it is walked', () => {
    fc.assert(
      fc.property(
        anyView,
        fc.nat({ max: 200_000 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        (start, total, moves) => {
          let current = clampView(start, total);
          for (const forward of moves) current = forward ? nextPage(current, total) : previousPage(current);
          const info = pageInfo(current, total);
          expect(current.offset).toBeGreaterThanOrEqual(0);
          expect(info.page).toBeGreaterThanOrEqual(1);
          expect(info.page).toBeLessThanOrEqual(info.pages);
          expect(info.to).toBeLessThanOrEqual(total);
          expect(info.from).toBeLessThanOrEqual(info.to);
          if (total > 0) expect(current.offset).toBeLessThan(total);
        },
      ),
    );
  });
});

describe('the timeline’s query', () => {
  it('names the page and the filters, and leaves the artifact out when every one is wanted', () => {
    expect(timelineSearch(view({ offset: 100, detections: 'only', artifact: 'sms' }))).toBe(
      'offset=100&limit=100&detections=only&artifact=sms',
    );
    expect(timelineSearch(view())).toBe('offset=0&limit=100&detections=all');
  });

  it('is always one the server’s own schema accepts, and means the same view', () => {
    fc.assert(
      fc.property(anyView, (v) => {
        const parsed = TimelineQuery.parse(Object.fromEntries(new URLSearchParams(timelineSearch(v))));
        expect(parsed).toEqual({
          offset: v.offset,
          limit: v.limit,
          detections: v.detections,
          ...(v.artifact === '' ? {} : { artifact: v.artifact }),
        });
      }),
    );
  });
});

describe('the artifact filter', () => {
  it('offers only the artifacts that were read and hold records', () => {
    expect(
      artifactChoices([
        { artifact: 'sms', status: 'read', records: 3, detections: 1 },
        {
          artifact: 'whatsapp',
          status: 'missing',
          records: 0,
          detections: 0,
          message: 'no ChatStorage.sqlite',
        },
        { artifact: 'tcc', status: 'read', records: 0, detections: 0 },
        { artifact: 'safari_history', status: 'failed', records: 0, detections: 0, message: 'corrupt' },
        { artifact: 'datausage', status: 'read', records: 12, detections: 0 },
      ]),
    ).toEqual(['sms', 'datausage']);
  });
});
