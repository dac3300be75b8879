// Health endpoints for load balancers.
import { Router } from 'express';
import { config } from '../config.js';
import { pingDb } from '../db/knex.js';
import { getStoreRedis } from '../queue/redis.js';

export const healthRouter = Router();

// The process is up and serving.
healthRouter.get('/healthz', (_req, res) => {
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

// Ready to take traffic: Postgres answers, and Redis when it is configured.
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
  const ready = Object.values(checks).every((v) => v === 'ok');
  res
    .status(ready ? 200 : 503)
    .set('Cache-Control', 'no-store')
    .json({ status: ready ? 'ok' : 'unavailable', checks });
});
