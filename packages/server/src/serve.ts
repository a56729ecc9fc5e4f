/** `rempart serve`: the platform, its HTTP(S) server and its local admin socket, in one process. */
import type { Config } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from './app.js';
import { SESSION_IDLE_MS } from './identity/identity.service.js';
import { startLocalAdmin } from './local/local-admin.js';
import { openPlatform, type Platform, type PlatformOptions } from './platform.js';
import { loadTls } from './tls.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  platform: Platform;
  hasAdministrator: boolean;
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

export async function serve(
  config: Config,
  options: PlatformOptions & AppOptions = {},
): Promise<RunningServer> {
  // Read (or made, when self-signed) once, for the HTTPS server and the syslog receiver over TLS.
  const tls = await loadTls(config);
  const platform = await openPlatform(config, {
    ...options,
    ...(tls && config.watch.syslogTls && options.watchTls === undefined ? { watchTls: tls } : {}),
  });
  const app = await buildApp(platform, { ...options, ...(tls ? { https: tls } : {}) });
  await app.listen({ port: config.port, host: config.host });
  const local = await startLocalAdmin(platform);
  const purge = setInterval(() => {
    const now = platform.clock.now();
    platform.identityRepo
      .purgeExpired(now, new Date(now.getTime() - SESSION_IDLE_MS))
      .catch((error: unknown) => platform.log.warn({ err: error }, 'purge of expired sessions failed'));
  }, PURGE_INTERVAL_MS);
  purge.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url =
    config.publicUrl.replace(/:\d+$/, '') === config.publicUrl
      ? config.publicUrl
      : config.publicUrl.replace(/:\d+$/, `:${port}`);
  platform.log.info({ url, database: platform.database.kind, tls: config.tls.mode }, 'rempart listening');
  let closed = false;
  return {
    url,
    app,
    platform,
    hasAdministrator: await platform.identity.hasAdministrator(),
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(purge);
      await local.close();
      await app.close();
      await platform.close();
    },
  };
}
