// Checks that the committed generated contracts match the code (STYLE.md §13):
//   - packages/server/openapi.json, the OpenAPI document served at /api/openapi.json;
//   - packages/server/drizzle/, the SQL migrations generated from src/db/schema.ts.
// `node scripts/check-generated.mjs --write` regenerates both instead of checking.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import process from 'node:process';

const root = new URL('..', import.meta.url).pathname;
const write = process.argv.includes('--write');
const openapiFile = join(root, 'packages/server/openapi.json');
let failed = false;

async function currentOpenApi() {
  const server = await import(join(root, 'packages/server/dist/index.js'));
  const core = await import(join(root, 'packages/core/dist/index.js'));
  const dataDir = mkdtempSync(join(tmpdir(), 'rempart-openapi-'));
  const parsed = core.parseConfig({ REMPART_DATA_DIR: dataDir, REMPART_LOG_LEVEL: 'silent' });
  const platform = await server.openPlatform(parsed.config, {
    database: { kind: 'pglite', dataDir: undefined },
  });
  try {
    const app = await server.buildApp(platform, { webRoot: '/nonexistent' });
    await app.ready();
    const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return doc;
  } finally {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const doc = await currentOpenApi();
if (write) {
  writeFileSync(openapiFile, doc);
  console.log('wrote packages/server/openapi.json');
} else {
  let committed = '';
  try {
    committed = readFileSync(openapiFile, 'utf8');
  } catch {
    // missing: reported below
  }
  if (committed !== doc) {
    console.error(
      'packages/server/openapi.json is out of date: run `node scripts/check-generated.mjs --write` and commit it.',
    );
    failed = true;
  } else {
    console.log('OpenAPI document is current.');
  }
}

// Migrations: let drizzle-kit generate against a copy of the committed folder; any new file is drift.
const serverDir = join(root, 'packages/server');
const out = write ? join(serverDir, 'drizzle') : mkdtempSync(join(tmpdir(), 'rempart-drizzle-'));
if (!write) cpSync(join(serverDir, 'drizzle'), out, { recursive: true });
const before = new Set(readdirSync(out));
const result = spawnSync(
  'npx',
  // drizzle-kit prefixes `./` to --out, so it must be relative to the server folder.
  [
    'drizzle-kit',
    'generate',
    '--dialect',
    'postgresql',
    '--schema',
    './src/db/schema.ts',
    '--out',
    relative(serverDir, out),
  ],
  { cwd: serverDir, encoding: 'utf8' },
);
// drizzle-kit exits 0 on some failures (an unreadable folder): its output says so.
if (result.status !== 0 || /\bError\b|ENOENT/.test(`${result.stdout}${result.stderr}`)) {
  console.error(result.stdout, result.stderr);
  console.error('drizzle-kit generate failed.');
  process.exit(1);
}
const added = readdirSync(out).filter((f) => !before.has(f));
if (write) {
  console.log(added.length ? `new migration: ${added.join(', ')}` : 'migrations are current.');
} else {
  rmSync(out, { recursive: true, force: true });
  if (added.length > 0) {
    console.error(
      'The database schema changed without a migration: run `node scripts/check-generated.mjs --write` and commit packages/server/drizzle/.',
    );
    failed = true;
  } else {
    console.log('Migrations are current.');
  }
}
process.exit(failed ? 1 : 0);
