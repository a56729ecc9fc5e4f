import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findSection,
  findService,
  parseDumpstate,
  parseDumpTime,
  parseDuration,
  parseHeader,
  parseProcesses,
  parseProperties,
  splitLines,
} from './dumpstate.js';

const REPORT = `========================================================
== dumpstate: 2024-05-02 10:15:30
========================================================

Build: TQ1A.230205.002
Build fingerprint: 'google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys'
Kernel: Linux version 5.10.149-android13-4 #1 SMP PREEMPT
------ SYSTEM PROPERTIES (getprop) ------
[ro.product.model]: [Pixel 6]
------ 0.052s was the duration of 'SYSTEM PROPERTIES' ------
stray line between sections
------ SHOW MAP 1 (init) (/system/bin/showmap -q 1) ------
map
------ DUMPSYS CRITICAL (/system/bin/dumpsys) ------
-------------------------------------------------------------------------------
DUMP OF SERVICE CRITICAL meminfo:
short
--------- 0.004s was the duration of dumpsys meminfo, ending at: 2024-05-02 10:15:31
------ DUMPSYS (/system/bin/dumpsys) ------
-------------------------------------------------------------------------------
DUMP OF SERVICE meminfo:
longer
than the critical one

-------------------------------------------------------------------------------
DUMP OF SERVICE package:
Packages:
------ CHECKIN (cut short`;

