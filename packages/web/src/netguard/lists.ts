/**
 * Block lists and allow-lists as the console handles them: a file refused before it is sent,
 * the upload form checked with the API's schema, the lines the server could not read, and the
 * groups that use a list (a list in use cannot be deleted).
 */
import {
  ListProblem,
  ListUploadQuery,
  NETGUARD_LIST_MAX_BYTES,
  type Group,
  type ListAction,
  type ListFormat,
} from '@rempart/core';
import { z } from 'zod';
import { ApiError } from '../api';

export const listActions = ['block', 'allow'] as const satisfies readonly ListAction[];
export const listFormats = ['auto', 'hosts', 'domains', 'adblock'] as const satisfies readonly ListFormat[];

export type ListFileRefusal = { reason: 'empty' } | { reason: 'too_large'; bytes: number; max: number };

/**
 * Why a file cannot be a list, before anything is uploaded; undefined when it may be one. An MDM
 * export is held to the same limit.
 */
export function refuseListFile(file: Pick<Blob, 'size'>): ListFileRefusal | undefined {
  if (file.size === 0) return { reason: 'empty' };
  if (file.size > NETGUARD_LIST_MAX_BYTES)
    return { reason: 'too_large', bytes: file.size, max: NETGUARD_LIST_MAX_BYTES };
  return undefined;
}

export interface ListUploadDraft {
  name: string;
  action: ListAction;
  format: ListFormat;
}

export const newListUploadDraft: ListUploadDraft = { name: '', action: 'block', format: 'auto' };

/**
 * A list is named after its file until the administrator names it: `blocklist-social.txt` → `blocklist-social`.
 *
 * @example
 *   nameFromFile('ads & trackers.hosts') // → 'ads & trackers'
 */
export function nameFromFile(fileName: string): string {
  return fileName.replace(/\.[a-z0-9]{1,8}$/i, '').slice(0, 120);
}

export type ListUploadResult =
  | { ok: true; query: z.output<typeof ListUploadQuery> }
  | { ok: false; problems: { name: 'required' | 'tooLong' } };

export function readListUpload(draft: ListUploadDraft): ListUploadResult {
  const parsed = ListUploadQuery.safeParse(draft);
  if (parsed.success) return { ok: true, query: parsed.data };
  return { ok: false, problems: { name: draft.name.trim() === '' ? 'required' : 'tooLong' } };
}

const ProblemDetails = z.object({ problems: z.array(ListProblem) });

/**
 * The lines the server could not read in a list it refused for having no rule at all
 * (`list_empty`); undefined for any other failure.
 */
export function listProblemsOf(error: unknown): z.infer<typeof ListProblem>[] | undefined {
  if (!(error instanceof ApiError) || error.code !== 'list_empty') return undefined;
  const details = ProblemDetails.safeParse(error.details);
  return details.success ? details.data.problems : [];
}

/** The groups whose policy uses the list, by name. */
export function listUsers(listId: string, groups: readonly Pick<Group, 'name' | 'lists'>[]): string[] {
  return groups.filter((group) => group.lists.includes(listId)).map((group) => group.name);
}
