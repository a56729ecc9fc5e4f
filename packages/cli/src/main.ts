/**
 * The `rempart` command.
 *
 * @example
 *   npx rempart serve
 *   npx rempart admin create --email chef@ministere.gouv.fr --name "Claire Martin"
 *   npx rempart audit verify
 */
import { parseArgs } from 'node:util';
import { Email, DisplayName, isRempartError, parseConfig, type Config } from '@rempart/core';
import { LocalAdminClient, localSocketPath, openPlatform, serve } from '@rempart/server';
import { z } from 'zod';

const USAGE = `Usage: rempart <command> [options]

Commands:
  serve                                   run the platform (HTTP API, console, local admin socket)
  admin create --email E --name N [--unit U]
                                          create an administrator and print a one-time enrolment link
  audit verify                            check the audit log's hash chain; exit 1 naming the first broken entry
  help                                    show this text

Configuration comes from the environment (REMPART_PORT, REMPART_DATA_DIR, DATABASE_URL,
REMPART_PUBLIC_URL, REMPART_TLS, REMPART_TLS_CERT, REMPART_TLS_KEY, REMPART_SECRET_KEY, REMPART_LOG_LEVEL).

Exit status: 0 success, 1 the check found a problem, 2 bad usage or configuration.`;

class UsageError extends Error {}

/** Runs one command; resolves to the process exit status. */
export async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(sub === undefined ? [] : [sub, ...rest]);
      case 'admin':
        if (sub === 'create') return await adminCreate(rest);
        throw new UsageError(`unknown admin command: ${sub ?? '(none)'}`);
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
    if (error instanceof UsageError) {
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

async function serveCommand(args: string[]): Promise<number> {
  strictArgs(args, {}, z.object({}));
  const config = loadConfig();
  const server = await serve(config);
  const lines = [
    '',
    `  Rempart is running: open ${server.url}`,
    `  Database: ${server.platform.database.kind === 'pglite' ? `embedded (PGlite) in ${config.dataDir}` : 'PostgreSQL'}`,
  ];
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
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
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
  const client = new LocalAdminClient(localSocketPath(config));
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
  const client = new LocalAdminClient(localSocketPath(config));
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

async function withPlatform<T>(
  config: Config,
  work: (p: Awaited<ReturnType<typeof openPlatform>>) => Promise<T>,
): Promise<T> {
  const platform = await openPlatform({ ...config, logLevel: 'warn' });
  try {
    return await work(platform);
  } finally {
    await platform.close();
  }
}