describe('a bug report text', () => {
  const dump = parseDumpstate(REPORT);

  it('splits into its header, its sections and the dumpsys services in the order they come', () => {
    expect(dump.header).toContain('Build: TQ1A.230205.002');
    expect(dump.blocks.map((b) => [b.kind, b.title, b.command])).toEqual([
      ['section', 'SYSTEM PROPERTIES', 'getprop'],
      ['section', 'SHOW MAP 1 (init)', '/system/bin/showmap -q 1'],
      ['section', 'DUMPSYS CRITICAL', '/system/bin/dumpsys'],
      ['service', 'meminfo', undefined],
      ['section', 'DUMPSYS', '/system/bin/dumpsys'],
      ['service', 'meminfo', undefined],
      ['service', 'package', undefined],
    ]);
  });

  it('ends a block at its end marker or at the next header, whichever comes first', () => {
    expect(findSection(dump, 'SYSTEM PROPERTIES')?.lines).toEqual(['[ro.product.model]: [Pixel 6]']);
    // The separator before the next service and the blank line are no part of the block.
    expect(dump.blocks[5]?.lines).toEqual(['longer', 'than the critical one']);
    // A header cut short is a line of the block it falls in.
    expect(findService(dump, 'package')?.lines).toEqual(['Packages:', '------ CHECKIN (cut short']);
  });

  it('gives a service dumped twice by its full block, and each block its line number', () => {
    expect(findService(dump, 'meminfo')?.lines).toHaveLength(2);
    expect(findSection(dump, 'SYSTEM PROPERTIES')?.line).toBe(8);
    expect(findSection(dump, 'THERMAL', 'SHOW MAP 1 (init)')?.title).toBe('SHOW MAP 1 (init)');
    expect(findService(dump, 'wifi')).toBeUndefined();
  });

  it('reads the header: when the report was taken, the build, its fingerprint and the kernel', () => {
    expect(parseHeader(dump.header)).toEqual({
      takenAt: new Date('2024-05-02T10:15:30Z'),
      build: 'TQ1A.230205.002',
      fingerprint: 'google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys',
      kernel: 'Linux version 5.10.149-android13-4 #1 SMP PREEMPT',
    });
    expect(parseHeader(['nothing here'])).toEqual({ takenAt: null });
  });

  it('splits lines whatever their ends', () => {
    expect(splitLines('a\r\nb\nc\rd')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('getprop output', () => {
  it('gives each property with its line, a value over several lines joined', () => {
    const lines = [
      '[ro.product.model]: [Pixel 6]',
      'garbage',
      '[persist.sys.motd]: [first',
      'second]',
      '[empty]: []',
      '[cut]: [never closed',
      '[ro.build.id]: [TQ1A]',
    ];
    expect(parseProperties(lines, 10)).toEqual([
      { name: 'ro.product.model', value: 'Pixel 6', line: 10 },
      { name: 'persist.sys.motd', value: 'first\nsecond', line: 12 },
      { name: 'empty', value: '', line: 14 },
      { name: 'ro.build.id', value: 'TQ1A', line: 16 },
    ]);
  });
});

describe('ps output', () => {
  it('reads toybox rows with threads, a thread name with spaces kept whole', () => {
    const table = parseProcesses([
      'LABEL                          USER           PID   TID  PPID        VSZ    RSS WCHAN            ADDR S PRI  NI RTPRIO SCH  PCY     TIME CMD',
      'u:r:init:s0                    root             1     1     0   10904020  12440 do_epoll_wait       0 S  19   0      -   0   fg 00:00:04 init',
      'u:r:untrusted_app:s0:c213,c256 u0_a213       4321  4340   812   16829484 182040 futex_wait_queue    0 S  20   0      -   0   ta 00:00:00 Jit thread pool',
      'u:r:untrusted_app:s0 u0_a213 4321',
    ]);
    expect(table?.rows).toEqual([
      { pid: 1, ppid: 0, tid: 1, user: 'root', label: 'u:r:init:s0', name: 'init', line: 2 },
      {
        pid: 4321,
        ppid: 812,
        tid: 4340,
        user: 'u0_a213',
        label: 'u:r:untrusted_app:s0:c213,c256',
        name: 'Jit thread pool',
        line: 3,
      },
    ]);
    expect(table?.unreadable).toBe(1);
  });

  it('reads toolbox rows of Android 7 and before, whose name is the command path', () => {
    const table = parseProcesses(
      [
        'USER      PID   PPID  VSIZE  RSS   WCHAN              PC  NAME',
        'root      1     0     9108   1204  SyS_epoll_ 0000000000 S /init',
        'shell     6001  1     4212   980   hrtimer_na 0000000000 S /data/local/tmp/dropbox',
        'root      2     0     0      0               0000000000 S kthreadd',
      ],
      100,
    );
    expect(table?.rows.map((r) => [r.pid, r.ppid, r.tid, r.user, r.name, r.line])).toEqual([
      [1, 0, undefined, 'root', '/init', 101],
      [6001, 1, undefined, 'shell', '/data/local/tmp/dropbox', 102],
      [2, 0, undefined, 'root', 'kthreadd', 103],
    ]);
  });

  it('is nothing without a header row', () => {
    expect(parseProcesses(['1 root init', 'garbage'])).toBeUndefined();
  });
});

describe('Android times', () => {
  it('reads a printed time as the phone’s wall clock, refusing impossible dates', () => {
    expect(parseDumpTime('2024-05-02 10:15:30')).toEqual(new Date('2024-05-02T10:15:30Z'));
    expect(parseDumpTime('2024-05-02 10:15:30.12')).toEqual(new Date('2024-05-02T10:15:30.120Z'));
    expect(parseDumpTime('2024-02-30 10:15:30')).toBeNull();
    expect(parseDumpTime('2024-05-02 25:15:30')).toBeNull();
    expect(parseDumpTime('yesterday')).toBeNull();
  });

  it('reads a printed duration, with its sign', () => {
    expect(parseDuration('+1d2h3m4s5ms')).toBe(((26 * 60 + 3) * 60 + 4) * 1000 + 5);
    expect(parseDuration('-5m2s123ms')).toBe(-(5 * 60 + 2) * 1000 - 123);
    expect(parseDuration('+0ms')).toBe(0);
    expect(parseDuration('+')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });
});

/** Lines that look like a report's: headers, markers, properties, ps rows, and their pieces. */
const reportLine = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '------ SYSTEM PROPERTIES (getprop) ------',
    '------ PROCESSES AND THREADS (ps -A -T) ------',
    '------ ((( ------',
    '------ ) ------',
    '------  ------',
    "------ 0.1s was the duration of 'X' ------",
    '--------- 0.1s was the duration of dumpsys x, ending at: now',
    'DUMP OF SERVICE package:',
    'DUMP OF SERVICE CRITICAL :',
    'DUMP OF SERVICE ',
    '-'.repeat(79),
    '== dumpstate: 2024-13-45 99:99:99',
    'Build: ',
    '[a]: [',
    '[a]: [b]',
    ']',
    'USER PID PPID NAME',
    'LABEL USER PID TID PPID CMD',
    'root 1 0 init',
  ),
  fc
    .tuple(fc.constantFrom('------ ', 'DUMP OF SERVICE ', '[', 'USER PID '), fc.string({ maxLength: 30 }))
    .map(([a, b]) => a + b),
);

describe('the report parsers, on any text', () => {
  it('never throw, and every block they give starts at a header line', () => {
    fc.assert(
      fc.property(fc.array(reportLine, { maxLength: 60 }), (lines) => {
        const text = lines.join('\n');
        const dump = parseDumpstate(text);
        const all = splitLines(text);
        for (const block of dump.blocks) {
          const header = all[block.line - 1]!;
          expect(header.startsWith('------ ') || header.startsWith('DUMP OF SERVICE ')).toBe(true);
          parseProperties(block.lines);
          parseProcesses(block.lines);
        }
        parseHeader(dump.header);
        parseProperties(all);
        parseProcesses(all);
      }),
      { numRuns: 500 },
    );
  });

  it('never throw on a time or duration, whatever the text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const at = parseDumpTime(text);
        expect(at === null || Number.isFinite(at.getTime())).toBe(true);
        const ms = parseDuration(text);
        expect(ms === undefined || Number.isFinite(ms)).toBe(true);
      }),
    );
  });

  it('keep their pace on large and hostile input', () => {
    const hostile = [
      '------ ' + '('.repeat(50_000) + ' ------',
      '------ ' + '-'.repeat(50_000),
      'DUMP OF SERVICE ' + 'a'.repeat(50_000),
      '[' + 'a'.repeat(50_000) + ']: [' + ']'.repeat(50_000),
      ...Array.from({ length: 50_000 }, (_, i) => `[p${i}]: [${i}`),
      'USER PID PPID NAME',
      ...Array.from({ length: 50_000 }, (_, i) => `u ${i} 1 ${'x '.repeat(20)}`),
    ].join('\n');
    const started = performance.now();
    const dump = parseDumpstate(hostile);
    parseProperties(dump.blocks[0]?.lines ?? []);
    parseProperties(splitLines(hostile));
    parseProcesses(splitLines(hostile));
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
