/**
 * The modules a bug report and an androidqf acquisition share: both hold `getprop` output and the
 * same dumpsys services, the bug report in its text, androidqf in `getprop.txt` and `dumpsys.txt`.
 * Each module records what it read on the timeline and matches it against the indicators: the
 * app ids of the packages, receivers, app ops and accessibility services, the names and paths of
 * the processes, the names of the system properties.
 */
import type { Detection } from '@rempart/core';
import type { IndicatorMatcher } from '../matcher.js';
import type { ArtifactModule, ArtifactRecorder } from '../scan.js';
import {
  findService,
  lineOf,
  type Dumpstate,
  type DumpstateBlock,
  type ProcessTable,
  type Property,
} from './dumpstate.js';
import {
  logcatTime,
  parseAccessibility,
  parseAppops,
  parseBatteryDaily,
  parseBatteryHistory,
  parseDbinfo,
  parsePackageList,
  parseReceivers,
  type PackageEntry,
} from './dumpsys.js';

/** Where dumpsys output was read: a file's name, its text split (undefined when there is none). */
export interface DumpsysSource {
  file: string;
  dump: Dumpstate | undefined;
  /** Why the file could not be read, when it is there but unreadable: its modules fail with it. */
  error?: string;
  /** When the output was taken, for the times Android prints relative to it. */
  takenAt: Date | null;
}

/**
 * The service block `name` of the source; undefined, the artifact marked missing, when the source
 * or the service is not there. Throws when the source could not be read.
 */
function serviceOf(
  source: DumpsysSource,
  name: string,
  artifact: ArtifactRecorder,
): DumpstateBlock | undefined {
  if (source.error !== undefined) throw new Error(source.error);
  if (source.dump === undefined) {
    artifact.missing(`no ${source.file}`);
    return undefined;
  }
  const block = findService(source.dump, name);
  if (!block) artifact.missing(`no DUMP OF SERVICE ${name}: in ${source.file}`);
  return block;
}

/**
 * The apps that sell apps. An app installed by none of them came from a file (a link, a message,
 * adb, another app): the way mercenary spyware for Android is planted, when it is not an exploit.
 */
export const APP_STORES: ReadonlySet<string> = new Set([
  'com.android.vending',
  'com.google.android.feedback',
  'com.sec.android.app.samsungapps',
  'com.huawei.appmarket',
  'com.xiaomi.market',
  'com.xiaomi.mipicks',
  'com.heytap.market',
  'com.oppo.market',
  'com.bbk.appstore',
  'com.amazon.venezia',
  'org.fdroid.fdroid',
]);

/** Where an app came from, in words: a system app, a store, or outside any store (and by whom). */
export function installSource(installer: string | undefined, system: boolean): string {
  if (system) return 'system app';
  if (installer !== undefined && APP_STORES.has(installer)) return `from the store ${installer}`;
  return installer === undefined
    ? 'installed outside an app store, by no installer (adb, or a file)'
    : `installed outside an app store, by ${installer}`;
}

/** Detections, each indicator and match once (a path and its file name can name the same one). */
export function distinct(...found: (Detection | undefined)[]): Detection[] {
  const seen = new Set<string>();
  return found.filter((d): d is Detection => {
    if (d === undefined || seen.has(`${d.indicatorId}\u0000${d.matched}`)) return false;
    seen.add(`${d.indicatorId}\u0000${d.matched}`);
    return true;
  });
}

/**
 * The detections of a text, one per indicator: a link's URL and its host name are both found in
 * the text, and are one finding.
 */
export function textDetections(matcher: IndicatorMatcher, text: string): Detection[] {
  const seen = new Set<string>();
  return matcher.text(text).filter((d) => {
    if (seen.has(d.indicatorId)) return false;
    seen.add(d.indicatorId);
    return true;
  });
}

/** A time in records' text: ISO 8601, whole seconds when the milliseconds are zero. */
export function stamp(at: Date): string {
  return at.toISOString().replace('.000Z', 'Z');
}

