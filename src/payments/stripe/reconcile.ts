// Reconciliation: for every connected org, walk the Checkout Sessions,
// PaymentIntents and refunds created on its Stripe account since its stored
// cursor (minus an overlap), and record every succeeded payment or refund that
// the webhooks missed. Orgs run in bounded parallel; one org's failure (e.g.
// access revoked: 401/403 from Stripe) is stored on that org and the others go on.
import pLimit from 'p-limit';
import Stripe from 'stripe';
import { stripeConnectedOrgs, type ConnectedOrg } from '../../db/lookups.js';
import { withOrg } from '../../db/tenancy.js';
import { msg } from '../../i18n/index.js';
import { logger } from '../../logger.js';
import { setReconcileOutcome } from '../../orgs/commands.js';
import { getStripe } from '../../stripe/client.js';
import { idOf, recordStripePayments, recordStripeRefund, type PaymentIntentFacts, type RefundFacts } from './record.js';
import { paysOurs } from './targets.js';

export interface ReconcileOptions {
  stripe?: Stripe;
  /** Orgs reconciled at once. */
  concurrency?: number;
  /** Seconds re-read before the cursor (clock skew, objects that appear late in lists). */
  overlapSeconds?: number;
  /** A pending payment older than this no longer holds the cursor back. */
  maxPendingAgeSeconds?: number;
  /** Only these orgs (tests). */
  orgIds?: string[];
  now?: () => number;
}

interface OrgReconcileResult {
  orgId: string;
  payments: number;
  refunds: number;
  error?: string;
}

export interface ReconcileSummary {
  orgs: number;
  failed: number;
  payments: number;
  refunds: number;
  results: OrgReconcileResult[];
}

const DEFAULT_OVERLAP_SECONDS = 15 * 60;
const DEFAULT_MAX_PENDING_AGE_SECONDS = 7 * 24 * 3600;
const PENDING_PI_STATUSES = new Set(['processing', 'requires_action', 'requires_confirmation', 'requires_capture']);

const unixNow = () => Math.floor(Date.now() / 1000);

/** What the contractor reads on Settings → Payments when a run fails for their account: a message (src/i18n) the page translates. */
function describeReconcileError(err: unknown): string {
  if (err instanceof Stripe.errors.StripeConnectionError) return msg('payments:reconcile.unreachable', { message: err.message });
  if (err instanceof Stripe.errors.StripeError) {
    // The SDK makes a 401 answer a StripeAuthenticationError and a 403 a StripePermissionError.
    const lostAccess = err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError;
    return msg(lostAccess ? 'payments:reconcile.refused' : 'payments:reconcile.stripeError', {
      // An error raised without an HTTP answer has no status: its type says what it was.
      status: String(err.statusCode ?? err.type),
      message: err.message,
    });
  }
  return msg('payments:reconcile.failed', { message: (err as Error).message });
}

async function connectedOrgs(orgIds?: string[]): Promise<ConnectedOrg[]> {
  const rows = await stripeConnectedOrgs();
  return orgIds ? rows.filter((r) => orgIds.includes(r.org_id)) : rows;
}

