// Shared setup for the messaging tests: stand-ins wired into config, an org
// with a customer and a portal link, and a polling helper.
import twilio from 'twilio';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { previewSend } from '../../src/messaging/queries.js';
import { storeDelivery } from '../../src/messaging/commands.js';
import type { SendQuery } from '../../src/messaging/schema.js';
import { getOrg } from '../../src/orgs/queries.js';
import { deliveryJobId, getSendQueue } from '../../src/queue/queues.js';
import { createTestLead, createTestOrg, type LeadAttrs, type TestOrg } from '../support/factories.js';
import type { TwilioStandin } from '../support/twilio-standin.js';
import type { TestSmtp } from '../support/smtp.js';

export function useStandins(twilioStandin: TwilioStandin, smtp: TestSmtp): void {
  config.twilio.accountSid = twilioStandin.accountSid;
  config.twilio.authToken = twilioStandin.authToken;
  config.twilio.messagingServiceSid = 'MG00000000000000000000000000000000';
  config.twilio.fromNumber = undefined;
  config.twilio.apiUrl = twilioStandin.url;
  config.smtp.url = smtp.url;
  config.smtp.from = 'Porchlight <no-reply@porchlight.test>';
  closeTransports();
}

export interface Customer {
  org: TestOrg;
  leadId: string;
  link: string;
}

export async function customerWithLink(attrs: LeadAttrs = {}, options: { link?: boolean } = {}): Promise<Customer> {
  const org = await createTestOrg({ name: `Maple Gutters ${Math.random().toString(36).slice(2, 7)}` });
  const lead = await createTestLead(org.orgId, { first_name: 'Sarah', ...attrs });
  let link = '';
  if (options.link ?? true) {
    link = await withOrg(org.orgId, async (db) => {
      const { link: created } = await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId });
      return created.url;
    });
  }
  return { org, leadId: lead.id, link };
}

/** Stores a delivery the way the send route does (for tests that don't need HTTP). */
export async function storeTestDelivery(customer: Customer, query: Partial<SendQuery> = {}): Promise<string> {
  return withOrg(customer.org.orgId, async (db) => {
    const org = await getOrg(db);
    const preview = await previewSend(db, org, customer.leadId, { channel: 'sms', context: 'general', ...query });
    if (preview.problems.length) throw new Error(preview.problems.join('; '));
    const { id } = await storeDelivery(db, preview, { type: 'user', userId: customer.org.userId });
    return id;
  });
}

export interface DeliverySnapshot {
  status: string;
  attempts: number;
  provider_id: string | null;
  last_error: string | null;
  delivered_at: Date | null;
}

export async function delivery(orgId: string, id: string): Promise<DeliverySnapshot> {
  return withOrg(orgId, (db) =>
    db('message_deliveries').where({ id }).first<DeliverySnapshot>('status', 'attempts', 'provider_id', 'last_error', 'delivered_at'),
  );
}

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > until) throw new Error(`timed out waiting; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
    value = await probe();
  }
  return value;
}

export async function waitForStatus(orgId: string, id: string, statuses: string[], timeoutMs?: number): Promise<DeliverySnapshot> {
  return waitFor(
    () => delivery(orgId, id),
    (d) => statuses.includes(d.status),
    timeoutMs,
  );
}

/**
 * The positive signal that nothing more will be sent for a delivery: its BullMQ
 * job has finished for good (completed, or failed with no retry left) and no
 * other job for the same delivery is waiting, delayed or running.
 */
export async function sendQueueSettled(deliveryId: string, timeoutMs?: number): Promise<void> {
  const queue = getSendQueue();
  await waitFor(
    async () => {
      const state = (await queue.getJob(deliveryJobId(deliveryId)))?.getState() ?? 'missing';
      const unfinished = (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized'])).filter(
        (job) => (job.data as { deliveryId?: string } | undefined)?.deliveryId === deliveryId,
      ).length;
      return { state: await state, unfinished };
    },
    ({ state, unfinished }) => (state === 'completed' || state === 'failed') && unfinished === 0,
    timeoutMs,
  );
}

/** Whether a job that could send the delivery exists in Redis at all. */
export async function hasSendJob(deliveryId: string): Promise<boolean> {
  return !!(await getSendQueue().getJob(deliveryJobId(deliveryId)));
}

export function signTwilio(params: Record<string, string>, token = config.twilio.authToken!): string {
  return twilio.getExpectedTwilioSignature(token, `${config.publicUrl}/webhooks/twilio/status`, params);
}
