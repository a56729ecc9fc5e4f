/**
 * An acquisition by androidqf (Android Quick Forensics), the tool that gathers over adb what a
 * spyware check of an Android phone needs, into a folder: the apps installed with their APKs'
 * digests and signing certificates (`packages.json`), the processes (`processes.json`), the system
 * properties (`getprop.txt`), the settings (`settings_global.txt`, `settings_secure.txt`,
 * `settings_system.txt`), `dumpsys` output (`dumpsys.txt`), the files it could list with their
 * digests (`files.json`), and, when taken, the text messages (`sms.json`) and the log
 * (`logcat.txt`).
 *
 * Every JSON file is checked against what the scan reads of it: a file that is not is reported as
 * its module failed, naming the file, and the scan goes on with the others.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { RempartError } from '@rempart/core';
import { ScanRecorder, type ArtifactRecorder, type ScanOptions, type ScanResult } from '../scan.js';
import { parseDumpstate, parseProperties, splitLines, type Property } from './dumpstate.js';
import { componentsIn, type PackageEntry } from './dumpsys.js';
import {
  accessibilityModule,
  appopsModule,
  batteryModules,
  dbinfoModule,
  deviceFromProperties,
  distinct,
  installSource,
  packagesOf,
  processDetections,
  receiversModule,
  recordLogLines,
  recordProperties,
  stamp,
  textDetections,
  type DumpsysSource,
} from './modules.js';

/** The files of an acquisition the scan reads; a folder with none of them is not one. */
const KNOWN_FILES = [
  'packages.json',
  'processes.json',
  'getprop.txt',
  'dumpsys.txt',
  'files.json',
  'sms.json',
  'logcat.txt',
] as const;
const SETTINGS_FILE = /^settings_(\w+)\.txt$/;

// What the scan reads of androidqf's JSON files; other fields pass untouched. androidqf writes Go
// structures: a certificate's digests are `Sha256` there, `sha256` in files converted by other tools.
const Digest = z.string().nullish();
const Certificate = z.object({ sha256: Digest, Sha256: Digest }).nullish();
const PackageFile = z.object({ path: z.string(), sha256: Digest, certificate: Certificate });
const Package = z.object({
  name: z.string().min(1),
  installer: z.string().nullish(),
  files: z.array(PackageFile).nullish(),
  system: z.boolean().nullish(),
});
const Packages = z.array(Package);
const Id = z.union([z.number(), z.string()]).nullish();
const Process = z.object({
  name: z.string(),
  pid: Id,
  ppid: Id,
  uid: Id,
  user: z.string().nullish(),
  /** The SELinux context, named either way. */
  label: z.string().nullish(),
  context: z.string().nullish(),
});
const Processes = z.array(Process);
/** A time as androidqf and Android's providers write it: Unix seconds or milliseconds, or ISO 8601. */
const Time = z.union([z.number(), z.string()]).nullish();
const FileEntry = z.object({
  path: z.string().min(1),
  sha256: Digest,
  size: z.number().nullish(),
  modified_time: Time,
});
const Files = z.array(FileEntry);
const Message = z.object({
  address: z.string().nullish(),
  body: z.string().nullish(),
  date: Time,
});
const Messages = z.array(Message);

/**
 * Scans an androidqf acquisition folder. Throws `validation_failed` naming `dir` when it is not a
 * folder or holds none of the files androidqf writes.
 *
 * @example
 *   const report = await scanAndroidqf('/cases/42/3f2c…', { matcher });
 *   report.artifacts.map((a) => `${a.artifact}: ${a.status}`) // ['device: read', 'getprop: read', …]
 */
