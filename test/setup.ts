// Root hooks: a fresh, migrated test database and a private Redis key prefix
// for this run. Runs before any spec file imports src/config.ts.
import pg from 'pg';

const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const testDbName = process.env.TEST_DATABASE_NAME ?? 'porchlight_test';
if (!/^[a-z0-9_]+$/.test(testDbName)) throw new Error('TEST_DATABASE_NAME: lower-case letters, digits and _ only');
const adminUrl = new URL(base);
adminUrl.pathname = '/postgres';
const testUrl = new URL(base);
testUrl.pathname = `/${testDbName}`;

process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = testUrl.href;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `test-${testDbName}-${process.pid}`;
process.env.APP_SECRET ??= 'test-secret-test-secret-test-secret-0123456789';
process.env.PUBLIC_URL ??= 'http://127.0.0.1:3999';
process.env.LOG_LEVEL ??= 'silent';

async function recreateDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl.href });
  await client.connect();
  try {
    await client.query(`drop database if exists ${testDbName} with (force)`);
    await client.query(`create database ${testDbName}`);
  } finally {
    await client.end();
  }
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    await recreateDatabase();
    const { migrateLatest } = await import('../src/db/migrate.js');
    await migrateLatest(testUrl.href);
  },
  async afterAll() {
    const { closeDb } = await import('../src/db/knex.js');
    const { closeStoreRedis } = await import('../src/queue/redis.js');
    await closeStoreRedis();
    await closeDb();
  },
};
