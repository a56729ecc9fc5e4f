/**
 * An iOS sysdiagnose (the archive a phone writes when its volume buttons and side button are
 * held together), extracted to a folder: its `shutdown.log`.
 *
 * At each reboot, iOS writes to `system_logs.logarchive/Extra/shutdown.log` the clients that
 * were still running while it waited to shut down, one `remaining client pid: PID (PATH)` line per
 * client and wait, then a `SIGTERM: [UNIX TIME]` line that closes the reboot's entry. Pegasus'
 * processes ran from `/private/var/db/` and `/private/var/tmp/`, where no process of iOS lives, and
 * showed up there as clients that delayed the shutdown: a lightweight trace that survives in the
 * log across reboots, found and published by Kaspersky's researchers in 2024. So each client is
 * matched against the indicators (its name and path), and one running from such a folder is a
 * detection even when no indicator names it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { RempartError, type Detection } from '@rempart/core';
import { ScanRecorder, type ArtifactRecorder, type ScanOptions, type ScanResult } from './scan.js';

/** Folders where no process of iOS runs from: a client there is a detection by itself. */
export const UNUSUAL_PROCESS_FOLDERS = ['/private/var/db/', '/private/var/tmp/'] as const;

/** The source named by detections that come from that rule rather than an indicator. */
export const HEURISTIC_SOURCE = 'rempart:heuristics';

/** One reboot of shutdown.log: the clients that delayed it, with how many times each was waited for. */
export interface ShutdownEntry {
  /** The SIGTERM line's time; null for clients after the last one (a log cut short). */
  at: Date | null;
  clients: { pid: number; path: string; waits: number }[];
  /** The line number (1-based) of the SIGTERM line, or of the last client line. */
  line: number;
}

const CLIENT = /^\s*remaining client pid: (\d+) \((.*)\)\s*$/;
const SIGTERM = /^\s*SIGTERM: \[(\d+)\]/;

/**
 * The reboots of a shutdown.log. Lines of other shapes (iOS writes a few) are passed over.
 *
 * @example
 *   parseShutdownLog('remaining client pid: 4 (/private/var/db/x)\nSIGTERM: [1675416015] Cleaned up')
 *   // [{ at: 2023-02-03T09:20:15Z, clients: [{ pid: 4, path: '/private/var/db/x', waits: 1 }], line: 2 }]
 */
export function parseShutdownLog(text: string): ShutdownEntry[] {
  const entries: ShutdownEntry[] = [];
  let clients = new Map<string, { pid: number; path: string; waits: number }>();
  let last = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const client = CLIENT.exec(line);
    if (client) {
      const pid = Number(client[1]);
      const path = client[2] ?? '';
      const key = `${pid} ${path}`;
      const seen = clients.get(key);
      if (seen) seen.waits++;
      else clients.set(key, { pid, path, waits: 1 });
      last = index + 1;
      return;
    }
    const sigterm = SIGTERM.exec(line);
    if (sigterm) {
      const seconds = Number(sigterm[1]);
      const at = new Date(seconds * 1000);
      entries.push({
        at: Number.isFinite(at.getTime()) ? at : null,
        clients: [...clients.values()],
        line: index + 1,
      });
      clients = new Map();
    }
  });
  if (clients.size > 0) entries.push({ at: null, clients: [...clients.values()], line: last });
  return entries;
}

/** Where shutdown.log may be in an extracted sysdiagnose, newest layout first. */
const SHUTDOWN_LOG_PLACES = ['system_logs.logarchive/Extra/shutdown.log', 'shutdown.log'];

/**
 * Scans an extracted sysdiagnose folder (or a folder that holds one). Throws `validation_failed`
 * when `dir` is not a folder or holds no sysdiagnose.
 */
export async function scanSysdiagnose(dir: string, options: ScanOptions): Promise<ScanResult> {
  const root = findSysdiagnose(dir);
  const recorder = new ScanRecorder('sysdiagnose', options);
  return recorder.run([
    {
      name: 'device',
      run: (artifact) => {
        // sysdiagnose_2024.01.10_15-32-10+0100_iPhone-OS_iPhone_21C66: the OS build and the model.
        const name = basename(root);
        const match = /^sysdiagnose_([\d.]+_[\d-]+[+-]\d{4})_(.+?)_(.+?)_(\w+)$/.exec(name);
        if (!match) return artifact.missing(`${name}: not named as iOS names a sysdiagnose`);
        artifact.device('os', match[2]!.replace(/-/g, ' '));
        artifact.device('model', match[3]);
        artifact.device('build', match[4]);
      },
    },
    { name: 'shutdown_log', run: (artifact) => shutdownModule(root, artifact) },
  ]);
}

function shutdownModule(root: string, artifact: ArtifactRecorder): void {
  const place = SHUTDOWN_LOG_PLACES.find((p) => existsSync(join(root, p)));
  if (place === undefined) return artifact.missing('no shutdown.log in this sysdiagnose');
  const text = readFileSync(join(root, place), 'utf8');
  for (const entry of parseShutdownLog(text)) {
    for (const client of entry.clients) {
      const detections = clientDetections(artifact, client.path);
      const waits = client.waits > 1 ? `, waited for ${client.waits} times` : '';
      artifact.record(
        entry.at,
        place,
        `line ${entry.line}: pid ${client.pid} (${client.path}) delayed the shutdown${waits}`,
        detections,
      );
    }
  }
}

function clientDetections(artifact: ArtifactRecorder, path: string): Detection[] {
  const found: Detection[] = [];
  const byPath = artifact.matcher.filePath(path);
  if (byPath) found.push(byPath);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const byName = name === '' ? undefined : artifact.matcher.process(name);
  if (byName && byName.indicatorId !== byPath?.indicatorId) found.push(byName);
  const folder = UNUSUAL_PROCESS_FOLDERS.find((f) => path.startsWith(f));
  if (folder && found.length === 0)
    found.push({
      type: 'file-path',
      indicator: folder,
      indicatorId: `${HEURISTIC_SOURCE}:shutdown-unusual-folder`,
      source: HEURISTIC_SOURCE,
      malware: [],
      matched: path,
    });
  return found;
}

/** The sysdiagnose folder at `dir`, or the one sysdiagnose_* folder inside it. */
function findSysdiagnose(dir: string): string {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw RempartError.validation(`${dir}: no such folder`);
  }
  if (!stat.isDirectory())
    throw RempartError.validation(
      `${dir}: not a folder (extract the sysdiagnose archive first: tar -xzf sysdiagnose_….tar.gz)`,
    );
  const holds = (d: string) =>
    SHUTDOWN_LOG_PLACES.some((p) => existsSync(join(d, p))) || existsSync(join(d, 'system_logs.logarchive'));
  if (holds(dir)) return dir;
  const inside = readdirSync(dir).filter(
    (n) => n.startsWith('sysdiagnose_') && statSync(join(dir, n)).isDirectory(),
  );
  const found = inside.map((n) => join(dir, n)).filter(holds);
  if (found.length === 1) return found[0]!;
  if (found.length > 1)
    throw RempartError.validation(
      `${dir}: holds ${found.length} sysdiagnoses (${found.map((f) => relative(dir, f)).join(', ')}): name one`,
    );
  throw RempartError.validation(`${dir}: not a sysdiagnose (no system_logs.logarchive, no shutdown.log)`);
}
