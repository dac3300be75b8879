// The send-message processor: claims a stored delivery, hands it to Twilio or
// SMTP, and records the outcome. The same function runs in the BullMQ worker
// and, in development without Redis, inside the web process.
//
// Never sending twice. A delivery is claimed with one conditional UPDATE
// (pending|queued → sending, attempts+1) before the provider is called; a job
// that finds the row in any other state does nothing. So a second job for the
// same row (enqueued twice, re-added by the sweeper, retried by BullMQ) can't
// send again once a send has started.
//
// The crash window. If the process dies after the provider accepted the
// message but before the provider id was written, the row stays 'sending'.
// Twilio's Messages API has no idempotency key and SMTP has none either, so
// retrying could deliver a second copy. We choose at-most-once: a 'sending'
// row is never sent again automatically. The sweeper marks rows stuck in
// 'sending' for longer than any provider timeout as failed with a reason that
// says the outcome is unknown, and the contractor decides whether to resend.
// Transient provider errors are caught before that point and put the row back
// to 'queued' for the retry, so only a real crash leaves a row in 'sending'.
//
// The portal link. Stored messages hold a placeholder, not the link (see
// link-placeholder.ts). The claim loads the row's portal link in the same
// transaction and decrypts it; the link goes into the message only in memory,
// right before the provider call, and is never logged. A link revoked (or
// regenerated) or expired since the message was queued fails the delivery
// instead of sending a dead link.
import { UnrecoverableError } from 'bullmq';
import { recordAudit, type AuditInput } from '../db/audit.js';
import { claimDeliveries, recordSends, type ClaimedDelivery } from '../db/sql/messaging.js';
import { withOrg } from '../db/tenancy.js';
import { languageOf, msg, t, translate } from '../i18n/index.js';
import { logger } from '../logger.js';
import { portalUrl } from '../portal-links/queries.js';
import { decryptPortalToken } from '../portal-links/token.js';
import { KeyedBatcher } from './batcher.js';
import { PORTAL_LINK_PLACEHOLDER, fillPortalLink } from './link-placeholder.js';
import type { Channel, DeliveryJob } from './schema.js';
import { getEmailSender, getSmsSender, missingSettings, channelMode, statusCallbackUrl, type EmailAttachment } from './transports.js';

/**
 * Files a receipt email carries (its PDF). Documents sit above messaging, so the
 * processes that send (workers/, the web process) plug the source in with
 * setAttachmentSource(); without one, receipts go out without. Only a receipt
 * asks: the claimed row says which payment it is for, so other messages cost
 * nothing here.
 */
export interface ReceiptRef {
  deliveryId: string;
  paymentId: string;
}
type AttachmentSource = (orgId: string, receipt: ReceiptRef) => Promise<EmailAttachment[]>;
let attachmentSource: AttachmentSource | undefined;

export function setAttachmentSource(source: AttachmentSource | undefined): void {
  attachmentSource = source;
}

/**
 * The row's attachments: none unless it is a receipt, and none when they can't
 * be read right now (the database went away between the claim and the send):
 * the claimed message still goes out — its text says what was paid — rather
 * than staying claimed and skipped by every retry.
 */
async function attachmentsOf(orgId: string, row: ClaimedRow): Promise<EmailAttachment[]> {
  if (!attachmentSource || !row.payment_id) return [];
  try {
    return await attachmentSource(orgId, { deliveryId: row.id, paymentId: row.payment_id });
  } catch (err) {
    logger.warn({ deliveryId: row.id, err: (err as Error).message }, 'could not read the message attachments; sending without them');
    return [];
  }
}

export interface AttemptInfo {
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
}

export type DeliveryOutcome = { result: 'sent'; providerId: string } | { result: 'skipped'; status: string };

/** A claimed delivery, ready to send: the link decrypted in memory, or why it must not go out. */
interface ClaimedRow extends Omit<ClaimedDelivery, 'token_ciphertext' | 'link_revoked_at' | 'link_expired'> {
  /** The real portal link, decrypted for this send; null when the row has none. */
  link_url: string | null;
  /** Why the message must not go out (link revoked, unreadable); null when it can. */
  link_problem: string | null;
}

// Why a delivery failed is stored as a message (src/i18n msg) and written into
// last_error in the org's language by recordFailure.
const REVOKED = 'messages:deliver.linkRevoked';
const EXPIRED = 'messages:deliver.linkExpired';
const LINK_UNREADABLE_REASON = 'messages:deliver.linkUnreadable';
const LINK_MISSING_REASON = 'messages:deliver.linkMissing';
/** What last_error says (in English) when the link was revoked or expired before the send. */
export const LINK_REVOKED_REASON = t('en', REVOKED);
export const LINK_EXPIRED_REASON = t('en', EXPIRED);

/** A failure retrying cannot fix; `status` is what the row becomes. */
class PermanentSendError extends Error {
  constructor(
    message: string,
    public readonly status: 'failed' | 'undeliverable',
  ) {
    super(message);
    this.name = 'PermanentSendError';
  }
}

