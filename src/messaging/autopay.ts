// Autopay's scheduled run (issue 15 point 3): payments/stripe/autopay.ts charges
// every due invoice in every org and stores a failure notice where a card was
// declined; this hands those notices to the send queue, like the follow-up
// scheduler does with its messages.
import { config } from '../config.js';
import { runAutopay, type AutopayRunResult } from '../payments/stripe/autopay.js';
import { enqueueDeliveryJobs } from '../queue/queues.js';
import { PORTAL_LINK_PLACEHOLDER } from './link-placeholder.js';
import { dispatchDelivery } from './outbox.js';

export async function runAutopayScheduler(now: Date = new Date()): Promise<AutopayRunResult & { enqueued: number }> {
  const result = await runAutopay({ now, link: PORTAL_LINK_PLACEHOLDER });
  const jobs = result.deliveries;
  let enqueued = 0;
  if (config.redisUrl) enqueued = await enqueueDeliveryJobs(jobs);
  else for (const job of jobs) if (await dispatchDelivery(job)) enqueued += 1;
  return { ...result, enqueued };
}
