/**
 * Device compliance: does the list of apps a device reports obey its group's device policy?
 * Also the shape of that report (from an enrolled device, or a device in an MDM export), and a
 * reader for the CSV inventories that MDMs export.
 *
 * Pure: no clock, no I/O. A report's age is for the caller to judge.
 *
 * @example
 *   evaluateCompliance(
 *     { platform: 'android', installedApps: ['com.zhiliaoapp.musically', 'com.microsoft.teams'] },
 *     {
 *       blockedApps: { android: ['com.zhiliaoapp.musically'], ios: ['com.zhiliaoapp.musically'] },
 *       noPrivateApps: false,
 *       categoryOf: (app) => (app.startsWith('com.zhiliaoapp.') ? 'tiktok-bytedance' : undefined),
 *     },
 *   );
 *   // → { compliant: false, violations: [{ app: 'com.zhiliaoapp.musically', reason: 'blocked', category: 'tiktok-bytedance' }] }
 */
import { z } from 'zod';
import { DevicePlatform, type Violation } from '@rempart/core';
import type { PlatformApps } from './device-policy.js';

// ---------------------------------------------------------------------------------------------
// The inventory report

/**
 * An app as a device or an MDM names it. Looser than the ids a policy accepts: inventories also
 * list system packages such as Android's `android`, which has a single segment.
 */
const InventoryAppId = z
  .string()
  .trim()
  .min(1)
  .max(255)
  // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
  .regex(/^[^\s\u0000-\u001f\u007f]+$/, 'must be a bundle id or package name, without spaces');

export const InstalledApp = z.object({
  id: InventoryAppId,
  name: z.string().trim().max(200).optional(),
  version: z.string().trim().max(64).optional(),
  /** Part of the operating system: exempt from the catalogue (a blocked one is still reported). */
  system: z.boolean().optional(),
});
export type InstalledApp = z.infer<typeof InstalledApp>;

/** The most apps one report may list; more than any real phone holds. */
export const INVENTORY_APPS_MAX = 5000;

/**
 * What an enrolled device, or one device of an MDM export, reports: which device, on which
 * platform, owned by whom, with which apps installed, and when this was true.
 */
export const DeviceInventory = z.object({
  deviceId: z.string().trim().min(1).max(128),
  platform: DevicePlatform,
  osVersion: z.string().trim().min(1).max(64).optional(),
  ownerEmail: z.email().optional(),
  deviceName: z.string().trim().min(1).max(120).optional(),
  serial: z.string().trim().min(1).max(64).optional(),
  /** Bundle ids (iOS) or package names (Android), bare or with details. */
  installedApps: z
    .array(z.union([InventoryAppId.transform((id) => ({ id })), InstalledApp]))
    .max(INVENTORY_APPS_MAX, `at most ${INVENTORY_APPS_MAX} apps`)
    .transform(uniqueApps),
  /** When the device listed its apps (ISO 8601 with a time zone). */
  reportedAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
});
export type DeviceInventoryInput = z.input<typeof DeviceInventory>;
export type DeviceInventory = z.output<typeof DeviceInventory>;

function uniqueApps(apps: readonly InstalledApp[]): InstalledApp[] {
  const seen = new Set<string>();
  return apps.filter((app) => !seen.has(app.id) && Boolean(seen.add(app.id)));
}

// ---------------------------------------------------------------------------------------------
// Compliance

/** What compliance needs of a group's device policy (a `DevicePolicy` will do). */
export interface CompliancePolicy {
  blockedApps: PlatformApps;
  noPrivateApps: boolean;
  /** The managed catalogue; when `noPrivateApps` is on, every other app is a violation. */
  allowedApps?: PlatformApps;
  /** The category an app belongs to (`tiktok-bytedance`…), named in its violation. */
  categoryOf?: (app: string, platform: DevicePlatform) => string | undefined;
}

export type ComplianceViolation = z.infer<typeof Violation>;

export interface ComplianceResult {
  compliant: boolean;
  /** One per offending app, in the order the device listed them. */
  violations: ComplianceViolation[];
}

/**
 * Checks a device's apps against its group's policy: a blocked app is a violation, and so is,
 * when `noPrivateApps` is on, an app outside the catalogue (apps marked `system` excepted). A
 * policy with `noPrivateApps` and no catalogue only checks blocked apps. Ids compare exactly,
 * as both stores treat them.
 */
