// Runs migrations: `npm run migrate` (TypeScript via tsx) or the Procfile's release (compiled JS).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { config } from '../config.js';
import { createKnex, databaseUrl } from './knex.js';
import { LOOKUP_ROLE, ensureRole } from './rls.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const extension = import.meta.url.endsWith('.js') ? '.js' : '.ts';
const directory = path.resolve(here, '../../migrations');

interface MigrationModule {
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

/**
 * Migrations are recorded by name without extension, so a database migrated
 * from the TypeScript sources (development) and from the compiled JavaScript
 * (release) agree on what has run.
 */
const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await fs.readdir(directory);
    return files.filter((f) => f.endsWith(extension) && !f.endsWith('.d.ts')).sort();
  },
  getMigrationName: (file) => path.basename(file, extension),
  async getMigration(file) {
    return (await import(pathToFileURL(path.join(directory, file)).href)) as MigrationModule;
  },
};

export const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Migrations hand SECURITY DEFINER functions to the app and lookup roles
 * (ALTER FUNCTION … OWNER TO), which Postgres allows a non-superuser only when
 * the new owner may create objects in the schema. An owner that isn't a
 * superuser (README → Database roles) lends the roles that right for the run
 * and takes it back, so tenant transactions can never create objects.
 */
async function withSchemaCreateLent<T>(db: Knex, run: () => Promise<T>): Promise<T> {
  const { rows } = await db.raw<{ rows: { rolsuper: boolean }[] }>('select rolsuper from pg_roles where rolname = current_user');
  if (rows[0]?.rolsuper) return run();
  const roles = [config.databaseAppRole, LOOKUP_ROLE];
  for (const role of roles) await ensureRole(db, role);
  await db.raw('grant create on schema public to ??, ??', roles);
  try {
    return await run();
  } finally {
    await db.raw('revoke create on schema public from ??, ??', roles);
  }
}

export async function migrateLatest(connectionString = databaseUrl()): Promise<string[]> {
  const db = createKnex(connectionString, 2);
  try {
    const [, applied] = await withSchemaCreateLent(db, () => db.migrate.latest(migrationConfig) as Promise<[number, string[]]>);
    return applied;
  } finally {
    await db.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  migrateLatest()
    .then((applied) => {
      process.stdout.write(applied.length ? `Applied ${applied.length} migration(s):\n${applied.join('\n')}\n` : 'Already up to date.\n'); // i18n-exempt: the migration command's output
    })
    .catch((err: unknown) => {
      process.stderr.write(`Migration failed: ${(err as Error).message}\n`); // i18n-exempt: the migration command's output
      process.exit(1);
    });
}
