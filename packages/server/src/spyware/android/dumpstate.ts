/**
 * The text of an Android bug report, as `dumpstate` writes it: a header (build, fingerprint,
 * kernel, the time of the capture), then sections, each opened by `------ TITLE (command) ------`
 * and closed by `------ 0.012s was the duration of 'TITLE' ------`, and inside the DUMPSYS
 * sections one block per system service, opened by `DUMP OF SERVICE name:`. `dumpsys` run alone
 * (androidqf's `dumpsys.txt`) writes the same service blocks.
 *
 * A report can be cut short, a section garbled or a service stuck, so every header ends the block
 * before it, whatever closed or did not close it, and every parser here reads what it can, returns
 * what it read and throws nothing: the modules decide whether too little was read.
 */

/** A section or a service block of the report. */
export interface DumpstateBlock {
  /** `section`: a `------ TITLE (command) ------` section; `service`: a `DUMP OF SERVICE name:` block. */
  kind: 'section' | 'service';
  /** The section's title, or the service's name. */
  title: string;
  /** The command or file in a section header's last parentheses; undefined for a service. */
  command: string | undefined;
  /** The header's line number (1-based). */
  line: number;
  /** The lines after the header, up to the next header or end marker, trailing separators left out. */
  lines: string[];
}

/** A report's text, split. */
export interface Dumpstate {
  /** The lines before the first section. */
  header: string[];
  blocks: DumpstateBlock[];
}

const SECTION = /^------ (.+) ------$/;
/** `------ 0.012s was the duration of 'X' ------`, and dumpsys' `--------- 0.004s was the duration of dumpsys x, ending at: …`. */
const DURATION = /^-{6,} [\d.]+s was the duration of /;
/** dumpsys names the priority it dumps a service at (CRITICAL, HIGH) before the name, since Android 9. */
const SERVICE = /^DUMP OF SERVICE (?:(?:CRITICAL|HIGH|NORMAL) )?(\S+):\s*$/;
const SEPARATOR = /^-{20,}$/;

/**
 * Splits a report's text into its header and blocks, in the order they appear. Never throws.
 *
 * @example
 *   parseDumpstate('== dumpstate: 2024-05-02 10:00:00\n------ SYSTEM PROPERTIES (getprop) ------\n[a]: [b]')
 *   // { header: ['== dumpstate: 2024-05-02 10:00:00'], blocks: [{ kind: 'section', title: 'SYSTEM PROPERTIES', command: 'getprop', line: 2, lines: ['[a]: [b]'] }] }
 */
export function parseDumpstate(text: string): Dumpstate {
  const header: string[] = [];
  const blocks: DumpstateBlock[] = [];
  let current: DumpstateBlock | undefined;
  // Lines after an end marker and before the next header belong to no block (dumpstate writes
  // nothing there but blank lines and separators).
  let open = false;
  const close = () => {
    if (current) while (current.lines.length > 0 && isFiller(current.lines.at(-1)!)) current.lines.pop();
    open = false;
  };
  splitLines(text).forEach((line, index) => {
    if (line.startsWith('------')) {
      if (DURATION.test(line)) return close();
      const section = line.startsWith('------ ') ? SECTION.exec(line) : null;
      if (section) {
        close();
        const { title, command } = splitTitle(section[1]!);
        current = { kind: 'section', title, command, line: index + 1, lines: [] };
        blocks.push(current);
        open = true;
        return;
      }
    } else if (line.startsWith('DUMP OF SERVICE ')) {
      const service = SERVICE.exec(line);
      if (service) {
        close();
        current = { kind: 'service', title: service[1]!, command: undefined, line: index + 1, lines: [] };
        blocks.push(current);
        open = true;
        return;
      }
    }
    if (current === undefined) header.push(line);
    else if (open) current.lines.push(line);
  });
  close();
  return { header, blocks };
}

/** The lines of `text`, whatever its line ends. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n|\r/);
}

function isFiller(line: string): boolean {
  return line.trim() === '' || SEPARATOR.test(line);
}

/**
 * `SHOW MAP 1 (init) (/system/bin/showmap -q 1)` → title `SHOW MAP 1 (init)`, command
 * `/system/bin/showmap -q 1`: the command is the last balanced parenthesised group at the end.
 */
