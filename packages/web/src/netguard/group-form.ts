/**
 * A group as its form holds it (ranges as text, one a line), and the form read back into the
 * `GroupInput` the API takes, checked with the API's schemas before anything is sent.
 */
import {
  DEFAULT_GROUP_ID,
  GroupId,
  GroupInput,
  type BlockMode,
  type CategoryId,
  type Group,
} from '@rempart/core';
import { isCidr, joinLines, readLines, type LineProblem } from './lines';

export const blockModes = ['nxdomain', 'null', 'blockpage'] as const satisfies readonly BlockMode[];

export interface GroupDraft {
  id: string;
  name: string;
  description: string;
  /** Address ranges, one a line. */
  cidrs: string;
  categories: CategoryId[];
  lists: string[];
  blockMode: BlockMode;
  trusted: boolean;
  noPrivateApps: boolean;
}

/** A new group blocks what the default group blocks out of the box: spyware and the TikTok platform. */
export const newGroupDraft: GroupDraft = {
  id: '',
  name: '',
  description: '',
  cidrs: '',
  categories: ['spyware', 'tiktok-bytedance'],
  lists: [],
  blockMode: 'nxdomain',
  trusted: false,
  noPrivateApps: true,
};

export function draftOf(group: Group): GroupDraft {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    cidrs: joinLines(group.cidrs),
    categories: [...group.categories],
    lists: [...group.lists],
    blockMode: group.blockMode,
    trusted: group.trusted,
    noPrivateApps: group.noPrivateApps,
  };
}

export interface GroupProblems {
  id?: 'required' | 'invalid' | 'taken';
  name?: 'required' | 'tooLong';
  description?: 'tooLong';
  /** The lines that are not ranges; or ranges given to the default group, which takes every client left. */
  cidrs?: { lines: LineProblem[] } | 'defaultHasNone' | 'tooMany';
}

export type GroupFormResult =
  { ok: true; id: string; input: GroupInput } | { ok: false; problems: GroupProblems };

/** Ticked entries in a fixed order, so a group saved twice unchanged is sent the same. */
function ordered<T extends string>(ticked: readonly T[], order: readonly T[]): T[] {
  const set = new Set(ticked);
  return order.filter((value) => set.has(value));
}

/**
 * The form as the API takes it, or what is wrong with it, field by field.
 *
 * @example
 *   readGroupDraft({ ...newGroupDraft, id: 'cabinet', name: 'Cabinet', cidrs: '10.1.0.0/16' }, {
 *     creating: true, takenIds: ['default'], categoryOrder: ['spyware'], listOrder: [],
 *   }) // → { ok: true, id: 'cabinet', input: { name: 'Cabinet', cidrs: ['10.1.0.0/16'], … } }
 */
export function readGroupDraft(
  draft: GroupDraft,
  context: {
    creating: boolean;
    takenIds: readonly string[];
    categoryOrder: readonly CategoryId[];
    listOrder: readonly string[];
  },
): GroupFormResult {
  const problems: GroupProblems = {};
  const id = draft.id.trim();
  if (context.creating) {
    if (id === '') problems.id = 'required';
    else if (!GroupId.safeParse(id).success) problems.id = 'invalid';
    else if (context.takenIds.includes(id)) problems.id = 'taken';
  }

  const ranges = readLines(draft.cidrs, isCidr);
  if (
    id === DEFAULT_GROUP_ID &&
    !context.creating &&
    (ranges.values.length > 0 || ranges.problems.length > 0)
  )
    problems.cidrs = 'defaultHasNone';
  else if (ranges.problems.length > 0) problems.cidrs = { lines: ranges.problems };

  const parsed = GroupInput.safeParse({
    name: draft.name,
    description: draft.description,
    cidrs: ranges.values,
    categories: ordered(draft.categories, context.categoryOrder),
    // A list deleted since the form was opened is no longer offered, nor sent.
    lists: ordered(draft.lists, context.listOrder),
    blockMode: draft.blockMode,
    trusted: draft.trusted,
    noPrivateApps: draft.noPrivateApps,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (field === 'name') problems.name = draft.name.trim() === '' ? 'required' : 'tooLong';
      else if (field === 'description') problems.description = 'tooLong';
      else if (field === 'cidrs' && problems.cidrs === undefined) problems.cidrs = 'tooMany';
    }
  }
  if (!parsed.success || Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, id, input: parsed.data };
}
