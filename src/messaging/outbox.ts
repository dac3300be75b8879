// The transactional outbox: a stored delivery row is the source of truth; the
// queue only carries "go send row X". Dispatch happens after the row commits,
// and the sweeper re-dispatches rows Redis never got (outage, crash).
import { UnrecoverableError } from 'bullmq';
import { config } from '../config.js';
import { recordAudit } from '../db/audit.js';
import { unsentDeliveries } from '../db/lookups.js';
import { languageOf, t } from '../i18n/index.js';
import { withOrg } from '../db/tenancy.js';
import { logger } from '../logger.js';
import { DEFAULT_BACKOFF_BASE_MS, SEND_ATTEMPTS, enqueueDeliveryJob, jitteredBackoff, type DeliveryJobData } from '../queue/queues.js';
import { deliverMessage } from './deliver.js';

/** Development without REDIS_URL: the same processor, retried with the same backoff, in this process. */
function runInProcess(job: DeliveryJobData, attempt = 1): void {
  setImmediate(() => {
    deliverMessage(job, { attempt, maxAttempts: SEND_ATTEMPTS }).catch((err: unknown) => {
      if (err instanceof UnrecoverableError || attempt >= SEND_ATTEMPTS) {
        logger.warn({ deliveryId: job.deliveryId, err: (err as Error).message }, 'in-process delivery failed');
        return;
      }
      const delay = jitteredBackoff(attempt, DEFAULT_BACKOFF_BASE_MS);
      setTimeout(() => runInProcess(job, attempt + 1), delay).unref();
    });
  });
}

/**
 * Hands a committed delivery to the queue and marks it queued. Never throws:
 * when Redis is down the row stays pending for the sweeper.
 */
export async function dispatchDelivery(job: DeliveryJobData): Promise<boolean> {
  if (!config.redisUrl) {
    if (config.isProduction) return false; // config refuses this; belt and braces
    runInProcess(job);
    return true;
  }
  const added = await enqueueDeliveryJob(job);
  if (added) {
    try {
      await withOrg(job.orgId, (db) =>
        db('message_deliveries').update({ status: 'queued', updated_at: db.fn.now() }).where({ id: job.deliveryId, status: 'pending' }),
      );
    } catch (err) {
      // The job is in Redis; the label is cosmetic. The worker claims pending rows too.
      logger.warn({ err: (err as Error).message, deliveryId: job.deliveryId }, 'could not mark delivery queued');
    }
  }
  return added;
}

export interface SweepOptions {
  /** Pending/queued rows untouched for this long are dispatched again. */
  staleAfterSeconds?: number;
  /** Rows in 'sending' this long are past every provider timeout: their worker died mid-send. */
  sendingTimeoutSeconds?: number;
  limit?: number;
}

export interface SweepResult {
  redispatched: number;
  notDispatched: number;
  interrupted: number;
}

/** One sweep: re-dispatch stale pending/queued rows, close out rows stuck in 'sending'. */
export async function sweepOutbox(options: SweepOptions = {}): Promise<SweepResult> {
  const staleAfter = options.staleAfterSeconds ?? 60;
  const sendingTimeout = options.sendingTimeoutSeconds ?? 15 * 60;
  const limit = options.limit ?? 1000;
  const result: SweepResult = { redispatched: 0, notDispatched: 0, interrupted: 0 };

  const stale = await unsentDeliveries(['pending', 'queued'], staleAfter, limit);
  for (const job of stale) {
    // A job still waiting in Redis under the same id makes this add a no-op.
    if (!(await dispatchDelivery(job))) {
      // Redis can't take jobs: the others would fail the same way, each after its own connection
      // attempt. They stay pending and stale for the next sweep.
      result.notDispatched = stale.length - result.redispatched;
      break;
    }
    result.redispatched += 1;
    // Touch the row so the next sweep leaves it alone while its job waits its turn.
    await withOrg(job.orgId, (db) =>
      db('message_deliveries').update({ updated_at: db.fn.now() }).where({ id: job.deliveryId }).whereIn('status', ['pending', 'queued']),
    );
  }

  for (const job of await unsentDeliveries(['sending'], sendingTimeout, limit)) {
    const changed = await withOrg(job.orgId, async (db) => {
      // The contractor reads why: in the org's language.
      const org = await db('organizations').first<{ locale: string } | undefined>('locale');
      const reason = t(languageOf(org?.locale), 'messages:deliver.interrupted');
      const n = await db('message_deliveries')
        .update({ status: 'failed', last_error: reason, updated_at: db.fn.now() })
        .where({ id: job.deliveryId, status: 'sending' });
      if (n) {
        await recordAudit(db, {
          // i18n-exempt: an actor label and an audit action
          actor: { type: 'system', label: 'outbox sweeper' },
          // i18n-exempt: an audit action
          action: 'message.interrupted',
          subjectType: 'message_delivery',
          subjectId: job.deliveryId,
        });
      }
      return n;
    });
    result.interrupted += changed;
  }
  if (result.redispatched || result.notDispatched || result.interrupted) logger.info(result, 'outbox sweep');
  return result;
}
