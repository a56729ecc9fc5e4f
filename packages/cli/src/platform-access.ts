/**
 * What the commands that reach the platform share: a running server's local admin socket when one
 * holds the data directory, the platform opened in this process otherwise, and waiting for Ctrl+C.
 */
import type { Config } from '@rempart/core';
import type { openPlatform } from '@rempart/server';

/** Resolves on Ctrl+C, SIGTERM or `stop`, and forgets its listeners. */
export function untilStopped(stop: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((done) => {
    const finish = () => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      stop?.removeEventListener('abort', finish);
      done();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (stop?.aborted) finish();
    else stop?.addEventListener('abort', finish);
  });
}

/**
 * The platform's code is loaded by the commands that use it, not at start: `rempart dns serve
 * --replica-of` runs without it, in a fraction of the memory.
 */
export async function adminClient(config: Config) {
  const { LocalAdminClient, localSocketPath } = await import('@rempart/server');
  return new LocalAdminClient(localSocketPath(config));
}

export async function withPlatform<T>(
  config: Config,
  work: (p: Awaited<ReturnType<typeof openPlatform>>) => Promise<T>,
): Promise<T> {
  const { openPlatform } = await import('@rempart/server');
  // Only the data: the server watch's receivers (its syslog port…) stay closed.
  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { watchReceivers: false });
  try {
    return await work(platform);
  } finally {
    await platform.close();
  }
}