/** Reconciles one org's connected account; throws on a Stripe or database failure (nothing partial is kept). */
async function reconcileOrg(org: ConnectedOrg, options: ReconcileOptions = {}): Promise<OrgReconcileResult> {
  const stripe = options.stripe ?? getStripe();
  const stripeAccount = org.stripe_account_id;
  const orgId = org.org_id;
  const runStart = (options.now ?? unixNow)();
  const overlap = options.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  const pendingFloor = runStart - (options.maxPendingAgeSeconds ?? DEFAULT_MAX_PENDING_AGE_SECONDS);
  const cursor = org.reconcile_cursor === null ? null : Number(org.reconcile_cursor);
  const listParams = cursor === null ? { limit: 100 } : { limit: 100, created: { gte: Math.max(0, cursor - overlap) } };
  const requestOptions = { stripeAccount };

  let oldestPending = runStart;
  const holdCursor = (created: number) => {
    if (created >= pendingFloor && created < oldestPending) oldestPending = created;
  };

  // Checkout Sessions: which session paid which PaymentIntent; unfinished ones hold the cursor back.
  const sessionOf = new Map<string, string>();
  for await (const session of stripe.checkout.sessions.list(listParams, requestOptions)) {
    if (session.mode !== 'payment' || session.metadata?.org_id !== orgId) continue;
    const pi = idOf(session.payment_intent);
    if (session.payment_status === 'paid' && pi) sessionOf.set(pi, session.id);
    else if (session.status === 'open' || (session.status === 'complete' && session.payment_status === 'unpaid'))
      holdCursor(session.created);
  }

  const succeeded = new Map<string, PaymentIntentFacts>();
  for await (const pi of stripe.paymentIntents.list(listParams, requestOptions)) {
    if (!paysOurs(orgId, pi.metadata)) continue;
    if (pi.status === 'succeeded') succeeded.set(pi.id, pi);
    else if (PENDING_PI_STATUSES.has(pi.status)) holdCursor(pi.created);
  }
  /** Adds a PaymentIntent found outside the listed window, when it succeeded and pays one of our invoices. */
  const fetchSucceeded = async (pi: string) => {
    const fetched = await stripe.paymentIntents.retrieve(pi, {}, requestOptions);
    if (fetched.status === 'succeeded' && paysOurs(orgId, fetched.metadata)) succeeded.set(pi, fetched);
  };
  // A session paid in this window whose PaymentIntent was created before it (rare): fetch it.
  for (const pi of sessionOf.keys()) {
    if (!succeeded.has(pi)) await fetchSucceeded(pi);
  }

  const refunds: RefundFacts[] = [];
  for await (const refund of stripe.refunds.list(listParams, requestOptions)) {
    if (refund.status === 'succeeded') refunds.push(refund);
    else if (refund.status === 'pending') holdCursor(refund.created);
  }

  // What is already recorded (one read), then fetch the payments that refunds point at but we lack.
  const candidatePis = [...new Set([...succeeded.keys(), ...refunds.map((r) => idOf(r.payment_intent)).filter((x): x is string => !!x)])];
  const known = await withOrg(orgId, async (db) => {
    const payments = candidatePis.length
      ? await db('payments')
          .where({ kind: 'payment' })
          .whereIn('stripe_payment_intent_id', candidatePis)
          .select<{ stripe_payment_intent_id: string; stripe_checkout_session_id: string | null; stripe_charge_id: string | null }[]>(
            'stripe_payment_intent_id',
            'stripe_checkout_session_id',
            'stripe_charge_id',
          )
      : [];
    const refundIds = refunds.map((r) => r.id);
    const refundRows = refundIds.length
      ? await db('payments').whereIn('stripe_refund_id', refundIds).select<{ stripe_refund_id: string }[]>('stripe_refund_id')
      : [];
    return {
      payments: new Map(payments.map((p) => [p.stripe_payment_intent_id, p])),
      refunds: new Set(refundRows.map((r) => r.stripe_refund_id)),
    };
  });
  const newRefunds = refunds.filter((r) => !known.refunds.has(r.id));
  for (const refund of newRefunds) {
    const pi = idOf(refund.payment_intent);
    if (pi && !known.payments.has(pi) && !succeeded.has(pi)) await fetchSucceeded(pi);
  }
  const toRecord = [...succeeded.values()].filter((pi) => {
    const row = known.payments.get(pi.id);
    if (!row) return true;
    return (!row.stripe_checkout_session_id && sessionOf.has(pi.id)) || (!row.stripe_charge_id && idOf(pi.latest_charge) !== null);
  });
  // Unknown sessions for PaymentIntents only found through refunds or webhooks.
  for (const pi of toRecord) {
    if (!sessionOf.has(pi.id) && !known.payments.has(pi.id)) {
      const sessions = await stripe.checkout.sessions.list({ payment_intent: pi.id, limit: 1 }, requestOptions);
      if (sessions.data[0]) sessionOf.set(pi.id, sessions.data[0].id);
    }
  }

  const nextCursor = Math.min(runStart, oldestPending);
  return withOrg(orgId, async (db) => {
    // i18n-exempt: an audit label stored in the business's records
    const actor = { type: 'system', label: 'Stripe reconciliation' } as const;
    const outcomes = await recordStripePayments(
      db,
      orgId,
      toRecord.map((pi) => ({ paymentIntent: pi, checkoutSessionId: sessionOf.get(pi.id) ?? null })),
      actor,
    );
    const payments = [...outcomes.values()].filter((o) => o === 'recorded').length;
    let refundCount = 0;
    newRefunds.sort((a, b) => a.created - b.created);
    for (const refund of newRefunds) {
      if ((await recordStripeRefund(db, orgId, refund, actor)) === 'recorded') refundCount += 1;
    }
    await setReconcileOutcome(db, orgId, { cursor: cursor === null ? nextCursor : Math.max(cursor, nextCursor) });
    return { orgId, payments, refunds: refundCount };
  });
}

/** One pass over every connected org. Never throws for one org's failure. */
export async function reconcileAll(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const orgs = await connectedOrgs(options.orgIds);
  const limit = pLimit(options.concurrency ?? 8);
  const results = await Promise.all(
    orgs.map((org) =>
      limit(async (): Promise<OrgReconcileResult> => {
        try {
          return await reconcileOrg(org, options);
        } catch (err) {
          const message = describeReconcileError(err);
          logger.warn({ orgId: org.org_id, err: (err as Error).message }, 'Stripe reconciliation failed for one org');
          await withOrg(org.org_id, (db) => setReconcileOutcome(db, org.org_id, { error: message })).catch((storeErr: unknown) =>
            logger.error({ err: storeErr, orgId: org.org_id }, 'could not store the reconciliation error'),
          );
          return { orgId: org.org_id, payments: 0, refunds: 0, error: message };
        }
      }),
    ),
  );
  return {
    orgs: results.length,
    failed: results.filter((r) => r.error).length,
    payments: results.reduce((n, r) => n + r.payments, 0),
    refunds: results.reduce((n, r) => n + r.refunds, 0),
    results,
  };
}

/** One scheduled pass (worker job, in-process timer or `npm run reconcile`), logged with its counts. */
export async function runReconciliation(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const summary = await reconcileAll(options);
  logger.info(
    { orgs: summary.orgs, failed: summary.failed, payments: summary.payments, refunds: summary.refunds },
    'Stripe reconciliation finished',
  );
  return summary;
}

export interface InProcessSchedule {
  /** Stops the timer and waits for a run in progress. */
  stop: () => Promise<void>;
}

/**
 * Reconciliation on a timer inside this process, for when jobs run in the web
 * process (no REDIS_URL): a first pass soon after start, then one every
 * `everyMs`. A pass still running when the next is due is not overlapped.
 */
export function scheduleInProcessReconciliation(
  everyMs: number,
  { firstAfterMs = 5_000, run = () => runReconciliation() }: { firstAfterMs?: number; run?: () => Promise<unknown> } = {},
): InProcessSchedule {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = run()
      .then(() => undefined)
      .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'Stripe reconciliation run failed'))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(tick, firstAfterMs);
  const every = setInterval(tick, everyMs);
  first.unref();
  every.unref();
  return {
    stop: async () => {
      // No tick runs once its timers are cleared: only the pass in flight is waited for.
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
