// Throwaway databases for the test suite and the benchmarks, on the server that
// DATABASE_URL points at. Imports no config: callers use it before config loads.
import pg from 'pg';

export interface ScratchDatabase {
  name: string;
  /** DATABASE_URL for the scratch database itself. */
  url: string;
  /** Drops (closing its connections) and creates it again: empty, or as a copy of the `template` database. */
  recreate(template?: string): Promise<void>;
}

export function scratchDatabase(
  name: string,
  serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
): ScratchDatabase {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name "${name}": lower-case letters, digits and _ only`);
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  return {
    name,
    url: target.href,
    async recreate(template?: string) {
      if (template !== undefined && !/^[a-z0-9_]+$/.test(template)) throw new Error(`template "${template}": bad name`);
      const client = new pg.Client({ connectionString: admin.href });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
        await client.query(template === undefined ? `create database ${name}` : `create database ${name} template ${template}`);
      } finally {
        await client.end();
      }
    },
  };
}
