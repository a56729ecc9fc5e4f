/**
 * The dumpsys services a spyware check reads, as their `dump()` methods print them (AOSP
 * PackageManagerService / ComputerEngine, AppOpsService, AccessibilityManagerService,
 * SQLiteDebug): which apps are installed, from where and when; which listen for incoming text
 * messages and calls; which used the camera, the microphone or the messages and when; which may
 * read the screen as an accessibility service. The layouts changed over the Android releases; each
 * parser reads the ones of Android 7 to 14 by their indentation and keys rather than by line
 * position, passes over lines it does not know, and throws nothing.
 */
import { parseDumpTime, parseDuration } from './dumpstate.js';

/** An app of `dumpsys package`'s `Packages:` list. */
export interface PackageEntry {
  name: string;
  /** The line number (1-based) of its `Package [name] (…):` line. */
  line: number;
  versionName: string | undefined;
  versionCode: string | undefined;
  /** Where its APK lies: `/data/app/…` for an installed app, `/system/…` for a system one. */
  codePath: string | undefined;
  /** The app that installed it; undefined when none did (`null`: a system app, or adb). */
  installer: string | undefined;
  firstInstallTime: Date | null;
  lastUpdateTime: Date | null;
  /** `pkgFlags=[ SYSTEM HAS_CODE … ]` (`flags=` before Android 11). */
  flags: string[];
}

/** An app's field: `key=value`, the value up to the end of the line (`versionName`, `codePath`). */
function restOf(line: string, key: string): string | undefined {
  const at = fieldAt(line, key);
  return at === undefined ? undefined : line.slice(at).trim();
}

/** An app's field: `key=value`, the value one word (`installerPackageName`, `versionCode`). */
function wordOf(line: string, key: string): string | undefined {
  const at = fieldAt(line, key);
  if (at === undefined) return undefined;
  const word = /^\S*/.exec(line.slice(at))![0];
  return word === '' ? undefined : word;
}

/** Where the value of `key=` starts on the line, the key standing alone (not `xkey=`). */
function fieldAt(line: string, key: string): number | undefined {
  let from = 0;
  for (;;) {
    const at = line.indexOf(`${key}=`, from);
    if (at === -1) return undefined;
    const before = at === 0 ? ' ' : line[at - 1]!;
    if (/[\s{,]/.test(before)) return at + key.length + 1;
    from = at + 1;
  }
}

const PACKAGE_LINE = /^\s+Package \[([^\]\s]+)\] \([^)]*\):/;
const TIME_VALUE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

/**
 * The apps of `dumpsys package`'s `Packages:` list (not those of `Hidden system packages:`, which
 * are the factory versions of updated system apps), or undefined when the output has no such list.
 * An app whose block was cut short keeps what was read of it.
 *
 * @example
 *   parsePackageList(['Packages:', '  Package [com.x] (1a2b):', '    installerPackageName=null'])
 *   // [{ name: 'com.x', line: 2, installer: undefined, flags: [], … }]
 */
export function parsePackageList(lines: readonly string[], firstLine = 1): PackageEntry[] | undefined {
  let inList = false;
  let found = false;
  const packages: PackageEntry[] = [];
  let current: PackageEntry | undefined;
  lines.forEach((line, index) => {
    // The output's parts are headed by a line at the margin (`Packages:`, `Shared users:`…).
    if (line !== '' && !/^\s/.test(line)) {
      inList = line.trimEnd() === 'Packages:';
      found ||= inList;
      current = undefined;
      return;
    }
    if (!inList) return;
    const start = PACKAGE_LINE.exec(line);
    if (start) {
      current = {
        name: start[1]!,
        line: firstLine + index,
        versionName: undefined,
        versionCode: undefined,
        codePath: undefined,
        installer: undefined,
        firstInstallTime: null,
        lastUpdateTime: null,
        flags: [],
      };
      packages.push(current);
      return;
    }
    if (!current) return;
    current.versionName ??= restOf(line, 'versionName');
    current.versionCode ??= wordOf(line, 'versionCode');
    current.codePath ??= restOf(line, 'codePath');
    const installer = wordOf(line, 'installerPackageName');
    if (installer !== undefined && installer !== 'null') current.installer ??= installer;
    // Android 11 moved firstInstallTime under each user (`User 0: … firstInstallTime=`): the first
    // one met is the owner's.
    current.firstInstallTime ??= timeOf(line, 'firstInstallTime');
    current.lastUpdateTime ??= timeOf(line, 'lastUpdateTime');
    if (current.flags.length === 0) {
      const flags = /^\s+(?:pkgFlags|flags)=\[([^\]]*)\]/.exec(line);
      if (flags) current.flags = flags[1]!.trim().split(/\s+/).filter(Boolean);
    }
  });
  return found ? packages : undefined;
}

