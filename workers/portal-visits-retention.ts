// Portal visit retention: a BullMQ job scheduler (upserted at start and whenever
// Redis comes back) runs pruneOldVisits() every six hours in one worker process.
import { Queue, Worker } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { pruneOldVisits } from '../src/portal/visit-retention.js';
import { QUEUE_NAMES } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { keepScheduled, type RunningWorker } from '../src/queue/worker.js';
import { closeWithin } from './send-message.js';

// i18n-exempt: a queue name
const VISITS_RETENTION_SCHEDULER_ID = 'portal-visits-retention';
const EVERY_MS = 6 * 3600_000;

export async function startVisitsRetention(options: { everyMs?: number } = {}): Promise<RunningWorker & { queue: Queue }> {
  const connection = createRedis('worker');
  const queue = new Queue(QUEUE_NAMES.portalVisitsRetention, { connection, prefix: config.queuePrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'portal-visits-retention queue error'));
  const stopWatching = await keepScheduled(connection, VISITS_RETENTION_SCHEDULER_ID, () =>
    queue.upsertJobScheduler(
      VISITS_RETENTION_SCHEDULER_ID,
      { every: options.everyMs ?? EVERY_MS },
      { name: 'prune', opts: { removeOnComplete: 20, removeOnFail: 50 } },
    ),
  );
  const worker = new Worker(QUEUE_NAMES.portalVisitsRetention, async () => pruneOldVisits(), {
    connection,
    prefix: config.queuePrefix,
    concurrency: 1,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'portal-visits-retention worker error'));
  await worker.waitUntilReady();
  return {
    // i18n-exempt: a queue name
    name: 'portal-visits-retention',
    queue,
    close: async () => {
      stopWatching();
      await closeWithin(worker, 10_000);
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