function splitTitle(inner: string): { title: string; command: string | undefined } {
  if (!inner.endsWith(')')) return { title: inner.trim(), command: undefined };
  let depth = 0;
  for (let at = inner.length - 1; at >= 0; at--) {
    const c = inner[at];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) {
      const title = inner.slice(0, at).trim();
      return title === ''
        ? { title: inner.trim(), command: undefined }
        : { title, command: inner.slice(at + 1, -1).trim() };
    }
  }
  return { title: inner.trim(), command: undefined };
}

/** The first section whose title is one of `titles` (dumpstate renamed some over the releases). */
export function findSection(dump: Dumpstate, ...titles: string[]): DumpstateBlock | undefined {
  for (const title of titles) {
    const found = dump.blocks.find((b) => b.kind === 'section' && b.title === title);
    if (found) return found;
  }
  return undefined;
}

/**
 * The block of service `name`. A report dumps some services twice (at CRITICAL priority, then at
 * NORMAL): the longest of the blocks is the full one.
 */
export function findService(dump: Dumpstate, name: string): DumpstateBlock | undefined {
  let best: DumpstateBlock | undefined;
  for (const block of dump.blocks)
    if (block.kind === 'service' && block.title === name && (!best || block.lines.length > best.lines.length))
      best = block;
  return best;
}

/** The line number (1-based) of line `index` of a block's body. */
export function lineOf(block: DumpstateBlock, index: number): number {
  return block.line + 1 + index;
}

/** What the report's header says of the device and the capture. */
export interface DumpstateHeader {
  /** `== dumpstate: 2024-05-02 10:00:00`: when the report was taken (the phone's clock, read as UTC). */
  takenAt: Date | null;
  build?: string;
  fingerprint?: string;
  bootloader?: string;
  radio?: string;
  kernel?: string;
  formatVersion?: string;
}

const HEADER_FIELDS: Record<string, keyof Omit<DumpstateHeader, 'takenAt'>> = {
  Build: 'build',
  'Build fingerprint': 'fingerprint',
  Bootloader: 'bootloader',
  Radio: 'radio',
  Kernel: 'kernel',
  'Bugreport format version': 'formatVersion',
};

/** The fields of a report's header lines (`Build: …`, `Build fingerprint: '…'`, `Kernel: …`). */
export function parseHeader(lines: readonly string[]): DumpstateHeader {
  const header: DumpstateHeader = { takenAt: null };
  for (const line of lines) {
    const taken = /^== dumpstate: (.+)$/.exec(line);
    if (taken) {
      header.takenAt ??= parseDumpTime(taken[1]!.trim());
      continue;
    }
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    const key = HEADER_FIELDS[line.slice(0, colon)];
    const value = line
      .slice(colon + 2)
      .trim()
      .replace(/^'(.*)'$/, '$1');
    if (key && value !== '' && header[key] === undefined) header[key] = value;
  }
  return header;
}

/** A system property, as `getprop` lists them: `[name]: [value]`. */
export interface Property {
  name: string;
  value: string;
  /** The line number (1-based) of the line it starts on. */
  line: number;
}

