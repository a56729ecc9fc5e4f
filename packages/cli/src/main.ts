/**
 * The `rempart` command.
 *
 * @example
 *   npx rempart serve
 *   npx rempart admin create --email chef@ministere.gouv.fr --name "Claire Martin"
 *   npx rempart audit verify
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Email,
  DisplayName,
  DnsTestQuery,
  PolicyExportQuery,
  hostPort,
  isRempartError,
  type RuleMatch,
  parseConfig,
  type Config,
  type LeakCheckResult,
} from '@rempart/core';
import { z } from 'zod';
import {
  SPYWARE_USAGE,
  SpywareUsageError,
  spywareImport,
  spywareIndicators,
  spywareScan,
} from './spyware.js';
import { adminClient, untilStopped, withPlatform } from './platform-access.js';
import { MAIL_USAGE, MailUsageError, mailDovecotConfig } from './mail.js';
import {
  WATCH_LIVE_USAGE,
  WATCH_USAGE,
  WatchUsageError,
  watchHunt,
  watchScan,
  watchSearch,
  watchServe,
} from './watch.js';

const USAGE = `Usage: rempart <command> [options]

Commands:
  serve                                   run the platform (HTTP API, console, local admin socket)
  admin create --email E --name N [--unit U]
                                          create an administrator and print a one-time enrolment link
  audit verify                            check the audit log's hash chain; exit 1 naming the first broken entry
  leakcheck FILE... [--json] [--redact OUTDIR]
                                          check images before posting them: meeting links and codes, secrets,
                                          contacts, classification markings, QR codes, metadata (GPS, device,
                                          owner); --redact writes a masked copy of each, without metadata;
                                          exit 0 nothing found, 1 something found, 2 an unreadable file
  dns serve [--listen ADDR:PORT | --port P] [--upstream HOST:PORT]... [--list FILE]... [--allow FILE]...
            [--replica-of URL [--name NAME]]
                                          run the network guard's filtering DNS resolver alone (UDP and TCP;
                                          127.0.0.1:5353 by default); --list / --allow add block lists and
                                          allow-lists read from files to every group, for this run;
                                          --replica-of runs it as a replica of the platform at URL: its policy
                                          from there, its query log shipped back, no database here
                                          (REMPART_DNS_REPLICA_TOKEN holds the secret both share)
  dns test DOMAIN [--client IP]           explain the verdict on DOMAIN for a client: its group, every rule that
                                          matches and the one that decides; exit 0 allowed, 1 blocked
${SPYWARE_USAGE}
${WATCH_USAGE}
${WATCH_LIVE_USAGE}
${MAIL_USAGE}
  policy export --platform ios|android [--group G]
                                          write a group's device profile to standard output: an Apple
                                          .mobileconfig or an Android Management API policy (default group)
  help                                    show this text

Configuration comes from the environment (REMPART_PORT, REMPART_DATA_DIR, DATABASE_URL,
REMPART_PUBLIC_URL, REMPART_TLS, REMPART_TLS_CERT, REMPART_TLS_KEY, REMPART_SECRET_KEY, REMPART_LOG_LEVEL).

Exit status: 0 success, 1 the check found a problem, 2 bad usage or configuration.`;

class UsageError extends Error {}

export interface RunOptions {
  /** Stops a long-running command (`serve`, `dns serve`) as Ctrl+C would, for programs embedding the CLI. */
  stop?: AbortSignal;
  /**
   * The command is the process itself (the `rempart` program, not a program embedding the CLI): it
   * may start the program again with the Node options it runs best with (`watch scan` on one CPU).
   */
  ownProcess?: boolean;
}