function timeOf(line: string, key: string): Date | null {
  const at = fieldAt(line, key);
  if (at === undefined) return null;
  const time = TIME_VALUE.exec(line.slice(at));
  return time ? parseDumpTime(time[0]) : null;
}

/** A broadcast receiver registered in the manifest of an app, for one action. */
export interface ReceiverEntry {
  /** The intent action (or, in the MIME and scheme tables, the type or scheme) it is filed under. */
  action: string;
  /** `package/class`, the class maybe relative (`com.x/.SmsReceiver`). */
  component: string;
  package: string;
  line: number;
}

const RECEIVER_KEY = /^\s{3,}(\S+):$/;
const RECEIVER_COMPONENT = /^\s+[0-9a-f]+ ([\w.$]+)\/([\w.$]+)(?:\s|$)/;
const RECEIVER_ACTION = /^\s+Action: "([^"]+)"/;

/**
 * The receivers of `dumpsys package`'s `Receiver Resolver Table:`, for each action they listen to:
 * the key they are filed under (`android.provider.Telephony.SMS_RECEIVED:` in `Non-Data Actions:`)
 * and the `Action: "…"` lines of their filter (a filter with a data scheme, such as data SMS', is
 * filed under its scheme). Undefined when the output has no such table.
 */
export function parseReceivers(lines: readonly string[], firstLine = 1): ReceiverEntry[] | undefined {
  let inTable = false;
  let found = false;
  let key: string | undefined;
  let component: { name: string; package: string } | undefined;
  const receivers = new Map<string, ReceiverEntry>();
  const add = (action: string, line: number) => {
    if (component && !receivers.has(`${action} ${component.name}`))
      receivers.set(`${action} ${component.name}`, {
        action,
        component: component.name,
        package: component.package,
        line,
      });
  };
  lines.forEach((line, index) => {
    if (line !== '' && !/^\s/.test(line)) {
      inTable = line.trimEnd() === 'Receiver Resolver Table:';
      found ||= inTable;
      [key, component] = [undefined, undefined];
      return;
    }
    if (!inTable) return;
    const keyLine = RECEIVER_KEY.exec(line);
    if (keyLine) {
      [key, component] = [keyLine[1]!, undefined];
      return;
    }
    const componentLine = RECEIVER_COMPONENT.exec(line);
    if (componentLine) {
      component = { name: `${componentLine[1]!}/${componentLine[2]!}`, package: componentLine[1]! };
      if (key !== undefined) add(key, firstLine + index);
      return;
    }
    const action = RECEIVER_ACTION.exec(line);
    if (action) add(action[1]!, firstLine + index);
  });
  return found ? [...receivers.values()] : undefined;
}

/** An operation (camera, microphone, messages…) an app was allowed or refused. */
export interface AppopEntry {
  /** The uid as printed: `u0a123`, `1000`. */
  uid: string | undefined;
  package: string;
  /** AppOpsManager's name of the operation: `CAMERA`, `RECORD_AUDIO`, `READ_SMS`… */
  op: string;
  /** `allow`, `ignore`, `deny`, `default`, `foreground`, when printed. */
  mode: string | undefined;
  /** The app's last use of the operation, when printed. */
  lastAccess: Date | null;
  /** The last time the app was refused it, when printed. */
  lastReject: Date | null;
  line: number;
}