/** What the system properties say of the device. */
const DEVICE_PROPERTIES: [string, string][] = [
  ['model', 'ro.product.model'],
  ['manufacturer', 'ro.product.manufacturer'],
  ['device', 'ro.product.device'],
  ['osVersion', 'ro.build.version.release'],
  ['sdk', 'ro.build.version.sdk'],
  ['securityPatch', 'ro.build.version.security_patch'],
  ['build', 'ro.build.display.id'],
  ['fingerprint', 'ro.build.fingerprint'],
  ['serial', 'ro.serialno'],
  ['serial', 'ro.boot.serialno'],
  ['bootloader', 'ro.bootloader'],
  ['baseband', 'gsm.version.baseband'],
];

/** Sets the device's model, OS version, build, serial… from its properties. */
export function deviceFromProperties(artifact: ArtifactRecorder, properties: readonly Property[]): number {
  const byName = new Map(properties.map((p) => [p.name, p.value]));
  let found = 0;
  for (const [key, name] of DEVICE_PROPERTIES) {
    const value = byName.get(name)?.trim();
    if (value) {
      artifact.device(key, value);
      found++;
    }
  }
  return found;
}

/** `getprop`: each property, matched by its name (spyware leaves its own behind). */
export function recordProperties(
  artifact: ArtifactRecorder,
  file: string,
  properties: readonly Property[],
): void {
  for (const p of properties)
    artifact.record(
      null,
      file,
      `line ${p.line}: [${p.name}]: [${p.value}]`,
      artifact.matcher.androidProperty(p.name),
    );
}

/**
 * The names a process row can be matched by: the command's path and file name, the name itself,
 * and for an app's process (`com.x` or `com.x:service`) the app's id.
 */
export function processDetections(matcher: IndicatorMatcher, name: string): Detection[] {
  const command = name.trim().split(/\s+/)[0] ?? '';
  if (command === '') return [];
  if (command.includes('/')) {
    const file = command.slice(command.lastIndexOf('/') + 1);
    return distinct(matcher.filePath(command), file === '' ? undefined : matcher.process(file));
  }
  const app = command.split(':')[0]!;
  return distinct(
    matcher.process(command),
    matcher.process(name.trim()),
    app === '' ? undefined : matcher.appId(app),
  );
}

/**
 * `ps`: a record per process (a thread only when it is a detection: a report lists thousands of
 * threads, and their names say nothing more than their process').
 */
export function processesModule(file: string, table: () => ProcessTable | string): ArtifactModule {
  return {
    name: 'processes',
    run: (artifact) => {
      const read = table();
      if (typeof read === 'string') return artifact.missing(read);
      for (const row of read.rows) {
        const detections = processDetections(artifact.matcher, row.name);
        const thread = row.tid !== undefined && row.tid !== row.pid;
        if (thread && detections.length === 0) continue;
        const who = [
          row.ppid === undefined ? undefined : `ppid ${row.ppid}`,
          row.user === undefined ? undefined : `user ${row.user}`,
          row.label,
        ].filter(Boolean);
        const id = thread ? `pid ${row.pid} thread ${row.tid}` : `pid ${row.pid}`;
        artifact.record(
          null,
          file,
          `line ${row.line}: ${id}${who.length > 0 ? ` (${who.join(', ')})` : ''} ${row.name}`,
          detections,
        );
      }
    },
  };
}

/**
 * The apps of `dumpsys package`, or why there are none (no such file or service). Throws when the
 * file could not be read or the service's output has no package list.
 */
export function packagesOf(source: DumpsysSource): PackageEntry[] | string {
  if (source.error !== undefined) throw new Error(source.error);
  if (source.dump === undefined) return `no ${source.file}`;
  const block = findService(source.dump, 'package');
  if (!block) return `no DUMP OF SERVICE package: in ${source.file}`;
  const packages = parsePackageList(block.lines, lineOf(block, 0));
  if (packages === undefined)
    throw new Error(
      `${source.file}: DUMP OF SERVICE package: (line ${block.line}) has no Packages: list (cut short?)`,
    );
  return packages;
}

/** Whether a package is part of the system image (a flag, or its code under a system partition). */
export function isSystemPackage(entry: PackageEntry): boolean {
  return (
    entry.flags.includes('SYSTEM') ||
    /^\/(system|system_ext|product|vendor|apex|odm)\//.test(entry.codePath ?? '')
  );
}

