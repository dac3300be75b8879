// Redis connections, configured per use as the BullMQ production guide says.
import { Redis, type RedisOptions } from 'ioredis';
import { config } from '../config.js';
import { logger } from '../logger.js';

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
  if (purpose === 'store') {
    // Rate limits sit in front of the portal and login: a command fails at once
    // while Redis is away (and within a second if it hangs), and the caller
    // falls back, so a Redis outage never holds a page for ioredis's retries.
    options.enableOfflineQueue = false;
    options.maxRetriesPerRequest = 0;
    options.commandTimeout = STORE_COMMAND_TIMEOUT_MS;
  }
  return new Redis(url, options);
}

const STORE_COMMAND_TIMEOUT_MS = 1_000;
/** After a failed command, the store connection is left alone this long (unless it reconnects first). */
const STORE_RETRY_AFTER_MS = 5_000;

let store: Redis | undefined;

/** The store connection's outage, if it is in one: warned about once, cleared when it is ready again. */
let outage: { since: Date; retryAt: number } | undefined;

/** Records that the store connection failed: one warning per outage, not one per request. */
export function reportStoreRedisFailure(err: Error): void {
  if (outage) {
    outage.retryAt = Date.now() + STORE_RETRY_AFTER_MS;
    return;
  }
  outage = { since: new Date(), retryAt: Date.now() + STORE_RETRY_AFTER_MS };
  logger.warn(
    { err: err.message },
    'Redis is unreachable: rate limits fall back to this process’s memory (per process, not shared) until it is back',
  );
}

function watchStore(connection: Redis): Redis {
  // ioredis reports every failed reconnect as an 'error' event; the first one starts the outage.
  connection.on('error', (err: Error) => reportStoreRedisFailure(err));
  connection.on('ready', () => {
    if (outage) outage.retryAt = 0;
    reportStoreRedisAnswered();
  });
  return connection;
}

/** Shared connection for rate-limit counters; undefined when REDIS_URL is unset. */
export function getStoreRedis(): Redis | undefined {
  if (!config.redisUrl) return undefined;
  store ??= watchStore(createRedis('store'));
  return store;
}

/**
 * The store connection when it can take a command now: connected, and not
 * within a few seconds of a failed command (a Redis that hangs rather than
 * refuses isn't asked again on every request).
 */
export function usableStoreRedis(): Redis | undefined {
  const connection = getStoreRedis();
  if (!connection || connection.status !== 'ready') return undefined;
  if (outage && Date.now() < outage.retryAt) return undefined;
  return connection;
}

/** A command on the store connection succeeded: ends an outage the 'ready' event didn't (a Redis that hung). */
export function reportStoreRedisAnswered(): void {
  if (!outage || Date.now() < outage.retryAt) return;
  logger.info({ downForMs: Date.now() - outage.since.getTime() }, 'Redis is reachable again: rate limits are shared again');
  outage = undefined;
}

export async function closeStoreRedis(): Promise<void> {
  if (store) {
    const r = store;
    store = undefined;
    outage = undefined;
    r.removeAllListeners('error');
    r.on('error', () => undefined);
    await r.quit().catch(() => r.disconnect());
  }
}