const APPOPS_UID = /^\s+Uid (\S+?):/;
const APPOPS_PACKAGE = /^\s+Package (\S+?):\s*$/;
const APPOPS_OP = /^\s+([A-Z][A-Z0-9_]+)(?: \(([^)]*)\))?:(.*)$/;
/** Android 11 and later: `Access: [fg-s] 2024-05-02 10:00:00.123 (-1h2m) duration=+1ms`. */
const APPOPS_EVENT = /^\s+(Access|Reject): (?:\[[^\]]*\] )?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)/;
/** Before Android 11: `time=+1d2h ago`, `rejectTime=+5m ago`, relative to the dump. */
const APPOPS_RELATIVE = /(?:^|[\s;])(time|rejectTime)=([+-]?[\dhdms]+) ago/g;

/**
 * The operations of `dumpsys appops`, per uid and package, with their mode and last access and
 * rejection. Android before 11 prints these times relative to the dump (`time=+1d2h ago`): they are
 * placed from `takenAt`, the report's time, and left null without it.
 *
 * @example
 *   parseAppops(['  Uid u0a1:', '    Package com.x:', '      CAMERA (allow):', '        Access: [top-s] 2024-05-02 10:00:00.000 (-1m)'], 1, null)
 *   // [{ uid: 'u0a1', package: 'com.x', op: 'CAMERA', mode: 'allow', lastAccess: 2024-05-02T10:00:00Z, lastReject: null, line: 3 }]
 */
export function parseAppops(lines: readonly string[], firstLine: number, takenAt: Date | null): AppopEntry[] {
  const entries: AppopEntry[] = [];
  let uid: string | undefined;
  let pkg: string | undefined;
  let op: AppopEntry | undefined;
  const later = (a: Date | null, b: Date | null) => (a === null || (b !== null && b > a) ? b : a);
  const relative = (text: string) => {
    for (const m of text.matchAll(APPOPS_RELATIVE)) {
      const ms = parseDuration(m[2]!);
      if (!op || ms === undefined || takenAt === null) continue;
      const at = new Date(takenAt.getTime() - Math.abs(ms));
      if (!Number.isFinite(at.getTime())) continue;
      if (m[1] === 'time') op.lastAccess = later(op.lastAccess, at);
      else op.lastReject = later(op.lastReject, at);
    }
  };
  lines.forEach((line, index) => {
    const uidLine = APPOPS_UID.exec(line);
    if (uidLine) {
      [uid, pkg, op] = [uidLine[1]!, undefined, undefined];
      return;
    }
    const pkgLine = APPOPS_PACKAGE.exec(line);
    if (pkgLine) {
      [pkg, op] = [pkgLine[1]!, undefined];
      return;
    }
    if (line !== '' && !/^\s/.test(line)) {
      [uid, pkg, op] = [undefined, undefined, undefined];
      return;
    }
    if (pkg === undefined) return;
    const opLine = APPOPS_OP.exec(line);
    if (opLine) {
      const rest = opLine[3]!;
      const mode = opLine[2]?.split(/[\s/]/)[0] ?? /(?:^|[\s;])mode=(\w+)/.exec(rest)?.[1];
      op = {
        uid,
        package: pkg,
        op: opLine[1]!,
        mode: mode === '' ? undefined : mode,
        lastAccess: null,
        lastReject: null,
        line: firstLine + index,
      };
      entries.push(op);
      relative(rest);
      return;
    }
    if (!op) return;
    const event = APPOPS_EVENT.exec(line);
    if (event) {
      const at = parseDumpTime(event[2]!);
      if (event[1] === 'Access') op.lastAccess = later(op.lastAccess, at);
      else op.lastReject = later(op.lastReject, at);
      return;
    }
    relative(line);
  });
  return entries;
}

/** An accessibility service: an app that can read the screen and act on it for the user. */
export interface AccessibilityEntry {
  /** `package/class`. */
  component: string;
  package: string;
  /** What the dump says of it: `enabled`, `bound`, `binding`, `crashed`, `installed`. */
  states: string[];
  /** The line it was first named on. */
  line: number;
}

const ACCESSIBILITY_LIST = /(enabled|bound|binding|crashed|installed) services\s*:/i;
/** `com.x/com.x.Service`, `com.x/.Service`: an app's component, as Android names them. */
const COMPONENT = /\b([a-zA-Z]\w*(?:\.\w+)+)\/(\.?[\w$]+(?:\.[\w$]+)*)/g;