/** Runs one command; resolves to the process exit status. */
export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(sub === undefined ? [] : [sub, ...rest], options.stop);
      case 'admin':
        if (sub === 'create') return await adminCreate(rest);
        throw new UsageError(`unknown admin command: ${sub ?? '(none)'}`);
      case 'leakcheck':
        return await leakcheckCommand(sub === undefined ? [] : [sub, ...rest]);
      case 'dns':
        if (sub === 'serve') return await dnsServe(rest, options.stop);
        if (sub === 'test') return await dnsTest(rest);
        throw new UsageError(`unknown dns command: ${sub ?? '(none)'}`);
      case 'spyware':
        if (sub === 'scan') return await spywareScan(rest);
        if (sub === 'import') return await spywareImport(rest);
        if (sub === 'indicators') return await spywareIndicators(rest);
        throw new UsageError(`unknown spyware command: ${sub ?? '(none)'}`);
      case 'watch':
        if (sub === 'scan') return await watchScan(rest, options.ownProcess === true);
        if (sub === 'serve') return await watchServe(rest, loadConfig, options.stop);
        if (sub === 'search') return await watchSearch(rest, loadConfig);
        if (sub === 'hunt') return await watchHunt(rest, loadConfig);
        throw new UsageError(`unknown watch command: ${sub ?? '(none)'}`);
      case 'mail':
        if (sub === 'dovecot-config') return await mailDovecotConfig(rest, loadConfig());
        throw new UsageError(`unknown mail command: ${sub ?? '(none)'}`);
      case 'policy':
        if (sub === 'export') return await policyExport(rest);
        throw new UsageError(`unknown policy command: ${sub ?? '(none)'}`);
      case 'audit':
        if (sub === 'verify') return await auditVerify(rest);
        throw new UsageError(`unknown audit command: ${sub ?? '(none)'}`);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof MailUsageError ||
      error instanceof SpywareUsageError ||
      error instanceof WatchUsageError
    ) {
      console.error(`rempart: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (isRempartError(error)) {
      console.error(`rempart: ${error.message} (${error.code})`);
      return error.status >= 500 ? 1 : 2;
    }
    console.error(`rempart: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function loadConfig(): Config {
  const result = parseConfig(process.env);
  if (!result.ok) {
    throw new UsageError(`invalid configuration:\n  ${result.errors.join('\n  ')}`);
  }
  return result.config;
}

function strictArgs<T extends z.ZodType>(
  args: string[],
  options: Record<string, { type: 'string' }>,
  schema: T,
): z.infer<T> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

async function serveCommand(args: string[], stop: AbortSignal | undefined): Promise<number> {
  strictArgs(args, {}, z.object({}));
  const config = loadConfig();
  const { serve } = await import('@rempart/server');
  const server = await serve(config);
  const lines = [
    '',
    `  Rempart is running: open ${server.url}`,
    `  Database: ${server.platform.database.kind === 'pglite' ? `embedded (PGlite) in ${config.dataDir}` : 'PostgreSQL'}`,
  ];
  const watch = server.platform.watch.status();
  if (watch.syslog !== null)
    lines.push(
      `  Server watch: syslog over UDP and TCP on port ${watch.syslog.port}${watch.syslog.tlsPort === undefined ? '' : `, over TLS on port ${watch.syslog.tlsPort}`}`,
    );
  for (const file of watch.files) lines.push(`  Server watch: following ${file.path} (${file.format})`);
  if (!server.hasAdministrator) {
    lines.push(
      '',
      '  No administrator yet. In another terminal, from the repository root, run:',
      '    npx rempart admin create --email you@example.org --name "Your Name"',
      '  and open the one-time enrolment link it prints (valid 24 hours) to set a password',
      '  and enrol a second factor (authenticator app or passkey).',
    );
  } else {
    lines.push('  Sign in with your email, password and second factor, or with a passkey.');
  }
  lines.push('  Stop with Ctrl+C.', '');
  console.log(lines.join('\n'));
  await untilStopped(stop);
  console.log('Stopping…');
  await server.close();
  return 0;
}

async function adminCreate(args: string[]): Promise<number> {
  const input = strictArgs(
    args,
    { email: { type: 'string' }, name: { type: 'string' }, unit: { type: 'string' } },
    z.object({ email: Email, name: DisplayName, unit: z.string().trim().max(120).default('') }),
  );
  const config = loadConfig();
  const client = await adminClient(config);
  const link = (await client.available())
    ? await client.createAdmin(input)
    : await withPlatform(config, (p) =>
        p.identity.inviteAgent(
          null,
          {
            email: input.email,
            displayName: input.name,
            unit: input.unit,
            role: 'admin',
            clearance: 'secret',
          },
          { ip: 'local', userAgent: 'rempart-cli' },
        ),
      );
  console.log(`Administrator ${link.agent.email} created.`);
  console.log(`One-time enrolment link (expires ${link.expiresAt}):`);
  console.log(link.enrolmentUrl);
  return 0;
}

async function auditVerify(args: string[]): Promise<number> {
  strictArgs(args, {}, z.object({}));
  const config = loadConfig();
  const client = await adminClient(config);
  // Progress only on a terminal: a pipe or a log file gets the verdict alone.
  const tty = process.stderr.isTTY;
  const progress = (n: number) => tty && process.stderr.write(`\rchecked ${n} entries…`);
  const result = (await client.available())
    ? await client.verifyAudit()
    : await withPlatform(config, (p) => p.audit.verify(progress));
  if (tty) process.stderr.write('\r\x1b[K');
  if (result.ok) {
    console.log(`Audit log intact: ${result.entries} entries, hash chain verified.`);
    return 0;
  }
  const why = {
    hash_mismatch: 'its content does not match its hash (the row was altered)',
    chain_broken: 'it does not follow the entry before it',
    missing_entry: 'it is missing (a row was deleted)',
  }[result.reason];
  console.error(`Audit log BROKEN at entry #${result.firstBrokenSeq}: ${why}.`);
  return 1;
}

const extensions: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tif',
  avif: 'avif',
};

async function leakcheckCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, redact: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const files = parsed.positionals;
  const { json, redact: outDir } = parsed.values;
  if (files.length === 0) throw new UsageError('leakcheck needs at least one image file');
  if (outDir !== undefined) {
    if (outDir.trim() === '') throw new UsageError('--redact needs a folder');
    const clash = files.find((f) => resolve(outDir, basename(f)) === resolve(f));
    if (clash) throw new UsageError(`--redact ${outDir} would overwrite ${clash}; choose another folder`);
    mkdirSync(outDir, { recursive: true });
  }
  const config = loadConfig();
  const client = await adminClient(config);
  const check = async (check: (file: Buffer) => Promise<LeakCheckResult>) => {
    const reports: Report[] = [];
    const tty = process.stderr.isTTY && files.length > 1;
    for (const [i, file] of files.entries()) {
      if (tty) process.stderr.write(`\rchecking ${i + 1}/${files.length}: ${basename(file)}\x1b[K`);
      reports.push(await checkOne(file, outDir, check));
    }
    if (tty) process.stderr.write('\r\x1b[K');
    return reports;
  };
  const redact = outDir !== undefined;
  const reports = (await client.available())
    ? await check((bytes) => client.leakcheck(bytes, redact))
    : await withPlatform(config, (p) =>
        check((bytes) => p.leakcheck.check(null, bytes, { redact, ip: 'local' })),
      );
  if (json) console.log(JSON.stringify(reports, null, 2));
  else for (const report of reports) printReport(report);
  if (reports.some((r) => r.error)) return 2;
  return reports.some((r) => (r.findings?.length ?? 0) > 0) ? 1 : 0;
}

