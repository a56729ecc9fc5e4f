/**
 * An Android bug report: the zip `adb bugreport` writes (Android 7 and later), or a folder it was
 * extracted to. `main_entry.txt` names the report's text (`bugreport-<device>-<build>-<date>.txt`,
 * dumpstate's output), `version.txt` its format, and `FS/` holds copies of files of the phone
 * (ANR traces, tombstones, recent logs) under their paths.
 *
 * A bug report needs no root and no app on the phone, only developer options: it is the artifact
 * an analyst can take from any Android phone. The scan reads the apps installed and where they came
 * from, the processes running, the system properties, the apps listening for messages and calls,
 * the accessibility services, the recent uses of the camera, microphone and messages, the installs
 * and removals the battery statistics remember, the recent database statements and log lines, and
 * the files copied, and matches each against the indicators.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { RempartError } from '@rempart/core';
import { ScanRecorder, type ArtifactModule, type ScanOptions, type ScanResult } from '../scan.js';
import {
  findSection,
  lineOf,
  parseDumpstate,
  parseHeader,
  parseProcesses,
  parseProperties,
  type Dumpstate,
  type DumpstateBlock,
  type DumpstateHeader,
} from './dumpstate.js';
import {
  accessibilityModule,
  appopsModule,
  batteryModules,
  dbinfoModule,
  deviceFromProperties,
  packagesModule,
  processesModule,
  receiversModule,
  recordLogLines,
  recordProperties,
  type DumpsysSource,
} from './modules.js';

/** A bug report's parts, read from its zip or folder. */
export interface Bugreport {
  /** The main text's name, as `main_entry.txt` gives it. */
  mainName: string;
  text: string;
  /** `version.txt`: the format of the zip (`2.0`). */
  version: string | undefined;
  /** The paths of the files under `FS/`, relative to it, with `/`. */
  files: string[];
}

const MAIN_ENTRY = 'main_entry.txt';
const VERSION = 'version.txt';
/** dumpstate's own name for the main text, used when `main_entry.txt` is gone (a folder tidied up). */
const MAIN_TEXT = /^bugreport-.+\.txt$/;

/**
 * Scans an Android bug report (zip or extracted folder). Throws `validation_failed` naming `path`
 * when it is neither a zip nor a folder, or holds no bug report.
 *
 * @example
 *   const report = await scanAndroidBugreport('/cases/42/bugreport-oriole-2024-05-02.zip', { matcher });
 *   report.artifacts.find((a) => a.artifact === 'packages')?.records // the apps installed
 */
export async function scanAndroidBugreport(path: string, options: ScanOptions): Promise<ScanResult> {
  const bugreport = await openBugreport(path);
  const dump = parseDumpstate(bugreport.text);
  const header = parseHeader(dump.header);
  if (header.takenAt === null && dump.blocks.length === 0)
    throw RempartError.validation(
      `${path}: ${bugreport.mainName} is not a bug report (no dumpstate header, no sections)`,
      { path },
    );
  return new ScanRecorder('android-bugreport', options).run(bugreportModules(bugreport, dump, header));
}

/** The modules of a scan, in the order they run. */
function bugreportModules(bugreport: Bugreport, dump: Dumpstate, header: DumpstateHeader): ArtifactModule[] {
  const file = bugreport.mainName;
  const propertiesBlock = findSection(dump, 'SYSTEM PROPERTIES');
  const properties = propertiesBlock && parseProperties(propertiesBlock.lines, lineOf(propertiesBlock, 0));
  const source: DumpsysSource = { file, dump, takenAt: header.takenAt };
  return [
    {
      name: 'device',
      run: (artifact) => {
        artifact.device('build', header.build);
        artifact.device('fingerprint', header.fingerprint);
        artifact.device('bootloader', header.bootloader);
        artifact.device('baseband', header.radio);
        artifact.device('kernel', header.kernel);
        artifact.device('bugreportFormat', bugreport.version?.trim() ?? header.formatVersion);
        if (header.takenAt) artifact.device('bugreportTakenAt', header.takenAt.toISOString());
        const found = deviceFromProperties(artifact, properties ?? []);
        if (found === 0 && header.build === undefined && header.fingerprint === undefined)
          artifact.missing(`${file}: no Build: header and no SYSTEM PROPERTIES section`);
      },
    },
    {
      name: 'getprop',
      run: (artifact) =>
        properties === undefined
          ? artifact.missing(`${file}: no SYSTEM PROPERTIES (getprop) section`)
          : recordProperties(artifact, file, properties),
    },
    packagesModule(source),
    processesModule(file, () => {
      const block = processSection(dump);
      if (!block) return `${file}: no PROCESSES (ps) section`;
      const table = parseProcesses(block.lines, lineOf(block, 0));
      if (!table)
        throw new Error(`${file}: ${block.title} (line ${block.line}) has no ps header row (PID … NAME/CMD)`);
      return table;
    }),
    appopsModule(source),
    accessibilityModule(source),
    receiversModule(source),
    dbinfoModule(source),
    ...batteryModules(source),
    {
      name: 'logcat',
      run: (artifact) => {
        const logs = dump.blocks.filter((b) => b.kind === 'section' && /^logcat\b/.test(b.command ?? ''));
        if (logs.length === 0) return artifact.missing(`${file}: no logcat section`);
        for (const log of logs) recordLogLines(artifact, file, log.lines, lineOf(log, 0), header.takenAt);
      },
    },
    {
      name: 'files',
      run: (artifact) => {
        if (bugreport.files.length === 0) return artifact.missing('no FS/ folder in the bug report');
        for (const relative of bugreport.files)
          artifact.record(null, `FS/${relative}`, `/${relative}`, artifact.matcher.filePath(`/${relative}`));
      },
    },
  ];
}