/**
 * The components (`package/class`) named in `text`, as settings and dumps list them.
 *
 * @example
 *   componentsIn('com.x/.A:com.y/com.y.B') // [{ component: 'com.x/.A', package: 'com.x' }, { component: 'com.y/com.y.B', package: 'com.y' }]
 */
export function componentsIn(text: string): { component: string; package: string }[] {
  return [...text.matchAll(COMPONENT)].map((m) => ({ component: `${m[1]!}/${m[2]!}`, package: m[1]! }));
}

/**
 * The accessibility services `dumpsys accessibility` names in its `Enabled services:{…}`,
 * `Bound services:{…}` and `installed services: {…}` lists (on one line, or one a line up to the
 * closing brace).
 */
export function parseAccessibility(lines: readonly string[], firstLine = 1): AccessibilityEntry[] {
  const byComponent = new Map<string, AccessibilityEntry>();
  let state: string | undefined;
  let depth = 0;
  lines.forEach((line, index) => {
    const list = ACCESSIBILITY_LIST.exec(line);
    if (list) {
      state = list[1]!.toLowerCase();
      depth = 0;
    }
    const listed = state;
    if (listed === undefined) return;
    const text = list ? line.slice(list.index + list[0].length) : line;
    for (const { component, package: pkg } of componentsIn(text)) {
      const entry = byComponent.get(component);
      if (!entry)
        byComponent.set(component, { component, package: pkg, states: [listed], line: firstLine + index });
      else if (!entry.states.includes(listed)) entry.states.push(listed);
    }
    // A list goes on over the next lines while its braces are open.
    for (const c of text) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth <= 0) state = undefined;
  });
  return [...byComponent.values()];
}

/** A statement `dumpsys dbinfo` lists among a database's recent operations. */
export interface DbOperation {
  at: Date | null;
  /** The process that ran it, from `** Database info for pid 1234 [com.x] **`. */
  process: string | undefined;
  /** The database file, from `Connection pool for /data/…/x.db:`. */
  database: string | undefined;
  /** `executeForCursorWindow took 1ms - succeeded, sql="SELECT …", path=…`. */
  statement: string;
  line: number;
}

const DB_PROCESS = /^\*\* Database info for pid \d+ \[(.*)\] \*\*$/;
const DB_POOL = /^Connection pool for (.+):$/;
const DB_OPERATION = /^\s+\d+: \[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\]\s*(.*)$/;

/** The recent operations of every database `dumpsys dbinfo` lists. */
export function parseDbinfo(lines: readonly string[], firstLine = 1): DbOperation[] {
  const operations: DbOperation[] = [];
  let process: string | undefined;
  let database: string | undefined;
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    const processLine = DB_PROCESS.exec(trimmed);
    if (processLine) {
      [process, database] = [processLine[1]!, undefined];
      return;
    }
    const pool = DB_POOL.exec(trimmed);
    if (pool) {
      database = pool[1]!;
      return;
    }
    const operation = DB_OPERATION.exec(line);
    if (operation)
      operations.push({
        at: parseDumpTime(operation[1]!),
        process,
        database,
        statement: operation[2]!,
        line: firstLine + index,
      });
  });
  return operations;
}

/** An app installed, uninstalled or updated, as the battery statistics noted it. */
export interface PackageEvent {
  event: 'installed' | 'uninstalled' | 'updated';
  package: string;
  /** When: the history's time of the event, or the start of the day the daily stats noted it in. */
  at: Date | null;
  /** For an update noted by the daily stats, the version it brought; the end of that day. */
  version?: string;
  until?: Date | null;
  line: number;
}

/** `2024-05-01-12-05-39`, as the battery statistics write times (and the usual form). */
function batteryTime(text: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})$/.exec(text);
  return parseDumpTime(m ? `${m[1]!} ${m[2]!}:${m[3]!}:${m[4]!}` : text);
}

