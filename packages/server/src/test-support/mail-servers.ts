/**
 * A real Dovecot (IMAP, and SASL for Postfix) and a real Postfix (submission) on 127.0.0.1, set up
 * with the mail gateway's generated configuration in a fresh temporary folder and pointed at a
 * given Rempart, for the tests of the gateway; and small IMAP and SMTP clients that log in.
 *
 * Needs root (the servers switch users) and Debian's dovecot-imapd, dovecot-auth-lua and postfix.
 * The machine's own Dovecot and Postfix, if any, are neither used nor touched: each server here has
 * its own configuration, ports, runtime folder, queue and log.
 *
 * @example
 *   const servers = await startMailServers({ rempartBase: 'http://127.0.0.1:8080', token });
 *   const login = await imapLogin(servers.imapPort, { user: 'alice', secret: 'pw' });
 *   await servers.stop();
 */
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dovecotConfig, dovecotLuaPassdb, postfixConfig } from '../mail/gateway.js';
import { freePorts } from './ports.js';

const run = promisify(execFile);

const DOVECOT = '/usr/sbin/dovecot';
const LUA_PLUGIN = '/usr/lib/dovecot/modules/auth/libauthdb_lua.so';
const POSTFIX = '/usr/sbin/postfix';

export interface MailServersOptions {
  /** Where the Lua passdb POSTs `/api/mail/auth`. */
  rempartBase: string;
  token: string;
  /** The passdb's limit for one answer. */
  timeoutMs?: number;
}

export interface MailServers {
  imapPort: number;
  submissionPort: number;
  /** Dovecot's authentication listener, which Postfix's SASL uses. */
  authPort: number;
  /** Dovecot's log file (`log_path`). */
  dovecotLog: string;
  /** Postfix's log file (`maillog_file`). */
  postfixLog: string;
  /** Stops both servers, waits until none of their processes is left, and deletes the folder. */
  stop(): Promise<void>;
}

/** Starts Dovecot, then Postfix; on a failure, stops what started and throws with the logs' end. */
export async function startMailServers(options: MailServersOptions): Promise<MailServers> {
  const missing = [DOVECOT, LUA_PLUGIN, POSTFIX].filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new Error(
      `${missing.join(', ')} missing: install the Debian packages dovecot-imapd dovecot-auth-lua postfix ` +
        '(sudo apt-get install dovecot-imapd dovecot-auth-lua postfix), or run `npm test` as root to have it done',
    );
  if (process.getuid?.() !== 0) throw new Error('Dovecot and Postfix switch users: run these tests as root');
  // A port is free when picked, not necessarily when a server binds it: another try then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStart(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

class PortTaken extends Error {}

async function tryStart(options: MailServersOptions): Promise<MailServers> {
  const [imapPort, authPort, submissionPort] = (await freePorts(3)) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'rempart-mail-'));
  // Dovecot's unprivileged processes and the mail user walk through it.
  chmodSync(dir, 0o755);
  const internal = await account('dovecot');
  const mail = await account('mail');
  const paths = {
    dovecotConf: join(dir, 'dovecot.conf'),
    passdb: join(dir, 'passdb.lua'),
    dovecotLog: join(dir, 'dovecot.log'),
    homes: join(dir, 'homes'),
    postfixConf: join(dir, 'postfix'),
    queue: join(dir, 'postfix-queue'),
    postfixLog: join(dir, 'postfix.log'),
  };
  writeFileSync(
    paths.passdb,
    dovecotLuaPassdb({
      rempartBase: options.rempartBase,
      token: options.token,
      timeoutMs: options.timeoutMs,
    }),
    { mode: 0o600 },
  );
  chownSync(paths.passdb, internal.uid, internal.gid);
  mkdirSync(paths.homes);
  chownSync(paths.homes, mail.uid, mail.gid);
  writeFileSync(
    paths.dovecotConf,
    dovecotConfig({
      listenAddress: '127.0.0.1',
      imapPort,
      authPort,
      baseDir: join(dir, 'dovecot-run'),
      stateDir: join(dir, 'dovecot-state'),
      logPath: paths.dovecotLog,
      luaPassdbPath: paths.passdb,
      mailUid: mail.uid,
      mailGid: mail.gid,
      homeTemplate: `${paths.homes}/%n`,
      // Answers at once, and every login from 127.0.0.1 as quick as the first.
      authFailureDelaySeconds: 0,
      authPenalty: false,
    }),
  );
  const { mainCf, masterCf } = postfixConfig({
    address: '127.0.0.1',
    port: submissionPort,
    dovecotAuthPort: authPort,
    queueDirectory: paths.queue,
    dataDirectory: join(dir, 'postfix-data'),
    maillogFile: paths.postfixLog,
    hostname: 'mail.rempart.test',
  });
  mkdirSync(paths.postfixConf);
  mkdirSync(paths.queue);
  // Every Postfix program waits, 300 ms at a time, while main.cf is younger than a second ("being
  // written to", Postfix's load_file()): the files are dated a minute back, or starting takes seconds.
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (const [name, text] of [
    ['main.cf', mainCf],
    ['master.cf', masterCf],
  ] as const) {
    writeFileSync(join(paths.postfixConf, name), text);
    utimesSync(join(paths.postfixConf, name), aMinuteAgo, aMinuteAgo);
  }

  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    stops.push(await startDovecot(paths.dovecotConf, paths.dovecotLog, [imapPort, authPort]));
    stops.push(await startPostfix(paths.postfixConf, paths.queue, paths.postfixLog, submissionPort));
  } catch (error) {
    await stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    imapPort,
    submissionPort,
    authPort,
    dovecotLog: paths.dovecotLog,
    postfixLog: paths.postfixLog,
    stop: () => (stopping ??= stop()),
  };
}

