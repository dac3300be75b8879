// Automatic follow-ups: a BullMQ job scheduler (upserted at start and whenever
// Redis comes back) runs runFollowupScheduler() every few minutes in whichever
// worker process picks the job up. One run stores every due follow-up in every
// org; a second run at the same moment stores none (the SQL's idempotency key).
import { Queue, Worker } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { runFollowupScheduler } from '../src/messaging/followups.js';
import { createRedis } from '../src/queue/redis.js';
import { QUEUE_NAMES } from '../src/queue/queues.js';
import { keepScheduled, type RunningWorker } from '../src/queue/worker.js';
import { closeWithin } from './send-message.js';

// i18n-exempt: a job scheduler id
const FOLLOWUPS_SCHEDULER_ID = 'followups-every';
/** Often enough that a follow-up goes out soon after quiet hours end, rare enough to cost nothing. */
const FOLLOWUPS_EVERY_MS = 5 * 60_000;

export async function startFollowupsWorker(everyMs = FOLLOWUPS_EVERY_MS): Promise<RunningWorker> {
  const connection = createRedis('worker');
  const queue = new Queue(QUEUE_NAMES.followups, { connection, prefix: config.queuePrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'followups queue connection problem'));
  const stopWatching = await keepScheduled(connection, FOLLOWUPS_SCHEDULER_ID, () =>
    queue.upsertJobScheduler(
      FOLLOWUPS_SCHEDULER_ID,
      { every: everyMs },
      { name: 'followups', data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    ),
  );
  const worker = new Worker(QUEUE_NAMES.followups, async () => runFollowupScheduler(), {
    connection: createRedis('worker'),
    prefix: config.queuePrefix,
    concurrency: 1,
  });
  worker.on('failed', (job, err) => logger.error({ err: err.message, job: job?.id }, 'follow-up scheduler run failed'));
  worker.on('error', (err) => logger.error({ err: err.message }, 'followups worker error'));
  await worker.waitUntilReady();
  return {
    name: 'followups',
    close: async () => {
      stopWatching();
      await closeWithin(worker, 10_000);
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
