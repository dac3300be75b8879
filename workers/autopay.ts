// Autopay: a BullMQ job scheduler (upserted at start and whenever Redis comes
// back) runs runAutopayScheduler() every few minutes in whichever worker process
// picks the job up. One run charges every invoice due in every org; a second run
// the same day charges none again (one attempt per invoice per day, in SQL).
import { Queue, Worker } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { runAutopayScheduler } from '../src/messaging/autopay.js';
import { createRedis } from '../src/queue/redis.js';
import { QUEUE_NAMES } from '../src/queue/queues.js';
import { keepScheduled, type RunningWorker } from '../src/queue/worker.js';
import { closeWithin } from './send-message.js';

// i18n-exempt: scheduler id
const AUTOPAY_SCHEDULER_ID = 'autopay-every';
/** Due invoices are charged within this long of their due day starting; an unanswered charge is retried on a later run. */
const AUTOPAY_EVERY_MS = 10 * 60_000;

export async function startAutopayWorker(everyMs = AUTOPAY_EVERY_MS): Promise<RunningWorker> {
  const connection = createRedis('worker');
  const queue = new Queue(QUEUE_NAMES.autopay, { connection, prefix: config.queuePrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'autopay queue connection problem'));
  const stopWatching = await keepScheduled(connection, AUTOPAY_SCHEDULER_ID, () =>
    queue.upsertJobScheduler(
      AUTOPAY_SCHEDULER_ID,
      { every: everyMs },
      { name: 'autopay', data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    ),
  );
  const worker = new Worker(
    QUEUE_NAMES.autopay,
    async () => {
      await runAutopayScheduler();
    },
    {
      connection: createRedis('worker'),
      prefix: config.queuePrefix,
      concurrency: 1,
    },
  );
  worker.on('failed', (job, err) => logger.error({ err: err.message, job: job?.id }, 'autopay run failed'));
  worker.on('error', (err) => logger.error({ err: err.message }, 'autopay worker error'));
  await worker.waitUntilReady();
  return {
    name: 'autopay',
    close: async () => {
      stopWatching();
      await closeWithin(worker, 10_000);
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