export async function scanAndroidqf(dir: string, options: ScanOptions): Promise<ScanResult> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory())
      throw RempartError.validation(`${dir}: not a folder (androidqf writes its acquisition to a folder)`, {
        path: dir,
      });
    names = await readdir(dir);
  } catch (error) {
    if (error instanceof RempartError) throw error;
    throw RempartError.validation(
      `${dir}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { path: dir },
    );
  }
  const settings = names.filter((n) => SETTINGS_FILE.test(n)).sort();
  if (!KNOWN_FILES.some((f) => names.includes(f)) && settings.length === 0)
    throw RempartError.validation(
      `${dir}: not an androidqf acquisition (none of ${KNOWN_FILES.join(', ')}, settings_*.txt)`,
      { path: dir },
    );
  const acquisition = new Acquisition(dir, names);
  const dumpsys = await acquisition.dumpsys();
  return new ScanRecorder('androidqf', options).run([
    {
      name: 'device',
      run: async (artifact) => {
        const properties = await acquisition.properties();
        if (properties === undefined || deviceFromProperties(artifact, properties) === 0)
          artifact.missing('no device properties (getprop.txt)');
      },
    },
    {
      name: 'getprop',
      run: async (artifact) => {
        const properties = await acquisition.properties();
        if (properties === undefined) return artifact.missing('no getprop.txt');
        recordProperties(artifact, 'getprop.txt', properties);
      },
    },
    { name: 'settings', run: (artifact) => settingsModule(acquisition, settings, artifact) },
    { name: 'packages', run: (artifact) => packagesModule(acquisition, dumpsys, artifact) },
    { name: 'processes', run: (artifact) => processesModule(acquisition, artifact) },
    appopsModule(dumpsys),
    accessibilityModule(dumpsys),
    receiversModule(dumpsys),
    dbinfoModule(dumpsys),
    ...batteryModules(dumpsys),
    { name: 'files', run: (artifact) => filesModule(acquisition, artifact) },
    { name: 'sms', run: (artifact) => smsModule(acquisition, artifact) },
    {
      name: 'logcat',
      run: async (artifact) => {
        const text = await acquisition.text('logcat.txt');
        if (text === undefined) return artifact.missing('no logcat.txt');
        // logcat leaves out the year, and the acquisition does not say when it was taken: the
        // lines' times stay unknown rather than guessed.
        recordLogLines(artifact, 'logcat.txt', splitLines(text), 1, null);
      },
    },
  ]);
}

/** The files of an acquisition folder, read on demand. */
class Acquisition {
  private propertiesRead: Promise<Property[] | undefined> | undefined;

  constructor(
    readonly dir: string,
    private readonly names: readonly string[],
  ) {}

  has(file: string): boolean {
    return this.names.includes(file);
  }

  text(file: string): Promise<string | undefined> {
    return this.has(file) ? readFile(join(this.dir, file), 'utf8') : Promise.resolve(undefined);
  }

  /** A JSON file checked against `schema`; undefined when absent, `validation_failed` naming it when malformed. */
  async json<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const text = await this.text(file);
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw RempartError.validation(`${file}: not JSON (${(error as Error).message})`, { file });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'value'}: ${i.message}`);
      const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : '';
      throw RempartError.validation(`${file}: not what androidqf writes: ${issues.join('; ')}${more}`, {
        file,
      });
    }
    return parsed.data;
  }

  /** `getprop.txt`'s properties, read once for the modules that need them. */
  properties(): Promise<Property[] | undefined> {
    return (this.propertiesRead ??= this.text('getprop.txt').then((text) =>
      text === undefined ? undefined : parseProperties(splitLines(text)),
    ));
  }
  /**
   * `dumpsys.txt` split into its services, for the modules that read them (the times Android 10
   * and older print relative to the dump stay unknown: the acquisition does not say when it was).
   */
  async dumpsys(): Promise<DumpsysSource> {
    const source = { file: 'dumpsys.txt', takenAt: null };
    try {
      const text = await this.text(source.file);
      return { ...source, dump: text === undefined ? undefined : parseDumpstate(text) };
    } catch (error) {
      return {
        ...source,
        dump: undefined,
        error: `${source.file}: cannot read (${(error as Error).message})`,
      };
    }
  }
}

/**
 * `packages.json`: each app with where it came from, matched by its id, its APKs' paths and
 * digests, and its signing certificate's digest. The install times come from `dumpsys.txt`'s
 * package list when it has them (androidqf's list has none).
 */
async function packagesModule(acquisition: Acquisition, dumpsys: DumpsysSource, artifact: ArtifactRecorder) {
  const packages = await acquisition.json('packages.json', Packages);
  if (packages === undefined) return artifact.missing('no packages.json');
  const times = new Map<string, PackageEntry>();
  try {
    const listed = packagesOf(dumpsys);
    if (typeof listed !== 'string') for (const p of listed) times.set(p.name, p);
  } catch {
    // A dumpsys.txt without a package list leaves the apps without times: its own modules say so.
  }
  packages.forEach((p, index) => {
    const installer =
      p.installer === null || p.installer === undefined || ['', 'null'].includes(p.installer)
        ? undefined
        : p.installer;
    const listed = times.get(p.name);
    const files = p.files ?? [];
    const detections = distinct(
      artifact.matcher.appId(p.name),
      ...files.flatMap((f) => {
        const certificate = f.certificate?.sha256 ?? f.certificate?.Sha256;
        return [
          artifact.matcher.filePath(f.path),
          f.sha256 ? artifact.matcher.hash(f.sha256) : undefined,
          certificate ? artifact.matcher.appCert(certificate) : undefined,
        ];
      }),
    );
    const parts = [
      `#${index + 1}: ${p.name}`,
      installSource(installer, p.system === true),
      listed?.firstInstallTime ? `installed ${stamp(listed.firstInstallTime)}` : undefined,
      ...files.map((f) => (f.sha256 ? `${f.path} (sha256 ${f.sha256})` : f.path)),
    ];
    artifact.record(
      listed?.firstInstallTime ?? null,
      'packages.json',
      parts.filter(Boolean).join(', '),
      detections,
    );
  });
}

