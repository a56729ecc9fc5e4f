/**
 * Debian packages a benchmark needs (its peer, a floor), installed when missing and the
 * benchmark runs as root: only Debian's archive is reachable, never a download of its own.
 */
import { execFileSync } from 'node:child_process';

/**
 * `apt-get install -y PACKAGES`, tried again after `apt-get update` (the package lists may be
 * missing or stale). Returns undefined when it installed, else why it failed (apt-get's errors).
 */
export function aptInstall(packages) {
  const install = () =>
    execFileSync('apt-get', ['install', '-y', ...packages], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'ignore' });
      install();
    }
    return undefined;
  } catch (error) {
    return error.stderr?.toString() || error.message;
  }
}
