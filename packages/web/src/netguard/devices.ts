/**
 * Devices as the console shows them: their compliance in one word, the enrolment form and the
 * inventory an administrator imports from an MDM export, each checked with the API's schemas
 * before it is sent; and the lines of a whole MDM export the server could not read.
 */
import {
  AppId,
  DEFAULT_GROUP_ID,
  DeviceEnrolment,
  InventoryReport,
  MdmImportResult,
  type Device,
  type DevicePlatform,
  type ListProblem,
} from '@rempart/core';
import { z } from 'zod';
import { ApiError } from '../api';
import { isAddress, joinLines, readLines, type LineProblem } from './lines';

// ---- compliance ----

export type Compliance = 'compliant' | 'not-compliant' | 'unreported';

export function complianceOf(device: Pick<Device, 'compliant'>): Compliance {
  if (device.compliant === null) return 'unreported';
  return device.compliant ? 'compliant' : 'not-compliant';
}

const complianceRank: Readonly<Record<Compliance, number>> = {
  'not-compliant': 0,
  unreported: 1,
  compliant: 2,
};

/** The devices to act on first: not compliant, then never reported, then compliant; by name within each. */
export function sortDevices(devices: readonly Device[]): Device[] {
  return [...devices].sort(
    (a, b) =>
      complianceRank[complianceOf(a)] - complianceRank[complianceOf(b)] ||
      a.name.localeCompare(b.name) ||
      a.id.localeCompare(b.id),
  );
}

// ---- enrolment ----

export interface EnrolmentDraft {
  name: string;
  platform: DevicePlatform;
  owner: string;
  group: string;
  serial: string;
}

export const newEnrolmentDraft: EnrolmentDraft = {
  name: '',
  platform: 'ios',
  owner: '',
  group: DEFAULT_GROUP_ID,
  serial: '',
};

export interface EnrolmentProblems {
  name?: 'required' | 'tooLong';
  owner?: 'invalid';
  group?: 'invalid';
  serial?: 'tooLong';
}

export type EnrolmentResult =
  { ok: true; enrolment: z.input<typeof DeviceEnrolment> } | { ok: false; problems: EnrolmentProblems };

/** The enrolment as the API takes it: an owner and a serial left empty are not sent. */
export function readEnrolmentDraft(draft: EnrolmentDraft): EnrolmentResult {
  const owner = draft.owner.trim();
  const serial = draft.serial.trim();
  const enrolment = {
    name: draft.name.trim(),
    platform: draft.platform,
    group: draft.group,
    ...(owner === '' ? {} : { owner }),
    ...(serial === '' ? {} : { serial }),
  };
  const parsed = DeviceEnrolment.safeParse(enrolment);
  if (parsed.success) return { ok: true, enrolment };
  const problems: EnrolmentProblems = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    if (field === 'name') problems.name = enrolment.name === '' ? 'required' : 'tooLong';
    else if (field === 'owner') problems.owner = 'invalid';
    else if (field === 'group') problems.group = 'invalid';
    else if (field === 'serial') problems.serial = 'tooLong';
  }
  return { ok: false, problems };
}

// ---- inventory ----

/** The most apps, and addresses, one report may carry (`InventoryReport`). */
export const INVENTORY_MAX_APPS = 5000;
export const INVENTORY_MAX_ADDRESSES = 16;

export interface InventoryDraft {
  /** Bundle ids or package names, one a line. */
  apps: string;
  /** The device's addresses, one a line. */
  addresses: string;
  osVersion: string;
}

/**
 * A new import starts from what is known of the device: an import replaces its addresses too,
 * and dropping them unawares would move its DNS queries back to the group of their range.
 */
export function inventoryDraftOf(device: Pick<Device, 'addresses' | 'osVersion'>): InventoryDraft {
  return { apps: '', addresses: joinLines(device.addresses), osVersion: device.osVersion ?? '' };
}

export interface InventoryProblems {
  apps?: { lines: LineProblem[] } | 'none' | 'tooMany';
  addresses?: { lines: LineProblem[] } | 'tooMany';
  osVersion?: 'tooLong';
}

export type InventoryResult =
  { ok: true; report: InventoryReport } | { ok: false; problems: InventoryProblems };

const isAppId = (value: string): boolean => AppId.safeParse(value).success;

/**
 * @example
 *   readInventoryDraft({ apps: 'com.microsoft.teams\ncom.zhiliaoapp.musically', addresses: '', osVersion: '' })
 *   // → { ok: true, report: { apps: ['com.microsoft.teams', 'com.zhiliaoapp.musically'], addresses: [] } }
 */
export function readInventoryDraft(draft: InventoryDraft): InventoryResult {
  const problems: InventoryProblems = {};
  const apps = readLines(draft.apps, isAppId);
  if (apps.problems.length > 0) problems.apps = { lines: apps.problems };
  else if (apps.values.length === 0) problems.apps = 'none';
  else if (apps.values.length > INVENTORY_MAX_APPS) problems.apps = 'tooMany';

  const addresses = readLines(draft.addresses, isAddress);
  if (addresses.problems.length > 0) problems.addresses = { lines: addresses.problems };
  else if (addresses.values.length > INVENTORY_MAX_ADDRESSES) problems.addresses = 'tooMany';

  const osVersion = draft.osVersion.trim();
  const report = {
    apps: apps.values,
    addresses: addresses.values,
    ...(osVersion === '' ? {} : { osVersion }),
  };
  const parsed = InventoryReport.safeParse(report);
  if (!parsed.success && parsed.error.issues.some((issue) => issue.path[0] === 'osVersion'))
    problems.osVersion = 'tooLong';
  if (!parsed.success || Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, report: parsed.data };
}

// ---- MDM export ----

/** The lines of an export the server could not read, as the list problems table shows them. */
export function mdmLineProblems(
  errors: readonly MdmImportResult['errors'][number][],
): z.infer<typeof ListProblem>[] {
  return errors.map(({ line, message }) => ({ line, reason: message }));
}

const MdmRefusalDetails = z.object({ errors: MdmImportResult.shape.errors });

/**
 * The lines the server could not read in an export it refused for holding no device it could
 * read (`validation_failed` with those lines); undefined for any other failure.
 */
export function mdmRefusedLines(error: unknown): z.infer<typeof ListProblem>[] | undefined {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return undefined;
  const details = MdmRefusalDetails.safeParse(error.details);
  return details.success ? mdmLineProblems(details.data.errors) : undefined;
}
