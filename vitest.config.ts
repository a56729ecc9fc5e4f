import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (file: string): string => fileURLToPath(new URL(`./packages/${file}`, import.meta.url));

// Tests import workspace packages from their sources, so a test never runs against a stale build;
// each entry point of a package's `exports` maps to its source.
const alias = [
  { find: /^@rempart\/core$/, replacement: src('core/src/index.ts') },
  { find: /^@rempart\/server$/, replacement: src('server/src/index.ts') },
  { find: /^@rempart\/server\/leakcheck$/, replacement: src('server/src/leakcheck/scanner.ts') },
  { find: /^@rempart\/server\/dns-replica$/, replacement: src('server/src/netguard/replica.ts') },
  { find: /^@rempart\/server\/spyware$/, replacement: src('server/src/spyware/index.ts') },
  { find: /^@rempart\/server\/serverwatch$/, replacement: src('server/src/serverwatch/index.ts') },
];

// Unit and integration files run side by side, one per core (vitest's default keeps one core
// free: on a 2-core machine, one file at a time). Integration files hold no fixed port, name or
// folder: each starts its servers on free ports in its own folders, nftables in its own network
// namespace, and on PostgreSQL takes a database of its own (test-support/platform.ts).
const workers = availableParallelism();

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          maxWorkers: workers,
          include: ['packages/*/src/**/*.test.ts'],
          exclude: ['packages/*/src/**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          maxWorkers: workers,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
