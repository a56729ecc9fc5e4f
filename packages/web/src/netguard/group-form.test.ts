import type { CategoryId, Group } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { draftOf, newGroupDraft, readGroupDraft, type GroupDraft } from './group-form';

const listA = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const listB = '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const categoryOrder: CategoryId[] = ['tiktok-bytedance', 'spyware', 'doh-bypass'];

const cabinet: Group = {
  id: 'cabinet',
  name: 'Cabinet',
  description: 'The minister’s office',
  cidrs: ['10.1.0.0/16', '2001:db8:1::/48'],
  categories: ['spyware'],
  lists: [listA],
  blockMode: 'null',
  trusted: false,
  noPrivateApps: true,
  updatedAt: '2026-03-12T10:00:00.000Z',
};

const context = (creating: boolean) => ({
  creating,
  takenIds: ['default', 'cabinet'],
  categoryOrder,
  listOrder: [listA, listB],
});

describe('a group’s form', () => {
  it('shows the ranges one a line, and reads an untouched group back as it was', () => {
    const draft = draftOf(cabinet);
    expect(draft.cidrs).toBe('10.1.0.0/16\n2001:db8:1::/48');
    const read = readGroupDraft(draft, context(false));
    expect(read).toEqual({
      ok: true,
      id: 'cabinet',
      input: {
        name: 'Cabinet',
        description: 'The minister’s office',
        cidrs: ['10.1.0.0/16', '2001:db8:1::/48'],
        categories: ['spyware'],
        lists: [listA],
        blockMode: 'null',
        trusted: false,
        noPrivateApps: true,
      },
    });
  });

  it('starts a new group blocking spyware and the TikTok platform, like the default group', () => {
    expect(newGroupDraft.categories).toEqual(['spyware', 'tiktok-bytedance']);
    expect(newGroupDraft.noPrivateApps).toBe(true);
  });

  it('creates a group under the identifier typed, trimmed', () => {
    const draft: GroupDraft = {
      ...newGroupDraft,
      id: ' press-office ',
      name: 'Press office',
      cidrs: '10.9.0.0/24',
    };
    const read = readGroupDraft(draft, context(true));
    expect(read.ok && read.id).toBe('press-office');
  });

  it('refuses an identifier that is missing, malformed or already a group’s', () => {
    const problem = (id: string) => {
      const read = readGroupDraft({ ...newGroupDraft, id, name: 'X' }, context(true));
      return read.ok ? undefined : read.problems.id;
    };
    expect(problem('')).toBe('required');
    expect(problem('Cabinet Ministre')).toBe('invalid');
    expect(problem('-cabinet')).toBe('invalid');
    expect(problem('cabinet')).toBe('taken');
    expect(problem('cabinet-2')).toBeUndefined();
  });

  it('names the lines that are not address ranges, and sends nothing', () => {
    const read = readGroupDraft(
      { ...draftOf(cabinet), cidrs: '10.1.0.0/16\n10.300.0.0/16\n\nbureau' },
      context(false),
    );
    expect(read).toEqual({
      ok: false,
      problems: {
        cidrs: {
          lines: [
            { line: 2, text: '10.300.0.0/16' },
            { line: 4, text: 'bureau' },
          ],
        },
      },
    });
  });

  it('refuses a missing name, and a name or description too long for the API', () => {
    const problems = (draft: Partial<GroupDraft>) => {
      const read = readGroupDraft({ ...draftOf(cabinet), ...draft }, context(false));
      return read.ok ? {} : read.problems;
    };
    expect(problems({ name: '   ' })).toEqual({ name: 'required' });
    expect(problems({ name: 'x'.repeat(121) })).toEqual({ name: 'tooLong' });
    expect(problems({ description: 'x'.repeat(1001) })).toEqual({ description: 'tooLong' });
  });

  it('gives the default group no ranges: it takes every client left', () => {
    const fallback = { ...cabinet, id: 'default', cidrs: [] };
    expect(readGroupDraft(draftOf(fallback), context(false)).ok).toBe(true);
    const read = readGroupDraft({ ...draftOf(fallback), cidrs: '10.0.0.0/8' }, context(false));
    expect(read.ok ? undefined : read.problems.cidrs).toBe('defaultHasNone');
  });

  it('sends categories and lists in a fixed order, without a list deleted since the form opened', () => {
    const draft: GroupDraft = {
      ...draftOf(cabinet),
      categories: ['doh-bypass', 'tiktok-bytedance'],
      lists: [listB, 'a0000000-0000-4000-8000-000000000000', listA],
    };
    const read = readGroupDraft(draft, context(false));
    expect(read.ok && read.input.categories).toEqual(['tiktok-bytedance', 'doh-bypass']);
    expect(read.ok && read.input.lists).toEqual([listA, listB]);
  });
});
