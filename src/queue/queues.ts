// BullMQ queue names, job options and the producer side used by web requests.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { config } from '../config.js';
import { logger } from '../logger.js';
import { createRedis } from './redis.js';

export const QUEUE_NAMES = {
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  sendMessage: 'send-message',
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  outboxSweep: 'outbox-sweep',
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  reconcile: 'stripe-reconcile',
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  portalRecovery: 'portal-recovery',
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  portalVisitsRetention: 'portal-visits-retention',
  followups: 'followups',
  autopay: 'autopay',
} as const;

/** Custom backoff type: exponential with jitter (BullMQ calls the worker's backoffStrategy). */
// i18n-exempt: queue and job names, timeout descriptions in engineers' logs
export const JITTERED_BACKOFF = 'jittered-exponential';
export const SEND_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_BASE_MS = 2_000;

/**
 * Delay before retry number `attemptsMade` (1-based): base·2^(n-1), scaled by a
 * random factor in [0.5, 1) so a burst of failures doesn't retry in lockstep.
 */
export function jitteredBackoff(attemptsMade: number, baseMs = DEFAULT_BACKOFF_BASE_MS, random = Math.random): number {
  const exponential = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(exponential * (0.5 + random() * 0.5));
}

/** Job ids are derived from the delivery row (no ':' and never all digits, as BullMQ requires). */
export function deliveryJobId(deliveryId: string): string {
  return `delivery-${deliveryId}`;
}

export const SEND_JOB_OPTIONS = {
  attempts: SEND_ATTEMPTS,
  backoff: { type: JITTERED_BACKOFF },
  // Kept for a while so a second add of the same id is ignored; the row's status guards beyond that.
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

let sendQueue: { queue: Queue; connection: Redis } | undefined;

/** The producer queue for web requests: fails fast when Redis is unreachable. */
export function getSendQueue(): Queue {
  if (!sendQueue) {
    const connection = createRedis('queue');
    const queue = new Queue(QUEUE_NAMES.sendMessage, { connection, prefix: config.queuePrefix });
    // Without a listener an 'error' event would throw; an outage is handled where add() fails.
    queue.on('error', (err) => logger.warn({ err: err.message }, 'send queue connection problem'));
    sendQueue = { queue, connection };
  }
  return sendQueue.queue;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface DeliveryJobData {
  deliveryId: string;
  orgId: string;
}

/**
 * Adds the send job for a stored delivery. Returns false (and logs) when Redis
 * can't take it: the row stays pending and the outbox sweeper enqueues it later.
 */
export async function enqueueDeliveryJob(data: DeliveryJobData, timeoutMs = 2_000): Promise<boolean> {
  try {
    const queue = getSendQueue();
    // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
    await within(queue.waitUntilReady(), timeoutMs, 'connecting to Redis');
    // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
    await within(queue.add('send', data, { ...SEND_JOB_OPTIONS, jobId: deliveryJobId(data.deliveryId) }), timeoutMs, 'adding the job');
    return true;
  } catch (err) {
    logger.warn({ err: (err as Error).message, deliveryId: data.deliveryId }, 'could not enqueue delivery; the outbox sweeper will retry');
    return false;
  }
}

export interface RecoveryJobData {
  /** Normalised: a lowercase email or an E.164 number. */
  email: string | null;
  phone: string | null;
}

let recoveryQueue: Queue | undefined;

/**
 * Adds a "send me my link again" job (the matching runs in the worker, never in the
 * request). Returns false when Redis can't take it within the timeout.
 */
export async function enqueueRecoveryJob(data: RecoveryJobData, timeoutMs = 2_000): Promise<boolean> {
  try {
    const connection = (getSendQueue(), sendQueue!.connection);
    recoveryQueue ??= new Queue(QUEUE_NAMES.portalRecovery, { connection, prefix: config.queuePrefix });
    // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
    await within(recoveryQueue.waitUntilReady(), timeoutMs, 'connecting to Redis');
    // The address lives in Redis only until the job ran.
    await within(
      recoveryQueue.add('recover', data, {
        attempts: 3,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      }),
      timeoutMs,
      // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
      'adding the job',
    );
    return true;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not enqueue a portal link recovery');
    return false;
  }
}

/**
 * Adds many send jobs in bulk (the follow-up scheduler). Returns how many Redis
 * took; on failure the rows stay pending for the outbox sweeper.
 */
export async function enqueueDeliveryJobs(jobs: DeliveryJobData[], chunk = 1_000, timeoutMs = 10_000): Promise<number> {
  let added = 0;
  try {
    const queue = getSendQueue();
    // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
    await within(queue.waitUntilReady(), timeoutMs, 'connecting to Redis');
    const parts: DeliveryJobData[][] = [];
    for (let i = 0; i < jobs.length; i += chunk) parts.push(jobs.slice(i, i + chunk));
    // A few bulks in flight at once keep Redis's pipeline full.
    for (let i = 0; i < parts.length; i += 4) {
      await Promise.all(
        parts.slice(i, i + 4).map(async (part) => {
          await within(
            queue.addBulk(
              part.map((data) => ({ name: 'send', data, opts: { ...SEND_JOB_OPTIONS, jobId: deliveryJobId(data.deliveryId) } })),
            ),
            timeoutMs,
            // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
            'adding jobs',
          );
          added += part.length;
        }),
      );
    }
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, added, total: jobs.length },
      'could not enqueue every delivery; the outbox sweeper will retry',
    );
  }
  return added;
}

/** Closes the producer connection (shutdown, or tests that point it elsewhere). */
export async function closeQueues(): Promise<void> {
  const current = sendQueue;
  sendQueue = undefined;
  const recovery = recoveryQueue;
  recoveryQueue = undefined;
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  if (recovery) await within(recovery.close(), 2_000, 'closing the recovery queue').catch(() => undefined);
  if (!current) return;
  // i18n-exempt: queue and job names, timeout descriptions in engineers' logs
  await within(current.queue.close(), 2_000, 'closing the send queue').catch(() => undefined);
  current.connection.disconnect();
}