interface Report {
  file: string;
  error?: { code: string; message: string };
  image?: LeakCheckResult['image'];
  findings?: LeakCheckResult['findings'];
  redacted?: string;
  elapsedMs?: number;
}

async function checkOne(
  file: string,
  outDir: string | undefined,
  check: (file: Buffer) => Promise<LeakCheckResult>,
): Promise<Report> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'unreadable';
    return { file, error: { code, message: `cannot read ${file}: ${(error as Error).message}` } };
  }
  try {
    const result = await check(bytes);
    let redacted: string | undefined;
    if (outDir !== undefined && result.redacted) {
      const ext = extensions[result.image.format] ?? result.image.format;
      const name = `${basename(file, extname(file))}.${ext}`;
      redacted = join(outDir, name);
      writeFileSync(redacted, Buffer.from(result.redacted.base64, 'base64'));
    }
    return {
      file,
      image: result.image,
      findings: result.findings,
      ...(redacted ? { redacted } : {}),
      elapsedMs: result.elapsedMs,
    };
  } catch (error) {
    if (isRempartError(error) && error.status < 500) {
      return { file, error: { code: error.code, message: error.message } };
    }
    throw error;
  }
}

function printReport(report: Report): void {
  if (report.error) {
    console.error(`${report.file}: ${report.error.message} (${report.error.code})`);
    return;
  }
  const { image, findings = [] } = report;
  const head = image
    ? `${image.format} ${image.width}×${image.height}, ${((report.elapsedMs ?? 0) / 1000).toFixed(1)} s`
    : '';
  if (findings.length === 0) {
    console.log(`${report.file} (${head}): nothing found`);
  } else {
    console.log(`${report.file} (${head}): ${findings.length} finding${findings.length > 1 ? 's' : ''}`);
    for (const f of findings) {
      const where = f.box ? `at ${f.box.x},${f.box.y} ${f.box.width}×${f.box.height}` : 'in the metadata';
      console.log(`  [${f.severity}] ${f.kind}: “${f.text}” ${where}`);
      console.log(`      ${f.reason}`);
    }
  }
  if (report.redacted) console.log(`  redacted copy: ${report.redacted}`);
}

