// Checkout Sessions that must no longer take money: the invoice was voided, or
// the customer started a newer session (a second tab). Our row is marked at once,
// inside the caller's transaction, so the portal never hands it out again; the
// session is expired at Stripe only after that transaction commits (a rolled-back
// void must not kill a live session), and a failure there is logged, never
// raised: Stripe expires it by itself at expires_at, and money that still
// arrives for a void invoice is kept out of it as unapplied (record.ts).
import type Stripe from 'stripe';
import type { Db } from '../../db/tenancy.js';
import { logger } from '../../logger.js';
import { getStripe, stripeConfigured } from '../../stripe/client.js';

/** Why open sessions are retired: the invoice voided, a newer session replacing them, or the deposit they take paid another way. */
type RetireReason = 'invoice_void' | 'replaced' | 'paid_another_way';

export interface RetireOptions {
  reason: RetireReason;
  /** Keep this checkout_sessions row (the session that replaces the others). */
  exceptRowId?: string;
  /** The client to expire with; defaults to the configured one. */
  stripe?: Stripe;
}

const inFlight = new Set<Promise<void>>();

/** Resolves once every expiry scheduled so far has run (tests, graceful shutdown). */
export async function checkoutExpiriesSettled(): Promise<void> {
  while (inFlight.size > 0) await Promise.all([...inFlight]);
}

/** Expires sessions at Stripe once db's transaction has committed; nothing if it rolls back. */
function expireAfterCommit(db: Db, stripeAccount: string, sessionIds: string[], options: RetireOptions): void {
  const run = async () => {
    if (!options.stripe && !stripeConfigured()) return;
    const stripe = options.stripe ?? getStripe();
    const results = await Promise.allSettled(sessionIds.map((id) => stripe.checkout.sessions.expire(id, {}, { stripeAccount })));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        logger.warn(
          { checkoutSession: sessionIds[i], reason: options.reason, err: (result.reason as Error).message },
          'could not expire a Checkout Session at Stripe; it lapses at its own expiry',
        );
      }
    });
  };
  const task: Promise<void> = db.executionPromise
    .then(run, () => undefined)
    .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'expiring Checkout Sessions failed'))
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
}

/**
 * Marks the invoice's open Checkout Sessions expired (so they are never reused)
 * and schedules their expiry at Stripe after commit. For 'replaced', sessions the
 * customer already came back from are left alone: their payment may be settling.
 * Returns the Stripe ids of the sessions retired.
 */
export async function retireOpenCheckoutSessions(
  db: Db,
  target: string | { proposalId: string },
  options: RetireOptions,
): Promise<string[]> {
  // An invoice id, or the proposal whose deposit the sessions take.
  const where = typeof target === 'string' ? { invoice_id: target } : { proposal_id: target.proposalId };
  const query = db('checkout_sessions').where({ ...where, status: 'open' });
  // A session the customer came back from may have a payment settling: left to settle (and be recorded) as it will.
  if (options.reason !== 'invoice_void') query.whereNull('returned_at');
  if (options.exceptRowId) query.whereNot({ id: options.exceptRowId });
  const rows = await query
    .update({ status: 'expired', updated_at: db.fn.now() })
    .returning<{ stripe_checkout_session_id: string | null }[]>('stripe_checkout_session_id');
  const sessionIds = rows.map((r) => r.stripe_checkout_session_id).filter((id): id is string => !!id);
  if (sessionIds.length === 0) return [];
  const org = await db('organizations').first<{ stripe_account_id: string | null } | undefined>('stripe_account_id');
  if (org?.stripe_account_id) expireAfterCommit(db, org.stripe_account_id, sessionIds, options);
  return sessionIds;
}
