// Runs migrations: `npm run migrate` (TypeScript via tsx) or the Procfile's release (compiled JS).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { createKnex, databaseUrl } from './knex.js';

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

export async function migrateLatest(connectionString = databaseUrl()): Promise<string[]> {
  const db = createKnex(connectionString, 2);
  try {
    const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
    return applied;
  } finally {
    await db.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  migrateLatest()
    .then((applied) => {
      process.stdout.write(applied.length ? `Applied ${applied.length} migration(s):\n${applied.join('\n')}\n` : 'Already up to date.\n');
    })
    .catch((err: unknown) => {
      process.stderr.write(`Migration failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
