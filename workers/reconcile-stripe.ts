// Stripe reconciliation worker: a BullMQ job scheduler adds one job every
// RECONCILE_EVERY_MINUTES minutes; the worker runs runReconciliation() (every
// connected org, bounded parallel, failures stored per org).
import { Queue, Worker } from 'bullmq';
import { hostname } from 'node:os';
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { QUEUE_NAMES } from '../src/queue/queues.js';
import { createRedis } from '../src/queue/redis.js';
import { runReconciliation } from '../src/payments/stripe/reconcile.js';
import { keepScheduled, type RunningWorker } from '../src/queue/worker.js';

export const RECONCILE_QUEUE = QUEUE_NAMES.reconcile;
// i18n-exempt: queue and scheduler names
export const RECONCILE_SCHEDULER_ID = 'stripe-reconcile-every';

/** Idempotent: safe at every worker start; a changed interval replaces the old one. */
export async function scheduleReconciliation(queue: Queue, everyMinutes = config.reconcileEveryMinutes): Promise<void> {
  await queue.upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: everyMinutes * 60_000 },
    { name: 'reconcile', data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
}

export async function startReconcileWorker(): Promise<RunningWorker> {
  const queueConnection = createRedis('worker');
  const queue = new Queue(RECONCILE_QUEUE, { connection: queueConnection, prefix: config.queuePrefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'stripe-reconcile queue connection problem'));
  // Again whenever Redis comes back: one restarted without its data has lost the schedule.
  const stopWatching = await keepScheduled(queueConnection, RECONCILE_SCHEDULER_ID, () => scheduleReconciliation(queue));
  const worker = new Worker(
    RECONCILE_QUEUE,
    async () => {
      const summary = await runReconciliation();
      return { orgs: summary.orgs, failed: summary.failed, payments: summary.payments, refunds: summary.refunds };
    },
    // One run at a time per worker; a run over many orgs keeps its lock renewed.
    // The name is stored on each job it runs (processedBy): which process reconciled.
    { name: `${hostname()}:${process.pid}`, connection: createRedis('worker'), prefix: config.queuePrefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => logger.error({ err: err.message, job: job?.id }, 'Stripe reconciliation run failed'));
  worker.on('error', (err) => logger.error({ err: err.message }, 'stripe-reconcile worker error'));
  return {
    // i18n-exempt: queue and scheduler names
    name: 'stripe-reconcile',
    close: async () => {
      stopWatching();
      await worker.close();
      await queue.close();
      queueConnection.disconnect();
    },
  };
}
