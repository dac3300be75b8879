// Root hooks: a fresh, migrated test database and a private Redis key prefix
// for this run. Runs before any spec file imports src/config.ts.
import { Redis } from 'ioredis';
import { scratchDatabase } from '../src/db/scratch.js';

// Stryker (npm run test:mutation) keeps one test-runner process per worker and runs mocha in it once per
// mutant: each worker gets its own database, copied before every run from the template that
// scripts/mutation-template.ts migrated with the unmutated code.
const strykerWorker = process.env.STRYKER_MUTATOR_WORKER;
const baseName = process.env.TEST_DATABASE_NAME ?? 'porchlight_test';
const testDb = scratchDatabase(strykerWorker === undefined ? baseName : `${baseName}_stryker${strykerWorker}`);

process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = testDb.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `test-${testDb.name}-${process.pid}`;
process.env.APP_SECRET ??= 'test-secret-test-secret-test-secret-0123456789';
process.env.PUBLIC_URL ??= 'http://127.0.0.1:3999';
process.env.LOG_LEVEL ??= 'silent';

/** Under Stryker: each run starts from the migrated template and with none of the previous run's Redis keys. */
async function freshStrykerRun(): Promise<void> {
  await testDb.recreate(`${baseName}_mutation_tpl`);
  const redis = new Redis(process.env.REDIS_URL ?? '');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${process.env.QUEUE_PREFIX}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

let counterCleaner: Redis | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (strykerWorker !== undefined) return freshStrykerRun();
    await testDb.recreate();
    const { migrateLatest } = await import('../src/db/migrate.js');
    await migrateLatest(testDb.url);
  },
  /**
   * Every test starts with fresh rate-limit counters, so the app keeps its real
   * limits (no test-only numbers in src/) and one test's requests from
   * 127.0.0.1 never count against the next.
   */
  async beforeEach() {
    // A client of the test's own: the app's store connection fails fast and
    // queues nothing while it is still connecting.
    counterCleaner ??= new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const redis = counterCleaner;
    const keys = await redis.keys(`${process.env.QUEUE_PREFIX}:rl:*`);
    if (keys.length > 0) await redis.del(...keys);
  },
  async afterAll() {
    const { closeDb } = await import('../src/db/knex.js');
    const { closeStoreRedis } = await import('../src/queue/redis.js');
    await closeStoreRedis();
    await counterCleaner?.quit();
    counterCleaner = undefined; // Stryker runs mocha again in this process
    await closeDb();
  },
};