export function evaluateCompliance(
  device: { platform: DevicePlatform; installedApps: readonly (string | InstalledApp)[] },
  policy: CompliancePolicy,
): ComplianceResult {
  const { platform } = device;
  const blocked = new Set(policy.blockedApps[platform]);
  const catalogue =
    policy.noPrivateApps && policy.allowedApps !== undefined
      ? new Set(policy.allowedApps[platform])
      : undefined;
  const seen = new Set<string>();
  const violations: ComplianceViolation[] = [];
  for (const entry of device.installedApps) {
    const app = typeof entry === 'string' ? { id: entry } : entry;
    const id = app.id.trim();
    if (id === '' || seen.has(id)) continue;
    seen.add(id);
    const reason = blocked.has(id)
      ? 'blocked'
      : catalogue !== undefined && !catalogue.has(id) && app.system !== true
        ? 'not_in_catalogue'
        : undefined;
    if (reason === undefined) continue;
    const category = policy.categoryOf?.(id, platform);
    violations.push({ app: id, reason, ...(category === undefined ? {} : { category }) });
  }
  return { compliant: violations.length === 0, violations };
}

// ---------------------------------------------------------------------------------------------
// MDM CSV exports

/** A line of the export that was not used, and why; line 0 is the file as a whole. */
export interface CsvProblem {
  line: number;
  message: string;
}

export interface MdmCsvResult {
  /** One inventory per serial number, apps in file order. */
  devices: DeviceInventory[];
  errors: CsvProblem[];
  /** Errors past the first `CSV_ERRORS_MAX`, counted but not listed. */
  errorsOmitted: number;
}

/** The largest export read, in characters (about 30 MB of ASCII). */
export const CSV_MAX_CHARS = 32 * 1024 * 1024;
/** The most lines read; one line per device and app. */
export const CSV_MAX_LINES = 500_000;
/** The most errors listed; a wrong file would otherwise list one per line. */
export const CSV_ERRORS_MAX = 200;

type Field =
  'deviceName' | 'serial' | 'platform' | 'osVersion' | 'ownerEmail' | 'app' | 'appName' | 'appVersion';

/**
 * Header names each column is known by, compared without case, accents, spaces or punctuation
 * ("Serial Number", "serial_number" and "Numéro de série" all work). English and French.
 */
const COLUMNS: Record<Field, readonly string[]> = {
  deviceName: ['devicename', 'name', 'nomappareil', 'nomdelappareil', 'appareil'],
  serial: ['serial', 'serialnumber', 'serialno', 'numerodeserie', 'numeroserie'],
  platform: ['platform', 'os', 'ostype', 'operatingsystem', 'plateforme', 'systeme', 'systemedexploitation'],
  osVersion: ['osversion', 'versionos', 'versiondusysteme', 'versionsysteme'],
  ownerEmail: [
    'owneremail',
    'useremail',
    'email',
    'emailaddress',
    'courriel',
    'adressemail',
    'adressedemessagerie',
  ],
  app: [
    'appidentifier',
    'appid',
    'applicationid',
    'applicationidentifier',
    'bundleid',
    'bundleidentifier',
    'packagename',
    'package',
    'identifier',
    'identifiant',
    'identifiantapplication',
  ],
  appName: ['appname', 'applicationname', 'nomapplication', 'nomapp'],
  appVersion: ['appversion', 'applicationversion', 'versionapplication', 'versionapp'],
};
const REQUIRED: readonly Field[] = ['serial', 'platform', 'app'];
const TITLES: Record<Field, string> = {
  deviceName: 'Device name',
  serial: 'Serial number',
  platform: 'Platform',
  osVersion: 'OS version',
  ownerEmail: 'Owner email',
  app: 'App identifier',
  appName: 'App name',
  appVersion: 'App version',
};

const headerKey = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

/** The platform an MDM names (`iOS`, `iPadOS`, `Android`…), if it is one Rempart manages. */
export function platformOf(name: string): DevicePlatform | undefined {
  const key = headerKey(name);
  if (['ios', 'ipados', 'iphoneos', 'iphone', 'ipad', 'apple'].includes(key)) return 'ios';
  if (key === 'android' || key === 'androidenterprise' || key.startsWith('androidwork')) return 'android';
  return undefined;
}

