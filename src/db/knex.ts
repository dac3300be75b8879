import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { config } from '../config.js';

// int8 (bigint) columns hold cents and counts; they fit a JS number (< 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));
// A `date` is a calendar day, not an instant: keep 'YYYY-MM-DD' so no time zone shifts it.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/porchlight';

export function databaseUrl(): string {
  return config.databaseUrl ?? DEFAULT_DATABASE_URL;
}

export function createKnex(connectionString = databaseUrl(), poolMax = config.databasePoolMax): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'porchlight' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
  });
}

let shared: Knex | undefined;

/** The process-wide pool. Services never use it directly: they get a handle from withOrg(). */
export function getDb(): Knex {
  shared ??= createKnex();
  return shared;
}

/** Postgres answers (readiness checks). */
export async function pingDb(): Promise<void> {
  await getDb().raw('select 1');
}

export async function closeDb(): Promise<void> {
  if (shared) {
    const db = shared;
    shared = undefined;
    await db.destroy();
  }
}