/**
 * `dovecot -F`: the master stays our child, so its pid is known; SIGTERM makes it stop every
 * process of the instance. Ready once both listeners accept connections.
 */
async function startDovecot(conf: string, log: string, ports: number[]): Promise<() => Promise<void>> {
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  // Should the test process end without stop(), the master still stops its instance.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      stderr += String(error);
      resolve();
    });
  });
  const stop = async () => {
    process.off('exit', onExit);
    const pid = child.pid;
    const family = pid === undefined ? [] : processTree(pid);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await awaitGone(family);
  };
  const ready = await Promise.race([
    Promise.all(
      ports.map((port) =>
        waitForListener(port, 10_000, () => child.exitCode !== null || child.signalCode !== null),
      ),
    ).then(() => true),
    exited.then(() => false),
  ]).catch((error: unknown) => {
    stderr += String(error);
    return false;
  });
  if (ready) return stop;
  await stop();
  const why = `${stderr}\n${readTail(log)}`;
  if (/Address already in use/.test(why)) throw new PortTaken(why);
  throw new Error(`Dovecot did not start:\n${why.trim()}`);
}

/**
 * `postfix -c <dir> start`: Postfix's own start, which checks the instance, creates its queue and
 * returns once the master daemon is ready (`master -w`); `postfix -c <dir> abort` ends it, then we
 * wait for every process it had. The configuration folder must be an absolute path (with a relative
 * one, `postfix stop` reports success and stops nothing).
 */