/**
 * `dumpsys package`: each app at its first install, with where it came from (an app from outside
 * the stores is said so), its update, and its code's path; matched by its id and path.
 */
export function packagesModule(source: DumpsysSource): ArtifactModule {
  return {
    name: 'packages',
    run: (artifact) => {
      const packages = packagesOf(source);
      if (typeof packages === 'string') return artifact.missing(packages);
      for (const p of packages) {
        const version = p.versionName === undefined ? '' : ` ${p.versionName}`;
        const parts = [
          `line ${p.line}: ${p.name}${version}`,
          installSource(p.installer, isSystemPackage(p)),
          p.firstInstallTime ? `installed ${stamp(p.firstInstallTime)}` : undefined,
          p.lastUpdateTime && p.lastUpdateTime.getTime() !== p.firstInstallTime?.getTime()
            ? `updated ${stamp(p.lastUpdateTime)}`
            : undefined,
          p.codePath,
        ];
        artifact.record(
          p.firstInstallTime ?? p.lastUpdateTime,
          source.file,
          parts.filter(Boolean).join(', '),
          distinct(
            artifact.matcher.appId(p.name),
            p.codePath === undefined ? undefined : artifact.matcher.filePath(p.codePath),
          ),
        );
      }
    },
  };
}

/**
 * The broadcasts that let an app read text messages as they arrive and follow calls: what
 * stalkerware and spyware for Android listen for, and few other apps do.
 */
export const WATCHED_BROADCASTS: Readonly<Record<string, string>> = {
  'android.provider.Telephony.SMS_RECEIVED': 'incoming text messages',
  'android.provider.Telephony.SMS_DELIVER': 'incoming text messages, as the messaging app',
  'android.intent.action.DATA_SMS_RECEIVED': 'incoming binary text messages',
  'android.provider.Telephony.WAP_PUSH_RECEIVED': 'incoming MMS and WAP push messages',
  'android.provider.Telephony.WAP_PUSH_DELIVER': 'incoming MMS and WAP push messages, as the messaging app',
  'android.intent.action.NEW_OUTGOING_CALL': 'outgoing calls',
  'android.intent.action.PHONE_STATE': 'calls (ringing, answered, ended)',
};

/** `dumpsys package`'s receivers: which app listens for messages and calls; matched by the app's id. */
export function receiversModule(source: DumpsysSource): ArtifactModule {
  return {
    name: 'receivers',
    run: (artifact) => {
      const block = serviceOf(source, 'package', artifact);
      if (!block) return;
      const receivers = parseReceivers(block.lines, lineOf(block, 0));
      if (receivers === undefined)
        return artifact.missing(`${source.file}: DUMP OF SERVICE package: has no Receiver Resolver Table:`);
      for (const r of receivers) {
        const what = WATCHED_BROADCASTS[r.action];
        if (what === undefined) continue;
        artifact.record(
          null,
          source.file,
          `line ${r.line}: ${r.package} listens for ${what} (${r.action}) with ${r.component}`,
          artifact.matcher.appId(r.package),
        );
      }
    },
  };
}

/** Lets an app install others: how a dropper brings the spyware once it is in. */
const INSTALL_OP = 'REQUEST_INSTALL_PACKAGES';

/**
 * `dumpsys appops`: each operation an app used or was refused, at its last use (the camera, the
 * microphone, the messages, the location…), and the apps allowed to install others; matched by the
 * app's id. Operations never used are left out: they say nothing of what the app did.
 */
