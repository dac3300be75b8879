// `npm run test:mutation`, first step: one migrated template database that every Stryker worker copies
// before each test run (test/setup.ts). Migrating here, with the real code and before any mutant is
// active, keeps a mutant in a migration helper from breaking the schema every later run starts from.
// With `--cleanup` (the last step) it drops the per-worker databases instead: Stryker numbers a worker
// afresh each time it restarts one (after a timeout), so a run leaves one database per restart.
import pg from 'pg';
import { scratchDatabase } from '../src/db/scratch.js';

const base = process.env.TEST_DATABASE_NAME ?? 'porchlight_test';
const template = scratchDatabase(`${base}_mutation_tpl`);
process.env.NODE_ENV = 'test';
process.env.APP_SECRET ??= 'test-secret-test-secret-test-secret-0123456789';
process.env.LOG_LEVEL ??= 'silent';

if (process.argv.includes('--cleanup')) {
  const admin = new URL(template.url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.href });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where datname ~ ('^' || $1 || '_stryker[0-9]+$')",
      [base],
    );
    for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    process.stdout.write(`Dropped ${rows.length} mutation-testing worker database(s)\n`);
  } finally {
    await client.end();
  }
} else {
  const { migrateLatest } = await import('../src/db/migrate.js');
  await template.recreate();
  await migrateLatest(template.url);
  process.stdout.write(`Migrated the mutation-testing template database ${template.name}\n`);
}
