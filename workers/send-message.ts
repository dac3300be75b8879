// BullMQ worker for the send-message queue: one job = one stored delivery.
import { Worker, type Job } from 'bullmq';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { deliverMessage } from '../src/messaging/deliver.js';
import { deliveryJobSchema } from '../src/messaging/schema.js';
import { closeTransports } from '../src/messaging/transports.js';
import { createRedis } from '../src/queue/redis.js';
import { DEFAULT_BACKOFF_BASE_MS, JITTERED_BACKOFF, QUEUE_NAMES, jitteredBackoff } from '../src/queue/queues.js';
import type { RunningWorker } from '../src/queue/worker.js';

export interface SendWorkerOptions {
  concurrency?: number;
  backoffBaseMs?: number;
  /** How long close() lets in-flight sends finish before giving up on them. */
  shutdownTimeoutMs?: number;
}

/** Races worker.close() against a timer; after the bound, closes by force. */
export async function closeWithin(worker: Worker, ms: number): Promise<'drained' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = worker.close().then(() => 'drained' as const);
  const bound = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), ms);
  });
  const outcome = await Promise.race([graceful, bound]);
  clearTimeout(timer);
  if (outcome === 'forced') {
    logger.warn(
      { worker: worker.name, ms },
      'in-flight jobs did not finish in time; closing anyway (their rows stay "sending" for the sweeper)',
    );
    // close() is memoized, so close(true) would wait on the same promise: don't await it.
    void worker.close(true).catch(() => undefined);
  }
  return outcome;
}

export function createSendWorker(options: SendWorkerOptions = {}): { worker: Worker; running: RunningWorker } {
  const connection = createRedis('worker');
  const base = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const worker = new Worker(
    QUEUE_NAMES.sendMessage,
    async (job: Job) => {
      const data = deliveryJobSchema.parse(job.data);
      return deliverMessage(data, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 });
    },
    {
      connection,
      prefix: config.queuePrefix,
      concurrency: options.concurrency ?? 50,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === JITTERED_BACKOFF ? jitteredBackoff(attemptsMade, base) : base * 2 ** Math.max(0, attemptsMade - 1),
      },
    },
  );
  worker.on('error', (err) => logger.error({ err: err.message }, 'send-message worker error'));
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'send-message job failed');
  });
  const running: RunningWorker = {
    // i18n-exempt: a queue name
    name: 'send-message',
    close: async () => {
      await closeWithin(worker, options.shutdownTimeoutMs ?? 20_000);
      connection.disconnect();
      closeTransports(); // the SMTP pool, after the last send
    },
  };
  return { worker, running };
}

export async function startSendMessageWorker(): Promise<RunningWorker> {
  const { worker, running } = createSendWorker();
  await worker.waitUntilReady();
  return running;
}