export function appopsModule(source: DumpsysSource): ArtifactModule {
  return {
    name: 'appops',
    run: (artifact) => {
      const block = serviceOf(source, 'appops', artifact);
      if (!block) return;
      const ops = parseAppops(block.lines, lineOf(block, 0), source.takenAt);
      if (ops.length === 0 && block.lines.some((l) => l.trim() !== ''))
        throw new Error(
          `${source.file}: DUMP OF SERVICE appops: (line ${block.line}) lists no app's operations (cut short?)`,
        );
      for (const op of ops) {
        const allowedInstall = op.op === INSTALL_OP && op.mode === 'allow';
        if (op.lastAccess === null && op.lastReject === null && !allowedInstall) continue;
        const parts = [
          `line ${op.line}: ${op.package}${op.uid === undefined ? '' : ` (uid ${op.uid})`} ${op.op}${op.mode === undefined ? '' : ` (${op.mode})`}`,
          op.lastAccess ? `last used ${stamp(op.lastAccess)}` : undefined,
          op.lastReject ? `last refused ${stamp(op.lastReject)}` : undefined,
          allowedInstall ? 'may install other apps' : undefined,
        ];
        artifact.record(
          op.lastAccess ?? op.lastReject,
          source.file,
          parts.filter(Boolean).join(', '),
          artifact.matcher.appId(op.package),
        );
      }
    },
  };
}

/**
 * `dumpsys accessibility`: the services that can read the screen and act on it (spyware asks for it
 * to read messaging apps); matched by the app's id.
 */
export function accessibilityModule(source: DumpsysSource): ArtifactModule {
  return {
    name: 'accessibility',
    run: (artifact) => {
      const block = serviceOf(source, 'accessibility', artifact);
      if (!block) return;
      for (const service of parseAccessibility(block.lines, lineOf(block, 0)))
        artifact.record(
          null,
          source.file,
          `line ${service.line}: accessibility service ${service.component}: ${service.states.join(', ')}`,
          artifact.matcher.appId(service.package),
        );
    },
  };
}

/** `dumpsys dbinfo`: the recent statements on the apps' databases, matched for addresses and domains. */
export function dbinfoModule(source: DumpsysSource): ArtifactModule {
  return {
    name: 'dbinfo',
    run: (artifact) => {
      const block = serviceOf(source, 'dbinfo', artifact);
      if (!block) return;
      for (const op of parseDbinfo(block.lines, lineOf(block, 0))) {
        const where = [op.process, op.database].filter(Boolean).join(' ');
        artifact.record(
          op.at,
          source.file,
          `line ${op.line}: ${where === '' ? '' : `${where}: `}${op.statement}`,
          textDetections(artifact.matcher, op.statement),
        );
      }
    },
  };
}

/**
 * `dumpsys batterystats`: the apps installed and uninstalled in its history, and updated in its
 * daily stats; matched by the app's id. The battery statistics keep them after the app is gone.
 */
export function batteryModules(source: DumpsysSource): ArtifactModule[] {
  const module = (name: string, parse: typeof parseBatteryHistory, what: string): ArtifactModule => ({
    name,
    run: (artifact) => {
      const block = serviceOf(source, 'batterystats', artifact);
      if (!block) return;
      const events = parse(block.lines, lineOf(block, 0));
      if (events.length === 0 && !block.lines.some((l) => l.includes(what)))
        return artifact.missing(`${source.file}: DUMP OF SERVICE batterystats: has no ${what}`);
      for (const e of events) {
        const version = e.version === undefined ? '' : ` to version ${e.version}`;
        const day =
          e.event === 'updated' && e.at
            ? ` on the day from ${stamp(e.at)}${e.until ? ` to ${stamp(e.until)}` : ''}`
            : '';
        artifact.record(
          e.at,
          source.file,
          `line ${e.line}: ${e.package} ${e.event}${version}${day}`,
          artifact.matcher.appId(e.package),
        );
      }
    },
  });
  return [
    module('battery_daily', parseBatteryDaily, 'Daily stats'),
    module('battery_history', parseBatteryHistory, 'Battery History'),
  ];
}

/**
 * Log lines matched for addresses, domains and e-mail addresses. Only the lines with a detection
 * are recorded: a log holds tens of thousands of lines, and a line names no event worth a place on
 * the timeline unless it names an indicator.
 */
export function recordLogLines(
  artifact: ArtifactRecorder,
  file: string,
  lines: readonly string[],
  firstLine: number,
  takenAt: Date | null,
): void {
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const detections = textDetections(artifact.matcher, line);
    if (detections.length > 0)
      artifact.record(logcatTime(line, takenAt), file, `line ${firstLine + index}: ${line}`, detections);
  });
}