interface ProviderErrorShape {
  status?: unknown;
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/** Sorts a provider error into permanent (with a reason a contractor can act on) or transient. Exported for tests. */
export function classifySendError(channel: Channel, err: unknown): PermanentSendError | Error {
  const e = (err ?? {}) as ProviderErrorShape;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (channel === 'sms') {
    const status = typeof e.status === 'number' ? e.status : undefined;
    const code = typeof e.code === 'number' ? e.code : undefined;
    if (code === 21211) {
      return new PermanentSendError('messages:deliver.invalidNumber', 'undeliverable');
    }
    if (code === 21610) {
      return new PermanentSendError('messages:deliver.optedOut', 'undeliverable');
    }
    if (code === 21614 || code === 21408 || code === 21612) {
      return new PermanentSendError(msg('messages:deliver.cantText', { code, message }), 'undeliverable');
    }
    if (status === undefined || status === 429 || status >= 500) return new Error(`Twilio: ${message}`);
    return new PermanentSendError(
      code ? msg('messages:deliver.refusedWithCode', { status, code, message }) : msg('messages:deliver.refused', { status, message }),
      'failed',
    );
  }
  // SMTP reply codes are three digits: 5xx is a permanent refusal, 4xx (and no reply at all) a reason to retry.
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (responseCode !== undefined && responseCode >= 500) {
    const reply = typeof e.response === 'string' ? e.response : message;
    return new PermanentSendError(msg('messages:deliver.mailRefused', { reply: reply.slice(0, 300) }), 'undeliverable');
  }
  return new Error(`Email: ${message}`);
}

/** The link to put into a claimed row's message, or why it can't go out. */
function resolveLink(row: ClaimedDelivery): { link_url: string | null; link_problem: string | null } {
  const needsLink = [row.subject, row.body_text, row.body_html].some((part) => part?.includes(PORTAL_LINK_PLACEHOLDER));
  // No link on the row (or no link row to join, which the foreign key rules out): fine unless the text needs one.
  if (!row.portal_link_id || row.token_ciphertext === null) return { link_url: null, link_problem: needsLink ? LINK_MISSING_REASON : null };
  if (row.link_revoked_at) return { link_url: null, link_problem: REVOKED };
  if (row.link_expired) return { link_url: null, link_problem: EXPIRED };
  try {
    return { link_url: portalUrl(decryptPortalToken(row.token_ciphertext)), link_problem: null };
  } catch {
    return { link_url: null, link_problem: LINK_UNREADABLE_REASON };
  }
}

/**
 * Batches per org that may be in flight at once in each batcher (claims,
 * records): a second batch hides the round trip of the first while batches stay
 * large enough to share commits (see batcher.ts).
 */
const BATCHES_IN_FLIGHT = 2;

/**
 * Claims rows in one round trip per batch: pending|queued → sending. A row that
 * isn't claimable comes back as { skipped: status }.
 *
 * Claims for one org can run in overlapping transactions (BATCHES_IN_FLIGHT).
 * The same row in two of them is still claimed once: the second UPDATE waits
 * for the first to commit, re-checks the status, finds 'sending' and skips it.
 */
const claims = new KeyedBatcher<string, ClaimedRow | { skipped: string }>(
  async (orgId, ids) => {
    const results = await claimDeliveries(orgId, ids);
    const claimed = new Map<string, ClaimedDelivery>();
    const others = new Map<string, string>();
    for (const r of results) {
      if (r.claimed) claimed.set(r.id, r);
      else others.set(r.id, r.status);
    }
    // The same id twice in one batch: only the first caller gets the claim.
    const handedOut = new Set<string>();
    return ids.map((id) => {
      const found = claimed.get(id);
      if (found && !handedOut.has(id)) {
        handedOut.add(id);
        const { token_ciphertext: _ciphertext, link_revoked_at: _revoked, link_expired: _expired, ...row } = found;
        return { ...row, ...resolveLink(found) };
      }
      return { skipped: found ? 'sending' : (others.get(id) ?? 'missing') };
    });
  },
  { maxInFlight: BATCHES_IN_FLIGHT },
);

/** Records accepted sends (status, provider id, audit) in one round trip and one asynchronous commit per batch. */
const acceptances = new KeyedBatcher<{ row: ClaimedRow; providerId: string }, void>(
  async (orgId, items) => {
    const audit: AuditInput[] = items.map(({ row, providerId }) => ({
      // i18n-exempt: an actor label and an engineers' error
      actor: { type: 'system', label: 'send-message worker' },
      // i18n-exempt: an audit action
      action: 'message.sent',
      subjectType: 'message_delivery',
      subjectId: row.id,
      data: { channel: row.channel, providerId },
    }));
    await recordSends(
      orgId,
      items.map((i) => ({ id: i.row.id, providerId: i.providerId })),
      audit,
    );
    return items.map(() => undefined);
  },
  { maxInFlight: BATCHES_IN_FLIGHT },
);

async function send(orgId: string, row: ClaimedRow): Promise<string> {
  if (channelMode(row.channel) === 'unavailable') {
    throw new PermanentSendError(
      msg(row.channel === 'sms' ? 'messages:deliver.smsNotSetUp' : 'messages:deliver.emailNotSetUp', {
        settings: missingSettings(row.channel).join(', '),
      }),
      'failed',
    );
  }
  if (row.link_problem) throw new PermanentSendError(row.link_problem, 'failed');
  // In memory only: the filled-in message is handed to the provider and dropped.
  const message = row.link_url ? fillPortalLink(row, row.link_url) : row;
  if (row.channel === 'sms') {
    const { providerId } = await getSmsSender().send({ to: row.to_address, body: message.body_text, statusCallback: statusCallbackUrl() });
    return providerId;
  }
  const { providerId } = await getEmailSender().send({
    to: row.to_address,
    fromName: row.org_name,
    replyTo: row.org_email,
    subject: message.subject ?? row.org_name,
    text: message.body_text,
    html: message.body_html ?? message.body_text,
    attachments: await attachmentsOf(orgId, row),
  });
  return providerId;
}

async function recordFailure(
  job: DeliveryJob,
  row: ClaimedRow,
  status: 'queued' | 'failed' | 'undeliverable',
  reason: string,
): Promise<void> {
  await withOrg(job.orgId, async (db) => {
    // The contractor reads it: in the org's language.
    const org = await db('organizations').first<{ locale: string } | undefined>('locale');
    const words = translate(languageOf(org?.locale), reason);
    const updated = await db('message_deliveries')
      .update({ status, last_error: words.slice(0, 2000), updated_at: db.fn.now() })
      .where({ id: row.id, status: 'sending' });
    if (updated && status !== 'queued') {
      await recordAudit(db, {
        // i18n-exempt: an actor label and an engineers' error
        actor: { type: 'system', label: 'send-message worker' },
        action: `message.${status}`,
        subjectType: 'message_delivery',
        subjectId: row.id,
        data: { channel: row.channel, reason: words },
      });
    }
  });
}

/** How long a worker keeps trying to record a send the provider accepted (Postgres restarting, failing over). */
const RECORD_RETRY_MS = 2 * 60_000;

/**
 * Sends one stored delivery. Throws UnrecoverableError for permanent failures
 * and a plain Error for transient ones (the caller retries with backoff).
 * `recordRetryMs`: how long to keep trying to record a send the provider
 * accepted (tests shorten it).
 */
export async function deliverMessage(
  job: DeliveryJob,
  attempt: AttemptInfo,
  { recordRetryMs = RECORD_RETRY_MS }: { recordRetryMs?: number } = {},
): Promise<DeliveryOutcome> {
  const claimed = await claims.add(job.orgId, job.deliveryId);
  if ('skipped' in claimed) {
    logger.info({ deliveryId: job.deliveryId, status: claimed.skipped }, 'delivery not sendable (already handled); skipping');
    return { result: 'skipped', status: claimed.skipped };
  }
  let providerId: string;
  try {
    providerId = await send(job.orgId, claimed);
  } catch (err) {
    const classified = err instanceof PermanentSendError ? err : classifySendError(claimed.channel, err);
    if (classified instanceof PermanentSendError) {
      await recordFailure(job, claimed, classified.status, classified.message);
      throw new UnrecoverableError(translate('en', classified.message));
    }
    const last = attempt.attempt >= attempt.maxAttempts;
    const reason = last ? msg('messages:deliver.gaveUp', { count: attempt.attempt, error: classified.message }) : classified.message;
    await recordFailure(job, claimed, last ? 'failed' : 'queued', reason);
    throw last ? new UnrecoverableError(translate('en', reason)) : classified;
  }
  await recordAcceptance(job.orgId, claimed, providerId, recordRetryMs);
  return { result: 'sent', providerId };
}

/** The wait before the next try at recording an accepted send: doubling from 200 ms, at most 5 s. Exported for tests. */
export function recordRetryDelayMs(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** attempt);
}

/**
 * The provider has the message: recording that must not be given up on a
 * database blip. Retrying the job can't help (the row is 'sending', so it is
 * never sent again) and would leave the row to be reported as interrupted, so
 * this retries the record itself, with backoff, for RECORD_RETRY_MS.
 */
async function recordAcceptance(orgId: string, row: ClaimedRow, providerId: string, retryMs: number): Promise<void> {
  const until = Date.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await acceptances.add(orgId, { row, providerId });
      if (attempt > 1) logger.info({ deliveryId: row.id, attempt }, 'recorded a sent message after the database came back');
      return;
    } catch (err) {
      if (Date.now() >= until) {
        // i18n-exempt: an actor label and an engineers' error
        throw new UnrecoverableError(`Sent (provider id ${providerId}) but could not record it: ${(err as Error).message}`);
      }
      logger.warn({ deliveryId: row.id, attempt, err: (err as Error).message }, 'sent, but recording it failed; retrying');
      await new Promise((r) => setTimeout(r, recordRetryDelayMs(attempt)));
    }
  }
}
