// "Send me my link again": the web request only adds a job; this worker finds the
// matching customers (every org) and queues their links through the message outbox.
import { Worker } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { recoverLinks } from '../src/portal/recovery.js';
import { QUEUE_NAMES, closeQueues, type RecoveryJobData } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import type { RunningWorker } from '../src/queue/worker.js';
import { closeWithin } from './send-message.js';

export async function startPortalRecoveryWorker(): Promise<RunningWorker> {
  const connection = createRedis('worker');
  const worker = new Worker<RecoveryJobData>(QUEUE_NAMES.portalRecovery, async (job) => recoverLinks(job.data), {
    connection,
    prefix: config.queuePrefix,
    concurrency: 2,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'portal-recovery worker error'));
  await worker.waitUntilReady();
  return {
    // i18n-exempt: a queue name
    name: 'portal-recovery',
    close: async () => {
      await closeWithin(worker, 10_000);
      await closeQueues(); // the outbox's producer connection
      connection.disconnect();
    },
  };
}