const HISTORY_START = /^\s*Battery History\b/;
/** Each history line starts with its time since the history began: `0`, `+1h02m03s456ms`. */
const HISTORY_OFFSET = /^\s*(0|[+-][\dhdms]+)\s/;
/** The history's clock: `RESET:TIME: 2024-05-01-12-05-39`, and `TIME: …` when the clock changed. */
const HISTORY_CLOCK = /(?:^|[\s:])TIME: (\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})/;
const HISTORY_PACKAGE = /(?:^|\s)(pkginst|pkgunin)=[^"\s]*"([^"]+)"/g;

/**
 * The installs and uninstalls of `dumpsys batterystats`' `Battery History`
 * (`+1h02m03s456ms (2) 099 pkginst=u0a230:"com.x"`): they outlive the app, so an app the spyware
 * removed when it left is still there. Each is dated from the history's last clock line before it.
 */
export function parseBatteryHistory(lines: readonly string[], firstLine = 1): PackageEvent[] {
  const events: PackageEvent[] = [];
  const start = lines.findIndex((line) => HISTORY_START.test(line));
  if (start === -1) return events;
  let clock: { at: Date; offset: number } | undefined;
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index]!;
    const offsetText = HISTORY_OFFSET.exec(line)?.[1];
    if (offsetText === undefined) {
      // The history ends at the first line that is none of its entries.
      if (line.trim() === '') continue;
      break;
    }
    const offset = offsetText === '0' ? 0 : parseDuration(offsetText);
    const set = HISTORY_CLOCK.exec(line);
    const at = set ? batteryTime(set[1]!) : null;
    if (at !== null && offset !== undefined) clock = { at, offset };
    for (const m of line.matchAll(HISTORY_PACKAGE)) {
      const when =
        clock && offset !== undefined ? new Date(clock.at.getTime() + offset - clock.offset) : null;
      events.push({
        event: m[1] === 'pkginst' ? 'installed' : 'uninstalled',
        package: m[2]!,
        at: when && Number.isFinite(when.getTime()) ? when : null,
        line: firstLine + index,
      });
    }
  }
  return events;
}

const DAILY_CURRENT = /^\s*Current start time: (\S+)/;
const DAILY_DAY = /^\s*Daily from (\S+) to (\S+):/;
const DAILY_UPDATE = /^\s*Update (\S+) vers=(\S+)/;

/**
 * The app updates (and installs: an install is an update from nothing) of `dumpsys batterystats`'
 * `Daily stats`, `Update com.x vers=12` under the day they happened in.
 */
export function parseBatteryDaily(lines: readonly string[], firstLine = 1): PackageEvent[] {
  const events: PackageEvent[] = [];
  let day: { from: Date | null; until: Date | null } | undefined;
  lines.forEach((line, index) => {
    const current = DAILY_CURRENT.exec(line);
    if (current) {
      day = { from: batteryTime(current[1]!), until: null };
      return;
    }
    const past = DAILY_DAY.exec(line);
    if (past) {
      day = { from: batteryTime(past[1]!), until: batteryTime(past[2]!) };
      return;
    }
    const update = DAILY_UPDATE.exec(line);
    if (update && day)
      events.push({
        event: 'updated',
        package: update[1]!,
        at: day.from,
        version: update[2]!,
        until: day.until,
        line: firstLine + index,
      });
  });
  return events;
}

const LOGCAT_TIME = /^(?:(\d{4})-)?(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})\s/;

/**
 * A logcat line's time (`-v threadtime`: `05-02 10:00:00.123  1000  1234  1234 I Tag: …`, and
 * with `-v year` the year first). logcat leaves out the year by default: it is the report's, or the
 * year before for a day after the report's (a log that spans New Year). Null without a year.
 */
export function logcatTime(line: string, takenAt: Date | null): Date | null {
  const m = LOGCAT_TIME.exec(line);
  if (!m) return null;
  const rest = `${m[2]!}-${m[3]!} ${m[4]!}:${m[5]!}:${m[6]!}.${m[7]!}`;
  if (m[1] !== undefined) return parseDumpTime(`${m[1]}-${rest}`);
  if (takenAt === null) return null;
  const year = takenAt.getUTCFullYear();
  const at = parseDumpTime(`${year}-${rest}`);
  // A day more than a day past the report's is last year's.
  if (at !== null && at.getTime() > takenAt.getTime() + 86_400_000)
    return parseDumpTime(`${year - 1}-${rest}`);
  return at;
}
