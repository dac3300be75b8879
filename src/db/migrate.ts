// Runs migrations: `npm run migrate` (TypeScript via tsx) or the Procfile's release (compiled JS).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { createKnex, databaseUrl } from './knex.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = import.meta.url.endsWith('.js');

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.resolve(here, '../../migrations'),
  loadExtensions: [compiled ? '.js' : '.ts'],
  tableName: 'knex_migrations',
};

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
