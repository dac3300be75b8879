// Health endpoints for load balancers.
import { Router } from 'express';
import { config } from '../config.js';
import { pingDb } from '../db/knex.js';
import { getStoreRedis } from '../queue/redis.js';

export const healthRouter = Router();

// The process is up and serving.
healthRouter.get('/healthz', (_req, res) => {
  // i18n-exempt: a header value
  res.set('Cache-Control', 'no-store').json({ status: 'ok' });
});

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What still works, and how, while Redis is away (the web process keeps serving). */
const REDIS_DOWN_DEGRADED = [
  // i18n-exempt: what the health check tells operators
  'rate limits are counted in each web process, not shared, until Redis is back',
  'new messages wait in the outbox and go out once Redis is back', // i18n-exempt: what the health check tells operators
  'scheduled jobs (outbox sweep, Stripe reconciliation) wait for Redis', // i18n-exempt: what the health check tells operators
];

// Ready to take traffic. Postgres down: 503, nothing can be served. Redis down:
// 200 "degraded" with what is reduced, because pages and log-ins still work and
// a load balancer taking every web process out would make the outage total.
healthRouter.get('/readyz', async (_req, res) => {
  const checks: Record<string, string> = {};
  try {
    await withTimeout(pingDb(), 2000);
    checks.postgres = 'ok';
  } catch (err) {
    checks.postgres = `down: ${(err as Error).message}`;
  }
  const redis = getStoreRedis();
  if (config.redisUrl && redis) {
    try {
      await withTimeout(redis.ping(), 2000);
      checks.redis = 'ok';
    } catch (err) {
      checks.redis = `down: ${(err as Error).message}`;
    }
  }
  const postgresUp = checks.postgres === 'ok';
  const redisUp = !checks.redis || checks.redis === 'ok';
  const status = !postgresUp ? 'unavailable' : redisUp ? 'ok' : 'degraded';
  res
    .status(postgresUp ? 200 : 503)
    // i18n-exempt: a header value
    .set('Cache-Control', 'no-store')
    .json({ status, checks, ...(redisUp ? {} : { degraded: REDIS_DOWN_DEGRADED }) });
});