/** `ps`: toybox's threads listing since Android 8, named otherwise before. */
function processSection(dump: Dumpstate): DumpstateBlock | undefined {
  return (
    findSection(dump, 'PROCESSES AND THREADS', 'PROCESSES') ??
    dump.blocks.find(
      (b) => b.kind === 'section' && b.title.startsWith('PROCESSES') && /^ps\b/.test(b.command ?? ''),
    )
  );
}

/** Reads a bug report zip or folder; `validation_failed` naming `path` when it is neither. */
export async function openBugreport(path: string): Promise<Bugreport> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw RempartError.validation(
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { path },
    );
  }
  return info.isDirectory() ? openFolder(path) : openZip(path);
}

/** Local file header and end of central directory (an empty zip): APPNOTE.TXT §4.3.7, §4.3.16. */
const ZIP_SIGNATURES = ['PK\x03\x04', 'PK\x05\x06'];

async function openZip(path: string): Promise<Bugreport> {
  const bytes = await readFile(path);
  const signature = bytes.subarray(0, 4).toString('latin1');
  if (!ZIP_SIGNATURES.includes(signature))
    throw RempartError.validation(
      `${path}: not a zip file (a bug report is the zip adb bugreport writes, or the folder it extracts to)`,
      { path },
    );
  const names: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    // Only the small entries and the candidates for the main text are inflated; FS/ is only listed.
    entries = unzipSync(bytes, {
      filter: (entry) => {
        names.push(entry.name);
        return entry.name === MAIN_ENTRY || entry.name === VERSION || MAIN_TEXT.test(entry.name);
      },
    });
  } catch (error) {
    throw RempartError.validation(`${path}: not a readable zip (${(error as Error).message})`, { path });
  }
  const text = (name: string) => {
    const data = entries[name];
    return data === undefined
      ? undefined
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  };
  const mainName = mainEntry(path, text(MAIN_ENTRY), names);
  const main = text(mainName);
  if (main === undefined)
    throw RempartError.validation(`${path}: ${MAIN_ENTRY} names ${mainName}, which the zip does not hold`, {
      path,
    });
  return {
    mainName,
    text: main,
    version: text(VERSION),
    files: names.filter((n) => n.startsWith('FS/') && !n.endsWith('/')).map((n) => n.slice(3)),
  };
}

async function openFolder(path: string): Promise<Bugreport> {
  const top = await readdir(path);
  const read = async (name: string) => {
    try {
      return await readFile(join(path, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const mainName = mainEntry(path, top.includes(MAIN_ENTRY) ? await read(MAIN_ENTRY) : undefined, top);
  // main_entry.txt is read from the folder given: it must not lead out of it.
  if (isAbsolute(mainName) || normalize(mainName).split(sep).includes('..'))
    throw RempartError.validation(`${path}: ${MAIN_ENTRY} names ${mainName}, outside the folder`, { path });
  const main = await read(mainName);
  if (main === undefined)
    throw RempartError.validation(
      `${path}: ${MAIN_ENTRY} names ${mainName}, which the folder does not hold`,
      {
        path,
      },
    );
  return {
    mainName,
    text: main,
    version: top.includes(VERSION) ? await read(VERSION) : undefined,
    files: top.includes('FS') ? await filesUnder(join(path, 'FS')) : [],
  };
}

/**
 * The main text's name: `main_entry.txt`'s content, or the one `bugreport-*.txt` at the top when
 * that file is gone. `validation_failed` when neither says.
 */
function mainEntry(path: string, entry: string | undefined, names: readonly string[]): string {
  const named = entry?.trim();
  if (named) return named;
  const candidates = names.filter((n) => MAIN_TEXT.test(n));
  if (candidates.length === 1) return candidates[0]!;
  throw RempartError.validation(
    entry === undefined
      ? `${path}: not a bug report (no ${MAIN_ENTRY}${candidates.length > 1 ? `, and ${candidates.length} bugreport-*.txt` : ''})`
      : `${path}: ${MAIN_ENTRY} is empty`,
    { path },
  );
}

/** The files under `dir`, relative to it with `/`, in name order. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const inner = relative === '' ? entry.name : `${relative}/${entry.name}`;
      // Symbolic links are not followed: a link in an extracted report could lead anywhere.
      if (entry.isDirectory()) await walk(inner);
      else if (!entry.isSymbolicLink()) found.push(inner);
    }
  };
  await walk('');
  return found;
}
