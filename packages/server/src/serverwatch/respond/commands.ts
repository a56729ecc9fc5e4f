/**
 * How the blocking responder runs its commands: `execFile` with an argv array, never a shell, so
 * that no value (an address, a jail's name) can ever be read as shell syntax. The runner is
 * injected: the service uses `execFileRunner()`, tests run the real `nft` inside a throwaway
 * network namespace through a prefix (`nsenter --net=/proc/<pid>/ns/net`).
 *
 * A runner never throws: a program that is missing, fails, or outlives its timeout is a result
 * with `ok: false` and what went wrong, for the responder to report.
 *
 * @example
 *   const run = execFileRunner({ prefix: ['nsenter', `--net=/proc/${pid}/ns/net`] });
 *   const result = await run(['nft', 'list', 'ruleset'], { timeoutMs: 5000 });
 *   // { ok: true, code: 0, stdout: '…', stderr: '' }
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  /** The exit status; null when the program did not start or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it failed, in a line: `exit status 1: Error: …`, `timed out after 10000 ms`, `spawn nft ENOENT`. */
  error?: string;
}

export type CommandRunner = (
  argv: readonly string[],
  options: { timeoutMs: number },
) => Promise<CommandResult>;

export interface ExecFileRunnerOptions {
  /** Words put before every command (`nsenter --net=…`, `sudo -n`). */
  prefix?: readonly string[];
}

// What a command prints is read for error messages only; more than this is cut.
const MAX_OUTPUT = 1024 * 1024;

/** A runner on `child_process.execFile`. */
export function execFileRunner(options: ExecFileRunnerOptions = {}): CommandRunner {
  const prefix = options.prefix ?? [];
  return (argv, { timeoutMs }) => {
    const words = [...prefix, ...argv];
    const [program, ...args] = words;
    if (program === undefined)
      return Promise.resolve({ ok: false, code: null, stdout: '', stderr: '', error: 'empty command' });
    return new Promise((resolve) => {
      execFile(
        program,
        args,
        {
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: MAX_OUTPUT,
          encoding: 'utf8',
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve({ ok: true, code: 0, stdout, stderr });
            return;
          }
          // `code` is the exit status when the program ran, an errno name (`ENOENT`) when it did not.
          const failure = error as Error & { killed?: boolean; code?: unknown };
          const code = typeof failure.code === 'number' ? failure.code : null;
          const firstLine = (stderr.trim().split('\n')[0] ?? '').slice(0, 500);
          let why: string;
          if (failure.killed === true && code === null) why = `timed out after ${timeoutMs} ms`;
          else if (code !== null) why = `exit status ${code}${firstLine === '' ? '' : `: ${firstLine}`}`;
          else why = failure.message.split('\n')[0] ?? 'failed';
          resolve({ ok: false, code, stdout, stderr, error: why });
        },
      );
    });
  };
}

/** A command as one line for people (logs, the console): words with spaces or braces quoted. */
export function formatCommand(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