/**
 * Reads an MDM's CSV inventory export: one line per device and app, with a header naming the
 * columns (see `COLUMNS`; serial number, platform and app identifier are required). Fields follow
 * RFC 4180 (quotes, doubled quotes, line breaks inside quotes); the separator is a comma, a
 * semicolon (spreadsheets in French locales) or a tab, whichever the header uses.
 *
 * A bad line is reported with its number and left out; the rest of the file is still read.
 * A device's name, OS version and owner are taken from its first line that has them.
 *
 * @example
 *   parseMdmCsv('Serial;Platform;Bundle ID\nF2LX1;iOS;com.zhiliaoapp.musically\n', { reportedAt: new Date() });
 *   // → { devices: [{ deviceId: 'F2LX1', serial: 'F2LX1', platform: 'ios', installedApps: [{ id: 'com.zhiliaoapp.musically' }], … }], errors: [], errorsOmitted: 0 }
 */
export function parseMdmCsv(text: string, options: { reportedAt: Date }): MdmCsvResult {
  const errors: CsvProblem[] = [];
  let errorsOmitted = 0;
  const problem = (line: number, message: string) => {
    if (errors.length < CSV_ERRORS_MAX) errors.push({ line, message });
    else errorsOmitted++;
  };
  if (Number.isNaN(options.reportedAt.getTime())) {
    return {
      devices: [],
      errors: [{ line: 0, message: 'the export time is not a valid date' }],
      errorsOmitted,
    };
  }
  if (text.length > CSV_MAX_CHARS) {
    return {
      devices: [],
      errors: [{ line: 0, message: `the file is larger than ${CSV_MAX_CHARS / 1024 / 1024} MiB` }],
      errorsOmitted,
    };
  }

  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const rows = readRecords(body, detectDelimiter(body));
  const first = rows.next();
  if (first.done === true)
    return { devices: [], errors: [{ line: 1, message: 'the file is empty' }], errorsOmitted };
  const header = first.value;
  if ('error' in header)
    return { devices: [], errors: [{ line: header.line, message: header.error }], errorsOmitted };

  // Which column holds which field.
  const columnOf = new Map<Field, number>();
  header.fields.forEach((name, index) => {
    const key = headerKey(name);
    const field = (Object.keys(COLUMNS) as Field[]).find((f) => COLUMNS[f].includes(key));
    if (field === undefined) return;
    if (columnOf.has(field)) {
      problem(
        1,
        `two columns mean ${TITLES[field]}: "${name}" and "${header.fields[columnOf.get(field) ?? 0]}"`,
      );
    } else {
      columnOf.set(field, index);
    }
  });
  for (const field of REQUIRED) {
    if (!columnOf.has(field)) {
      const known = COLUMNS[field].slice(0, 4).join(', ');
      problem(1, `no ${TITLES[field]} column (a header such as ${known})`);
    }
  }
  if (errors.length > 0) return { devices: [], errors, errorsOmitted };

  const devices = new Map<string, DeviceInventory & { appIds: Set<string> }>();
  let count = 1;
  for (const record of rows) {
    if (++count > CSV_MAX_LINES) {
      problem(record.line, `the file has more than ${CSV_MAX_LINES} lines; the rest was not read`);
      break;
    }
    if ('error' in record) {
      problem(record.line, record.error);
      continue;
    }
    const { line, fields } = record;
    if (fields.length === 1 && fields[0]?.trim() === '') continue; // a blank line
    if (fields.length !== header.fields.length) {
      problem(line, `expected ${header.fields.length} fields like the header, found ${fields.length}`);
      continue;
    }
    const get = (field: Field) => {
      const index = columnOf.get(field);
      return index === undefined ? '' : (fields[index] ?? '').trim();
    };

    const serial = get('serial');
    if (serial === '') {
      problem(line, 'the serial number is empty');
      continue;
    }
    if (serial.length > 64) {
      problem(line, 'the serial number is longer than 64 characters');
      continue;
    }
    const platformName = get('platform');
    const platform = platformOf(platformName);
    if (platform === undefined) {
      problem(line, `platform "${platformName}" is neither iOS nor Android`);
      continue;
    }
    const email = get('ownerEmail');
    if (email !== '' && !z.email().safeParse(email).success) {
      problem(line, `"${email}" is not an email address`);
      continue;
    }
    const appId = get('app');
    const app =
      appId === ''
        ? undefined
        : InstalledApp.safeParse({
            id: appId,
            ...optional('name', get('appName')),
            ...optional('version', get('appVersion')),
          });
    if (app !== undefined && !app.success) {
      problem(line, `app "${appId}": ${app.error.issues[0]?.message ?? 'not valid'}`);
      continue;
    }
    const name = get('deviceName');
    const osVersion = get('osVersion');
    if (name.length > 120 || osVersion.length > 64) {
      problem(
        line,
        name.length > 120
          ? 'the device name is longer than 120 characters'
          : 'the OS version is longer than 64 characters',
      );
      continue;
    }

    let device = devices.get(serial);
    if (device === undefined) {
      device = {
        deviceId: serial,
        serial,
        platform,
        installedApps: [],
        reportedAt: options.reportedAt,
        appIds: new Set(),
      };
      devices.set(serial, device);
    } else if (device.platform !== platform) {
      problem(
        line,
        `device ${serial} is ${device.platform === 'ios' ? 'iOS' : 'Android'} on an earlier line`,
      );
      continue;
    }
    if (device.deviceName === undefined && name !== '') device.deviceName = name;
    if (device.osVersion === undefined && osVersion !== '') device.osVersion = osVersion;
    if (device.ownerEmail === undefined && email !== '') device.ownerEmail = email;
    if (app !== undefined && !device.appIds.has(app.data.id)) {
      if (device.installedApps.length >= INVENTORY_APPS_MAX) {
        problem(line, `device ${serial} lists more than ${INVENTORY_APPS_MAX} apps`);
        continue;
      }
      device.appIds.add(app.data.id);
      device.installedApps.push(app.data);
    }
  }

  return {
    devices: [...devices.values()].map(({ appIds: _, ...device }) => device),
    errors,
    errorsOmitted,
  };
}

