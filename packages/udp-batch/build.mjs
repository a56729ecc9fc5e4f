/**
 * Builds the addon at install, on Linux only (recvmmsg and sendmmsg are Linux's). A machine that
 * cannot build it (no compiler) still installs: the resolver then answers UDP through node:dgram,
 * about half as many queries per second, and says so when it starts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

if (process.platform !== 'linux') process.exit(0);
const result = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', shell: false });
const built = existsSync(new URL('./build/Release/udp_batch.node', import.meta.url));
if (result.status !== 0 || !built) {
  console.warn(
    '@rempart/udp-batch: the native UDP batching was not built ' +
      `(${(result.error?.message ?? result.status === 0) ? 'no addon was made' : `node-gyp exited with ${result.status}`}); ` +
      'the DNS resolver will use node:dgram',
  );
}
