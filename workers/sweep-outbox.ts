// The outbox sweeper: a BullMQ job scheduler (upserted at start and again
// whenever Redis comes back, idempotent) runs sweepOutbox() every
// OUTBOX_SWEEP_SECONDS (default a minute) in whichever worker process picks it up.
import { Queue, Worker } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { sweepOutbox, type SweepOptions } from '../src/messaging/outbox.js';
import { createRedis } from '../src/queue/redis.js';
import { QUEUE_NAMES, closeQueues } from '../src/queue/queues.js';
import { closeWithin } from './send-message.js';
import { keepScheduled, type RunningWorker } from '../src/queue/worker.js';

// i18n-exempt: a queue name
const SWEEP_SCHEDULER_ID = 'outbox-sweep';

export interface SweepWorkerOptions {
  everyMs?: number;
  sweep?: SweepOptions;
}

export async function startOutboxSweeper(options: SweepWorkerOptions = {}): Promise<RunningWorker & { queue: Queue; worker: Worker }> {
  const connection = createRedis('worker');
  const queue = new Queue(QUEUE_NAMES.outboxSweep, { connection, prefix: config.queuePrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'outbox-sweep queue error'));
  const stopWatching = await keepScheduled(connection, SWEEP_SCHEDULER_ID, () =>
    queue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: options.everyMs ?? config.outboxSweepSeconds * 1000 },
      { name: 'sweep', opts: { removeOnComplete: 50, removeOnFail: 50 } },
    ),
  );
  const sweep = { staleAfterSeconds: config.outboxSweepSeconds, ...options.sweep };
  const worker = new Worker(QUEUE_NAMES.outboxSweep, async () => sweepOutbox(sweep), {
    connection,
    prefix: config.queuePrefix,
    concurrency: 1,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'outbox-sweep worker error'));
  await worker.waitUntilReady();
  return {
    // i18n-exempt: a queue name
    name: 'outbox-sweep',
    queue,
    worker,
    close: async () => {
      stopWatching();
      await closeWithin(worker, 10_000);
      await queue.close().catch(() => undefined);
      await closeQueues(); // the producer connection sweeps enqueue through
      connection.disconnect();
    },
  };
}