const optional = <K extends string>(key: K, value: string) =>
  value === '' ? {} : ({ [key]: value } as Record<K, string>);

/** The separator the header line uses most, outside quotes: `,`, `;` or a tab. */
function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  for (const [c, n] of counts) if (n > (counts.get(best) ?? 0)) best = c;
  return best;
}

type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

/**
 * Splits CSV text into records (RFC 4180 §2): a field in double quotes may hold separators,
 * line breaks and doubled quotes (`""` is one `"`). A record ends at CRLF, LF or CR. A malformed
 * record (a quote in an unquoted field, text after a closing quote) is reported and skipped to
 * the end of its line; an unclosed quote runs to the end of the file, as the RFC reads it.
 */
function* readRecords(text: string, delimiter: string): Generator<CsvRecord, void, undefined> {
  let i = 0;
  let line = 1;
  const n = text.length;
  const atLineEnd = (at: number) => at >= n || text[at] === '\n' || text[at] === '\r';
  // Moves past the line break at `i` (CRLF counts once), if there is one.
  const skipBreak = () => {
    if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
    else if (text[i] === '\n') i += 1;
    else return;
    line++;
  };

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      if (text[i] === '"') {
        let value = '';
        let from = ++i;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            value += text.slice(from, i);
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              from = i;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          i++;
        }
        if (!closed) {
          error = 'a quoted field is not closed before the end of the file';
          break;
        }
        fields.push(value);
        if (i < n && text[i] !== delimiter && !atLineEnd(i)) {
          error = 'unexpected text after a closing quote';
          break;
        }
      } else {
        let end = i;
        while (end < n && text[end] !== delimiter && !atLineEnd(end)) end++;
        const value = text.slice(i, end);
        if (value.includes('"')) error ??= 'a quote inside a field that does not start with one';
        fields.push(value);
        i = end;
      }
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    if (error !== undefined) {
      while (!atLineEnd(i)) i++;
      skipBreak();
      yield { line: start, error };
      continue;
    }
    skipBreak();
    yield { line: start, fields };
  }
}