async function startPostfix(
  confDir: string,
  queue: string,
  log: string,
  port: number,
): Promise<() => Promise<void>> {
  const masterPid = () => {
    try {
      return Number(readFileSync(join(queue, 'pid', 'master.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const onExit = () => {
    const pid = masterPid();
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    const pid = masterPid();
    const family = pid === undefined ? [] : processTree(pid);
    // `abort` sends the master SIGTERM as `stop` does, without `stop`'s once-a-second polling: the
    // master stops its processes and exits, and awaitGone watches them go.
    if (family.length > 0) await run(POSTFIX, ['-c', confDir, 'abort']).catch(() => undefined);
    await awaitGone(family);
  };
  try {
    await run(POSTFIX, ['-c', confDir, 'start'], { timeout: 30_000 });
    await waitForListener(port, 10_000);
  } catch (error) {
    await stop();
    const why = `${errorText(error)}\n${readTail(log)}`;
    if (/Address already in use/.test(why)) throw new PortTaken(why, { cause: error });
    throw new Error(`Postfix did not start:\n${why.trim()}`, { cause: error });
  }
  return stop;
}

/** A process and its descendants, each with its start time (a pid may be reused once it is gone). */
interface Running {
  pid: number;
  started: string;
}

function stat(pid: number): { ppid: number; state: string; started: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // proc(5): the fields after the parenthesised command name; state is field 3, start time 22.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]), started: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function processTree(root: number): Running[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = stat(pid);
    if (info === undefined) continue;
    children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid]);
  }
  const found: Running[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const info = stat(pid);
    if (info === undefined) continue;
    found.push({ pid, started: info.started });
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

function alive(running: Running): boolean {
  const info = stat(running.pid);
  // A zombie has ended; only its parent's wait is missing.
  return info !== undefined && info.started === running.started && info.state !== 'Z';
}

/** Waits until none of `family` runs; kills the ones left after 10 s. */
async function awaitGone(family: Running[]): Promise<void> {
  const until = Date.now() + 10_000;
  while (family.some(alive)) {
    if (Date.now() > until) {
      for (const left of family.filter(alive)) process.kill(left.pid, 'SIGKILL');
      await delay(100);
      return;
    }
    await delay(25);
  }
}

async function account(name: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('getent', ['passwd', name]);
  const [, , uid, gid] = stdout.trim().split(':');
  if (uid === undefined || gid === undefined) throw new Error(`no system user ${name}`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** Waits until something accepts connections on 127.0.0.1:`port`, or `gaveUp` says to stop trying. */
async function waitForListener(port: number, timeoutMs: number, gaveUp = () => false): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error(`gave up waiting for 127.0.0.1:${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await delay(25);
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'stderr' in error) {
    return `${String((error as { message?: unknown }).message)}\n${String(error.stderr)}`;
  }
  return String(error);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------
// Clients

/** SASL mechanisms the gateway offers (`auth_mechanisms`). */
export type SaslMechanism = 'PLAIN' | 'LOGIN' | 'OAUTHBEARER' | 'XOAUTH2';

export interface MailLogin {
  user: string;
  /** The password, or the bearer token for OAUTHBEARER and XOAUTH2. */
  secret: string;
  /** IMAP: the LOGIN command when absent, else AUTHENTICATE with this mechanism. SMTP: PLAIN when absent. */
  mechanism?: SaslMechanism;
}

export interface LoginResult {
  accepted: boolean;
  /** The server's final answer to the login: IMAP's tagged line, SMTP's reply (without CRLF). */
  reply: string;
  /** The error a server sent as a challenge before refusing an OAuth login (RFC 7628 §3.2.2), decoded. */
  oauthError?: string;
}

/** The initial client response of a mechanism (RFC 4616 §2, RFC 7628 §3.1, Google's XOAUTH2). */
function initialResponse(login: MailLogin): Buffer | undefined {
  switch (login.mechanism ?? 'PLAIN') {
    case 'PLAIN':
      return Buffer.from(`\0${login.user}\0${login.secret}`, 'utf8');
    case 'LOGIN':
      return undefined;
    case 'OAUTHBEARER': {
      // gs2-header with the authzid, `=` and `,` escaped (RFC 5801 §4); none for an empty user.
      const authzid = login.user === '' ? '' : `a=${login.user.replace(/=/g, '=3D').replace(/,/g, '=2C')}`;
      return Buffer.from(`n,${authzid},\x01auth=Bearer ${login.secret}\x01\x01`, 'utf8');
    }
    case 'XOAUTH2':
      return Buffer.from(`user=${login.user}\x01auth=Bearer ${login.secret}\x01\x01`, 'utf8');
  }
}

/** A line reader over a socket, with one deadline for the whole exchange. */
class Conversation {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private ended = false;
  private readonly timer: NodeJS.Timeout;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
    socket.on('error', (error) => {
      this.failure = error;
      this.waiting?.();
    });
    this.timer = setTimeout(() => {
      this.failure = new Error('the mail server did not answer in time');
      this.waiting?.();
      socket.destroy();
    }, 15_000);
  }

  static async open(port: number): Promise<Conversation> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Conversation(socket);
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error('the mail server closed the connection');
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }

  send(...parts: (string | Buffer)[]): void {
    this.socket.write(
      Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))),
    );
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket.destroy();
  }
}

/** An IMAP string as a non-synchronizing literal (RFC 7888), whatever its bytes. */
function literal(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}+}\r\n`), bytes]);
}

/** Logs in over IMAP (RFC 9051 §6.2.2 AUTHENTICATE with SASL-IR, §6.2.3 LOGIN) and logs out. */
export async function imapLogin(port: number, login: MailLogin): Promise<LoginResult> {
  const imap = await Conversation.open(port);
  try {
    const greeting = await imap.line();
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected IMAP greeting: ${greeting}`);
    if (login.mechanism === undefined) {
      imap.send('a1 LOGIN ', literal(login.user), ' ', literal(login.secret), '\r\n');
    } else {
      const first = initialResponse(login);
      imap.send(`a1 AUTHENTICATE ${login.mechanism}${first ? ` ${first.toString('base64')}` : ''}\r\n`);
    }
    const result = await saslExchange(imap, login, (line) =>
      line.startsWith('+') ? line.slice(2) : line.startsWith('a1 ') ? { final: line } : undefined,
    );
    if (result.accepted) {
      imap.send('a2 LOGOUT\r\n');
      while (!(await imap.line()).startsWith('a2 '));
    }
    return result;
  } finally {
    imap.close();
  }
}

/** EHLO then AUTH on a submission service (RFC 4954 §4), then QUIT. */
export async function smtpLogin(port: number, login: MailLogin): Promise<LoginResult> {
  const smtp = await Conversation.open(port);
  const mechanism = login.mechanism ?? 'PLAIN';
  try {
    const greeting = await smtp.line();
    if (!greeting.startsWith('220')) throw new Error(`unexpected SMTP greeting: ${greeting}`);
    smtp.send('EHLO client.rempart.test\r\n');
    for (let line = await smtp.line(); !line.startsWith('250 '); line = await smtp.line()) {
      if (!line.startsWith('250-')) throw new Error(`EHLO refused: ${line}`);
    }
    const first = initialResponse({ ...login, mechanism });
    smtp.send(`AUTH ${mechanism}${first ? ` ${first.toString('base64')}` : ''}\r\n`);
    const result = await saslExchange(smtp, { ...login, mechanism }, (line) =>
      line.startsWith('334') ? line.slice(4) : { final: line },
    );
    smtp.send('QUIT\r\n');
    await smtp.line().catch(() => '');
    return { ...result, accepted: result.reply.startsWith('235') };
  } finally {
    smtp.close();
  }
}

/**
 * The challenges and responses after the client's first message: LOGIN's user name and password;
 * an OAuth error, answered with the dummy `^A` that RFC 7628 §3.2.3 requires before the refusal.
 * `read` tells a challenge (its base64 text) from the final answer.
 */
async function saslExchange(
  conversation: Conversation,
  login: MailLogin,
  read: (line: string) => string | { final: string } | undefined,
): Promise<LoginResult> {
  const loginAnswers = [login.user, login.secret];
  let oauthError: string | undefined;
  for (;;) {
    const line = await conversation.line();
    const seen = read(line);
    if (seen === undefined) continue;
    if (typeof seen === 'object') {
      const accepted = /^a1 OK/.test(seen.final);
      return { accepted, reply: seen.final, ...(oauthError === undefined ? {} : { oauthError }) };
    }
    if (login.mechanism === 'LOGIN' && loginAnswers.length > 0) {
      conversation.send(Buffer.from(loginAnswers.shift() as string, 'utf8').toString('base64'), '\r\n');
    } else if (login.mechanism === 'OAUTHBEARER' || login.mechanism === 'XOAUTH2') {
      oauthError = Buffer.from(seen, 'base64').toString('utf8');
      conversation.send('AQ==\r\n');
    } else {
      // A challenge nothing here expects: cancel (RFC 4954 §4, RFC 9051 §6.2.2).
      conversation.send('*\r\n');
    }
  }
}
