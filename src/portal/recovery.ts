// "Send me my link again" (issue #14, point 2). The not-found page takes the email or
// phone number the customer's contractor has; the request only validates it and adds a
// job, so the answer is the same, in the same time, whatever matched. The job finds
// every customer of any org with exactly that address and a link that is not revoked,
// and sends that customer's link to that address, through the same outbox as "Send to
// customer". A live link is resent as it is (its token is kept encrypted for exactly
// this); an expired one is replaced by a fresh link first.
import { recordAudit, type Actor } from '../db/audit.js';
import { portalRecoveryMatches, type RecoveryMatch } from '../db/lookups.js';
import type { OrgRow } from '../db/rows.js';
import { withOrg } from '../db/tenancy.js';
import { logger } from '../logger.js';
import { config } from '../config.js';
import { storeDelivery } from '../messaging/commands.js';
import { dispatchDelivery } from '../messaging/outbox.js';
import { previewSend } from '../messaging/queries.js';
import { generatePortalLink } from '../portal-links/commands.js';
import { PortalLinkLimitError } from '../portal-links/queries.js';
import { enqueueRecoveryJob, type RecoveryJobData } from '../queue/queues.js';

// i18n-exempt: an audit label stored in the business's records, not a page's words
const ACTOR: Actor = { type: 'customer', label: 'Customer (asked for their link again)' };

type Outcome = 'sent' | 'fresh' | 'refused' | 'skipped';

async function recoverOne(match: RecoveryMatch, address: RecoveryJobData): Promise<Outcome> {
  const channel = address.email ? 'email' : 'sms';
  const to = address.email ?? address.phone;
  const result = await withOrg(match.org_id, async (db): Promise<{ outcome: Outcome; deliveryId?: string }> => {
    if (match.expired) {
      try {
        await generatePortalLink(db, match.lead_id, ACTOR);
      } catch (err) {
        if (!(err instanceof PortalLinkLimitError)) throw err;
        // No slot for a fresh link on this plan: the contractor sees why nothing went out.
        await recordAudit(db, {
          actor: ACTOR,
          // i18n-exempt: an audit action name
          action: 'portal_link.recovery_refused',
          subjectType: 'lead',
          subjectId: match.lead_id,
          data: { channel, reason: 'plan_limit' },
        });
        return { outcome: 'refused' };
      }
    }
    const org = await db('organizations').first<OrgRow>('*');
    const preview = await previewSend(db, org, match.lead_id, { channel, context: 'general' });
    // The customer's stored address must still be exactly the one asked for, and sendable.
    if (preview.problems.length > 0 || preview.to !== to) return { outcome: 'skipped' };
    const stored = await storeDelivery(db, preview, ACTOR, { customerRequest: true });
    await recordAudit(db, {
      actor: ACTOR,
      // i18n-exempt: an audit action name
      action: 'portal_link.recovery_sent',
      subjectType: 'lead',
      subjectId: match.lead_id,
      data: { channel, deliveryId: stored.id, freshLink: match.expired },
    });
    return { outcome: match.expired ? 'fresh' : 'sent', deliveryId: stored.id };
  });
  // As with "Send to customer": the job is added only once the row is committed.
  if (result.deliveryId) await dispatchDelivery({ deliveryId: result.deliveryId, orgId: match.org_id });
  return result.outcome;
}

/** The job: every match gets its own link at this address; one failing org does not stop the others. */
export async function recoverLinks(address: RecoveryJobData): Promise<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = { sent: 0, fresh: 0, refused: 0, skipped: 0 };
  let failed: unknown;
  for (const match of await portalRecoveryMatches(address)) {
    try {
      counts[await recoverOne(match, address)] += 1;
    } catch (err) {
      failed = err;
      logger.warn(
        { err: (err as Error).message, orgId: match.org_id, leadId: match.lead_id },
        'portal link recovery failed for one customer',
      );
    }
  }
  // Never logs the address; the counts say what happened.
  logger.info(counts, 'portal link recovery');
  if (failed) throw failed instanceof Error ? failed : new Error('portal link recovery failed');
  return counts;
}

/**
 * Hands the request to the worker and returns at once. Without Redis (development)
 * the same processor runs in this process, after the answer.
 */
export async function requestRecovery(address: RecoveryJobData): Promise<void> {
  if (!config.redisUrl) {
    setImmediate(() => {
      recoverLinks(address).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'in-process link recovery failed'));
    });
    return;
  }
  await enqueueRecoveryJob(address);
}