async function dnsServe(args: string[], stop: AbortSignal | undefined): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        listen: { type: 'string' },
        port: { type: 'string' },
        upstream: { type: 'string', multiple: true },
        list: { type: 'string', multiple: true },
        allow: { type: 'string', multiple: true },
        'replica-of': { type: 'string' },
        name: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.listen !== undefined && values.port !== undefined)
    throw new UsageError('give --listen or --port, not both');
  let listen = hostPort(values.listen ?? '127.0.0.1:5353', 53, { anyPort: true });
  if (values.port !== undefined) {
    const port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new UsageError('--port must be within 0-65535');
    listen = { host: '127.0.0.1', port };
  }
  if (!listen) throw new UsageError('--listen must be address:port, e.g. 0.0.0.0:53');
  const upstreams = (values.upstream ?? []).map((u) => {
    const parsed = hostPort(u, 53);
    if (!parsed) throw new UsageError(`--upstream ${u}: must be host[:port]`);
    return parsed;
  });
  const lists = [
    ...(values.list ?? []).map((path) => ({ path: resolve(path), action: 'block' as const })),
    ...(values.allow ?? []).map((path) => ({ path: resolve(path), action: 'allow' as const })),
  ];
  if (values.name !== undefined && values['replica-of'] === undefined)
    throw new UsageError('--name names a replica: give it with --replica-of');
  const config = loadConfig();
  if (values['replica-of'] !== undefined)
    return dnsReplica({
      server: values['replica-of'],
      name: values.name,
      listen,
      upstreams,
      lists,
      config,
      stop,
    });
  if (await (await adminClient(config)).available()) {
    throw new UsageError(
      'a Rempart server holds this data directory: start its resolver with REMPART_DNS_LISTEN instead',
    );
  }
  const tty = process.stderr.isTTY;
  if (tty) process.stderr.write('loading groups, categories and lists…');
  const { noMediaEngine, openPlatform } = await import('@rempart/server');
  const platform = await openPlatform(
    {
      ...config,
      logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel,
      dns: { ...config.dns, listen, ...(upstreams.length > 0 ? { upstreams } : {}) },
    },
    // The resolver alone serves no meetings: no media engine (nor its WebRTC stack) is loaded.
    { netguardLists: lists, media: noMediaEngine, watchReceivers: false },
  );
  if (tty) process.stderr.write('\r\x1b[K');
  const stats = platform.netguard.resolverStats();
  const groups = await platform.netguard.listGroups();
  console.log(
    [
      '',
      `  Rempart DNS is answering on ${(stats?.listening ?? []).join(', ')}`,
      `  Upstreams: ${platform.netguard.upstreams().join(', ') || 'none (every allowed name gets SERVFAIL)'}`,
      `  Groups: ${groups.map((g) => `${g.id} (${g.categories.join(', ') || 'no category'})`).join('; ')}`,
      ...(lists.length > 0
        ? [`  Lists for this run: ${lists.map((l) => `${l.path} (${l.action})`).join(', ')}`]
        : []),
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  await untilStopped(stop);
  await platform.close();
  return 0;
}

/**
 * A resolver replica: policy from the platform at `server`, query log shipped back; no database
 * and none of the platform's code in this process.
 */
async function dnsReplica(o: {
  server: string;
  name: string | undefined;
  listen: { host: string; port: number };
  upstreams: { host: string; port: number }[];
  lists: { path: string; action: 'block' | 'allow' }[];
  config: Config;
  stop: AbortSignal | undefined;
}): Promise<number> {
  const token = o.config.dns.replicaToken;
  if (!token)
    throw new UsageError(
      "set REMPART_DNS_REPLICA_TOKEN to the platform's replica secret (it is never given on the command line)",
    );
  const { DnsReplica, createLogger, systemResolvers } = await import('@rempart/server/dns-replica');
  const upstreams = o.upstreams.length > 0 ? o.upstreams : (o.config.dns.upstreams ?? systemResolvers());
  const tty = process.stderr.isTTY;
  if (tty) process.stderr.write(`fetching the policy from ${o.server}…`);
  let replica;
  try {
    replica = await DnsReplica.start({
      server: o.server,
      token,
      ...(o.name !== undefined ? { name: o.name } : {}),
      listen: o.listen,
      upstreams,
      rateLimit: o.config.dns.rateLimit,
      trusted: o.config.dns.trusted,
      extraLists: o.lists,
      log: createLogger(o.config.logLevel === 'info' ? 'warn' : o.config.logLevel),
    });
  } finally {
    if (tty) process.stderr.write('\r\x1b[K');
  }
  const status = replica.status();
  console.log(
    [
      '',
      `  Rempart DNS replica of ${o.server} is answering on ${status.listening.join(', ')}`,
      `  Policy ${status.version}: ${status.groups} groups, ${status.lists} lists; asked again every 5 s`,
      `  Upstreams: ${upstreams.map((u) => `${u.host}:${u.port}`).join(', ') || 'none (every allowed name gets SERVFAIL)'}`,
      ...(o.lists.length > 0
        ? [`  Lists for this run: ${o.lists.map((l) => `${l.path} (${l.action})`).join(', ')}`]
        : []),
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  await untilStopped(o.stop);
  await replica.close();
  return 0;
}

async function dnsTest(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { client: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const [domain, ...extra] = parsed.positionals;
  if (domain === undefined || extra.length > 0) throw new UsageError('dns test needs one domain');
  const query = DnsTestQuery.safeParse({ domain, client: parsed.values.client });
  if (!query.success)
    throw new UsageError(query.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
  const config = loadConfig();
  const client = await adminClient(config);
  const verdict = (await client.available())
    ? await client.dnsTest(query.data.domain, query.data.client)
    : await withPlatform(config, (p) =>
        Promise.resolve(p.netguard.explain(query.data.domain, query.data.client)),
      );
  const rule = (m: RuleMatch) =>
    `${m.action === 'allow' ? 'allow' : 'block'} by ${m.category ? `category ${m.category}` : `list “${m.list}”`}, line ${m.line}: ${m.rule}${m.malware ? ` (${m.malware})` : ''}`;
  console.log(
    `${verdict.domain} for ${verdict.client}: ${verdict.action === 'block' ? 'BLOCKED' : 'allowed'}`,
  );
  console.log(`  group: ${verdict.group.name} (${verdict.group.id}) — ${verdict.group.why}`);
  if (verdict.decidedBy) console.log(`  decided by: ${rule(verdict.decidedBy)}`);
  if (verdict.action === 'block') console.log(`  answered as: ${verdict.blockMode}`);
  if (verdict.matches.length === 0) console.log('  no rule matches this name');
  else if (verdict.matches.length > 1) {
    console.log('  every matching rule:');
    for (const m of verdict.matches) console.log(`    ${rule(m)}`);
  }
  return verdict.action === 'block' ? 1 : 0;
}

async function policyExport(args: string[]): Promise<number> {
  const input = strictArgs(
    args,
    { platform: { type: 'string' }, group: { type: 'string' } },
    PolicyExportQuery,
  );
  const config = loadConfig();
  const client = await adminClient(config);
  const out = (await client.available())
    ? await client.exportPolicy(input.platform, input.group)
    : await withPlatform(config, (p) => p.netguard.exportPolicy(input.platform, input.group));
  process.stdout.write(out.body);
  return 0;
}
