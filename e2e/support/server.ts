/**
 * Starts a real `rempart serve` process (the built CLI) on loopback with a fresh data
 * directory, and runs CLI commands against it, as an operator would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repoRoot, 'packages/cli/bin/rempart.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningRempart {
  url: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  logs: string[];
  cli(args: string[]): { status: number; stdout: string; stderr: string };
  /**
   * Stops the process (SIGTERM) and starts it again on the same port and data directory, as an
   * operator's restart does; resolves with the time its health check answered again.
   */
  restart(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRempart(extraEnv: Record<string, string> = {}): Promise<RunningRempart> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'rempart-e2e-'));
  // WebAuthn needs a domain, not an IP, as its relying-party id; localhost is a secure context.
  const url = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REMPART_PORT: String(port),
    REMPART_HOST: '127.0.0.1',
    REMPART_DATA_DIR: dataDir,
    REMPART_PUBLIC_URL: url,
    REMPART_LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  const logs: string[] = [];
  let child = await serve(env, port, logs);
  return {
    url,
    dataDir,
    env,
    logs,
    cli: (args) => {
      const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    restart: async () => {
      await terminate(child);
      child = await serve(env, port, logs);
      return Date.now();
    },
    stop: async () => {
      await terminate(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Spawns `rempart serve` and waits until its health check answers. */
async function serve(env: NodeJS.ProcessEnv, port: number, logs: string[]): Promise<ChildProcess> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rempart serve exited early:\n${logs.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`rempart serve did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
