// What every background job's starter returns, shared by workers/ and the web
// process (which runs the same jobs in development without Redis).
import type { Redis } from 'ioredis';
import { logger } from '../logger.js';

/** A started worker (or scheduler) and how to stop it. */
export interface RunningWorker {
  name: string;
  /** Stops taking jobs and waits for the ones in flight. */
  close: () => Promise<void>;
}

/**
 * Sets up a job scheduler now, and again every time `connection` becomes ready
 * after a reconnect. A Redis restarted without its data (no AOF/RDB) has lost
 * the scheduler; upserting is idempotent, so redoing it on a Redis that kept
 * its data changes nothing. Returns a function that stops watching.
 */
export async function keepScheduled(connection: Redis, name: string, upsert: () => Promise<unknown>): Promise<() => void> {
  await upsert();
  const again = () => {
    upsert().then(
      () => logger.info({ scheduler: name }, 'Redis connection ready again: job scheduler re-established'),
      (err: unknown) =>
        logger.warn({ scheduler: name, err: (err as Error).message }, 'could not re-establish job scheduler; retrying at next reconnect'),
    );
  };
  connection.on('ready', again);
  return () => connection.off('ready', again);
}
