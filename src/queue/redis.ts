// Redis connections, configured per use as the BullMQ production guide says.
import { Redis, type RedisOptions } from 'ioredis';
import { config } from '../config.js';

export type RedisPurpose =
  | 'worker' // BullMQ workers: block forever, never give up a command
  | 'queue' // producers in web requests: fail fast so an outage is an error we handle
  | 'store'; // rate limits and other small shared state

export function createRedis(purpose: RedisPurpose, url = config.redisUrl): Redis {
  if (!url) throw new Error('REDIS_URL is not set');
  const options: RedisOptions = { connectionName: `porchlight-${purpose}` };
  if (purpose === 'worker') options.maxRetriesPerRequest = null;
  if (purpose === 'queue') {
    options.enableOfflineQueue = false;
    options.maxRetriesPerRequest = 1;
  }
  if (purpose === 'store') options.maxRetriesPerRequest = 2;
  return new Redis(url, options);
}

let store: Redis | undefined;

/** Shared connection for rate-limit counters; undefined when REDIS_URL is unset. */
export function getStoreRedis(): Redis | undefined {
  if (!config.redisUrl) return undefined;
  store ??= createRedis('store');
  return store;
}

export async function closeStoreRedis(): Promise<void> {
  if (store) {
    const r = store;
    store = undefined;
    await r.quit().catch(() => r.disconnect());
  }
}
