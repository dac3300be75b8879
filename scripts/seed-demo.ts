// `npm run seed:demo`: adds the demo organization to the database at DATABASE_URL.
import { closeDb } from '../src/db/knex.js';
import { migrateLatest } from '../src/db/migrate.js';
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from '../src/dev/seed.js';

try {
  await migrateLatest();
  const seeded = await seedDemo();
  process.stdout.write(
    seeded
      ? `Seeded the demo organization. Log in as ${DEMO_EMAIL} / ${DEMO_PASSWORD}\n`
      : `The demo organization already exists (${DEMO_EMAIL}).\n`,
  );
} catch (err) {
  process.stderr.write(`Seeding failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await closeDb();
}
