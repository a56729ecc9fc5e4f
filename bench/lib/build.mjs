/**
 * Whether Rempart is built for a benchmark, and whether its build is older than its sources (a
 * benchmark then measures the last build, and says so).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Newest modification time of a package's sources, tests and test support left out (they are not built). */
function newestSource(dir) {
  return (
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      .map((e) => join(e.parentPath, e.name))
      // Test support is left out of the server's build (packages/server/tsconfig.json).
      .filter((file) => !file.includes('/test-support/'))
      .reduce((latest, file) => Math.max(latest, statSync(file).mtimeMs), 0)
  );
}

/**
 * `files`: what the benchmark runs (repository paths); `packages`: the packages they are built
 * from. Prints what is wrong and returns the exit status when Rempart is not built; otherwise
 * warns when the build is stale and returns `{ stale }` (the stale packages' source folders).
 */
export function checkBuild(files, packages) {
  if (!files.every((file) => existsSync(join(ROOT, file)))) {
    console.error('bench: Rempart is not built. From the repository root run:\n  npx tsc -b packages/cli');
    return { exitCode: 2 };
  }
  const stale = packages
    .map((name) => ({
      src: join(ROOT, 'packages', name, 'src'),
      buildInfo: join(ROOT, 'packages', name, 'tsconfig.tsbuildinfo'),
    }))
    .filter(({ src, buildInfo }) => !existsSync(buildInfo) || newestSource(src) > statSync(buildInfo).mtimeMs)
    .map(({ src }) => relative(ROOT, src));
  if (stale.length > 0) {
    console.error(
      `bench: the build is older than ${stale.join(' and ')}; measuring the last build. To measure the sources:\n  npx tsc -b packages/cli`,
    );
  }
  return { stale };
}