/** `processes.json`: each process, matched by its name, path and app id. */
async function processesModule(acquisition: Acquisition, artifact: ArtifactRecorder) {
  const processes = await acquisition.json('processes.json', Processes);
  if (processes === undefined) return artifact.missing('no processes.json');
  processes.forEach((p, index) => {
    const who = [
      p.ppid === null || p.ppid === undefined ? undefined : `ppid ${p.ppid}`,
      p.user ? `user ${p.user}` : p.uid === null || p.uid === undefined ? undefined : `uid ${p.uid}`,
      p.label ?? p.context ?? undefined,
    ].filter(Boolean);
    const pid = p.pid === null || p.pid === undefined ? '' : ` pid ${p.pid}`;
    artifact.record(
      null,
      'processes.json',
      `#${index + 1}:${pid}${who.length > 0 ? ` (${who.join(', ')})` : ''} ${p.name}`,
      processDetections(artifact.matcher, p.name),
    );
  });
}

/** Settings that weaken the phone's protection against apps from outside the stores. */
const WEAK_SETTINGS: { key: string; value: string; means: string }[] = [
  { key: 'package_verifier_enable', value: '0', means: 'Play Protect does not check the apps installed' },
  { key: 'package_verifier_user_consent', value: '-1', means: 'Play Protect may not scan the apps' },
  { key: 'upload_apk_enable', value: '0', means: 'Play Protect does not send unknown apps for analysis' },
  { key: 'verifier_verify_adb_installs', value: '0', means: 'apps installed over USB are not checked' },
  { key: 'install_non_market_apps', value: '1', means: 'apps from unknown sources may be installed' },
];
/** Settings whose value is an app's id. */
const APP_SETTINGS = new Set(['sms_default_application', 'dialer_default_application']);

/**
 * `settings_*.txt` (`key=value`, one a line): the settings that weaken the checks of apps, and
 * those naming apps (the accessibility services and notification listeners enabled, the default
 * messaging app), matched by the apps' ids and for addresses and domains.
 */
async function settingsModule(
  acquisition: Acquisition,
  files: readonly string[],
  artifact: ArtifactRecorder,
) {
  if (files.length === 0) return artifact.missing('no settings_*.txt');
  for (const file of files) {
    const lines = splitLines((await acquisition.text(file)) ?? '');
    lines.forEach((line, index) => {
      const equals = line.indexOf('=');
      if (equals <= 0) return;
      const key = line.slice(0, equals).trim();
      const value = line.slice(equals + 1).trim();
      const weak = WEAK_SETTINGS.find((w) => w.key === key && w.value === value);
      const apps = componentsIn(value).map((c) => c.package);
      if (APP_SETTINGS.has(key) && value !== '') apps.push(value);
      const detections = distinct(
        ...apps.map((app) => artifact.matcher.appId(app)),
        ...textDetections(artifact.matcher, value),
      );
      if (!weak && apps.length === 0 && detections.length === 0) return;
      artifact.record(
        null,
        file,
        `line ${index + 1}: ${key}=${value}${weak ? `: ${weak.means}` : ''}`,
        detections,
      );
    });
  }
}

/** `files.json`: each file at its last change, matched by its path and its digest. */
async function filesModule(acquisition: Acquisition, artifact: ArtifactRecorder) {
  const files = await acquisition.json('files.json', Files);
  if (files === undefined) return artifact.missing('no files.json');
  for (const f of files) {
    const detections = distinct(
      artifact.matcher.filePath(f.path),
      f.sha256 ? artifact.matcher.hash(f.sha256) : undefined,
    );
    const size = f.size === null || f.size === undefined ? '' : ` (${f.size} bytes)`;
    artifact.record(toDate(f.modified_time), 'files.json', `${f.path}${size}`, detections);
  }
}

/** `sms.json`: each message, matched for addresses, domains and e-mail addresses in it. */
async function smsModule(acquisition: Acquisition, artifact: ArtifactRecorder) {
  const messages = await acquisition.json('sms.json', Messages);
  if (messages === undefined) return artifact.missing('no sms.json');
  messages.forEach((m, index) => {
    const text = [m.address, m.body].filter(Boolean).join(': ');
    artifact.record(
      toDate(m.date),
      'sms.json',
      `#${index + 1}: ${text}`,
      textDetections(artifact.matcher, text),
    );
  });
}

/** Unix seconds or milliseconds (told apart by size: milliseconds pass 1e12 in 2001), or ISO 8601. */
function toDate(value: number | string | null | undefined): Date | null {
  if (value === null || value === undefined || value === '' || value === 0) return null;
  const number = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : undefined;
  const at =
    number === undefined ? new Date(value) : new Date(Math.abs(number) >= 1e12 ? number : number * 1000);
  return Number.isFinite(at.getTime()) ? at : null;
}