const PROPERTY = /^\[([^\]]+)\]: \[(.*)\]$/;
const PROPERTY_START = /^\[([^\]]+)\]: \[(.*)$/;
/** A value written over several lines is closed within a few; past that the line was cut short. */
const MAX_VALUE_LINES = 50;

/**
 * The properties of `getprop` output, a value over several lines joined with `\n`. Lines of other
 * shapes and a value never closed are passed over.
 *
 * @example
 *   parseProperties(['[ro.product.model]: [Pixel 6]'])
 *   // [{ name: 'ro.product.model', value: 'Pixel 6', line: 1 }]
 */
export function parseProperties(lines: readonly string[], firstLine = 1): Property[] {
  const properties: Property[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trimEnd();
    const whole = PROPERTY.exec(line);
    if (whole) {
      properties.push({ name: whole[1]!, value: whole[2]!, line: firstLine + index });
      continue;
    }
    const start = PROPERTY_START.exec(line);
    if (!start) continue;
    const value = [start[2]!];
    for (let next = index + 1; next < lines.length && next <= index + MAX_VALUE_LINES; next++) {
      const more = lines[next]!.trimEnd();
      if (PROPERTY_START.test(more)) break;
      if (more.endsWith(']')) {
        value.push(more.slice(0, -1));
        properties.push({ name: start[1]!, value: value.join('\n'), line: firstLine + index });
        index = next;
        break;
      }
      value.push(more);
    }
  }
  return properties;
}

/** One row of `ps`. */
export interface ProcessRow {
  pid: number;
  ppid: number | undefined;
  /** The thread's id, when `ps` listed threads (`-T`); equal to `pid` for a process' main thread. */
  tid: number | undefined;
  user: string | undefined;
  /** The SELinux context (`-Z`). */
  label: string | undefined;
  /** The last column: the process' or thread's name, or its command line. */
  name: string;
  line: number;
}

export interface ProcessTable {
  /** The header row's columns. */
  columns: string[];
  rows: ProcessRow[];
  /** Rows after the header that could not be read (cut short, no process id). */
  unreadable: number;
}

/** A process' state, as `ps` prints it: running, sleeping, disk sleep, zombie, stopped… */
const PROCESS_STATE = /^[RSDZTtWXxKPI]$/;
/** The names `ps` gives its last column: toybox's NAME, CMD, CMDLINE, ARGS; procps' COMMAND. */
const NAME_COLUMNS = new Set(['NAME', 'CMD', 'CMDLINE', 'ARGS', 'COMMAND']);

/**
 * The rows of `ps` output: toybox's (`ps -A -T -Z -O …`, Android 8 and later) and toolbox's
 * (`ps -t -p -P`, before), found by their header row, whose last column is the name. Every
 * column before the name is one word, so a row is split into as many words and the rest is the
 * name (thread names hold spaces). Undefined when there is no header row.
 */
export function parseProcesses(lines: readonly string[], firstLine = 1): ProcessTable | undefined {
  const headerAt = lines.findIndex((line) => {
    const words = line.trim().split(/\s+/);
    return words.includes('PID') && NAME_COLUMNS.has(words.at(-1)!);
  });
  if (headerAt === -1) return undefined;
  const columns = lines[headerAt]!.trim().split(/\s+/);
  const at = (name: string) => {
    const index = columns.indexOf(name);
    return index === -1 ? undefined : index;
  };
  const pidAt = at('PID')!;
  const [ppidAt, tidAt, userAt, labelAt] = [at('PPID'), at('TID'), at('USER'), at('LABEL')];
  const hasState = columns.includes('S');
  const integer = (word: string | undefined) =>
    word !== undefined && /^\d{1,10}$/.test(word) ? Number(word) : undefined;
  const rows: ProcessRow[] = [];
  let unreadable = 0;
  for (let index = headerAt + 1; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    const pid = integer(words[pidAt]);
    // toolbox leaves the policy column (PCY) blank for kernel threads: a row one word short has
    // lost a column after the ids, and its name is its last word.
    if (words.length < columns.length - 1 || pid === undefined) {
      unreadable++;
      continue;
    }
    let tail = words.slice(columns.length - 1);
    // toolbox prints the process state after PC under no header of its own.
    if (!hasState && tail.length > 1 && PROCESS_STATE.test(tail[0]!)) tail = tail.slice(1);
    rows.push({
      pid,
      ppid: ppidAt === undefined ? undefined : integer(words[ppidAt]),
      tid: tidAt === undefined ? undefined : integer(words[tidAt]),
      user: userAt === undefined ? undefined : words[userAt],
      label: labelAt === undefined ? undefined : words[labelAt],
      name: tail.length > 0 ? tail.join(' ') : words.at(-1)!,
      line: firstLine + index,
    });
  }
  return { columns, rows, unreadable };
}

const DUMP_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * `2024-05-02 10:00:00` (and `.123`): the phone's local time, as Android prints it everywhere in a
 * report with no zone. Read as UTC, since the report does not say the zone: the timeline keeps the
 * phone's wall clock. Null when it is not such a time, or no real date.
 */
export function parseDumpTime(text: string): Date | null {
  const m = DUMP_TIME.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC rolls 2024-02-31 over to March: such a time is no time.
  if (at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59)
    return null;
  return at;
}

const DURATION_PARTS = /^([+-])?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Android's printed durations (`TimeUtils.formatDuration`): `+1d2h3m4s5ms`, `-5m2s123ms`, `+0ms`,
 * in milliseconds, the sign kept. Undefined when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PARTS.exec(text.trim());
  if (!m || m.slice(2).every((part) => part === undefined)) return undefined;
  const [days, hours, minutes, seconds, ms] = m.slice(2).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const total = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + ms;
  if (!Number.isFinite(total)) return undefined;
  return m[1] === '-' ? -total : total;
}
