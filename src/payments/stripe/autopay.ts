// Autopay (issue 15 point 3, Pro): one run charges every invoice due today
// whose customer turned autopay on, in every org. claim_autopay_attempts()
// stores one attempt per invoice per day first, so a second run the same day
// charges nothing again; each attempt has its own idempotency key, so a charge
// retried after a crash is the same charge at Stripe. The charge is a direct
// charge on the connected account: a PaymentIntent confirmed off-session with
// the saved card. A success is recorded through the same path as webhooks and
// reconciliation (recordStripePayments: once per PaymentIntent, whichever comes
// first). A decline or a card that needs the customer's authentication fails
// the attempt, shows on the invoice, and queues an email and a text with the
// invoice's Pay link.
import Handlebars from 'handlebars';
import pLimit from 'p-limit';
import Stripe from 'stripe';
import type { Actor } from '../../db/audit.js';
import { recordAudits } from '../../db/audit.js';
import {
  autopayNoticeFacts,
  claimAutopayAttempts,
  finishAutopayAttempts,
  storeAutopayFailureNotices,
  type ClaimedAutopayAttempt,
} from '../../db/sql/autopay.js';
import { withOrg, type Db } from '../../db/tenancy.js';
import { formatLocale, languageOf, t } from '../../i18n/index.js';
import { brandingOfFacts } from '../../db/email-layout.js';
import { formatMoney } from '../../lib/money.js';
import { logger } from '../../logger.js';
import { getStripe } from '../../stripe/client.js';
import { recordStripePayments } from './record.js';

// i18n-exempt: audit label
const AUTOPAY_ACTOR: Actor = { type: 'system', label: 'Autopay' };

/** An invoice is tried on at most this many days; after that the customer pays it themselves. */
const AUTOPAY_MAX_ATTEMPTS = 3;
/** A claimed attempt with no answer for this long is charged again (same idempotency key). */
const RETRY_AFTER_SECONDS = 15 * 60;
/** Records are written per org in transactions of at most this many attempts. */
const RECORD_CHUNK = 500;

export interface AutopayOptions {
  now?: Date;
  stripe?: Stripe;
  /** Charges in flight at once. */
  concurrency?: number;
  /** Attempts claimed per run. */
  limit?: number;
  /** The portal-link placeholder the send worker fills in (messaging's). */
  link: string;
}

export interface AutopayRunResult {
  claimed: number;
  succeeded: number;
  failed: number;
  /** Stripe gave no answer (network, 5xx): left pending, tried again later with the same key. */
  unanswered: number;
  deliveries: { deliveryId: string; orgId: string }[];
  /** Where the run's time went, in milliseconds: the claim statement, the Stripe calls, the recording transactions. */
  timings: { claimMs: number; chargeMs: number; recordMs: number };
}

type Outcome =
  | { attempt: ClaimedAutopayAttempt; kind: 'succeeded'; paymentIntent: Stripe.PaymentIntent }
  | { attempt: ClaimedAutopayAttempt; kind: 'failed'; code: string; message: string; paymentIntentId: string | null }
  | { attempt: ClaimedAutopayAttempt; kind: 'unanswered'; message: string };

const REASONS = new Set(['authentication_required', 'expired_card', 'insufficient_funds', 'card_declined']);

/** The catalogue key of what the customer reads about a failed automatic payment. */
export function autopayFailureReason(code: string | null): string {
  return `autopay:reason.${code && REASONS.has(code) ? code : 'other'}`;
}

async function charge(stripe: Stripe, attempt: ClaimedAutopayAttempt): Promise<Outcome> {
  const amount = Number(attempt.amount_cents);
  const fee = Number(attempt.application_fee_cents);
  try {
    const paymentIntent = await stripe.paymentIntents.create(
      {
        amount,
        currency: attempt.currency.toLowerCase(),
        // The plan's platform fee, as on a Checkout payment (fixed at the claim, so a retry asks for the same).
        ...(fee > 0 ? { application_fee_amount: fee } : {}),
        customer: attempt.stripe_customer_id,
        payment_method: attempt.payment_method_id,
        off_session: true,
        confirm: true,
        // The same metadata as a single-invoice Checkout: webhooks and reconciliation record it alike.
        metadata: {
          org_id: attempt.org_id,
          invoice_id: attempt.invoice_id,
          lead_id: attempt.lead_id,
          purpose: 'autopay',
          autopay_attempt_id: attempt.attempt_id,
        },
      },
      { stripeAccount: attempt.stripe_account_id, idempotencyKey: attempt.idempotency_key },
    );
    if (paymentIntent.status === 'succeeded') return { attempt, kind: 'succeeded', paymentIntent };
    // i18n-exempt: logged, never shown
    if (paymentIntent.status === 'processing') return { attempt, kind: 'unanswered', message: 'processing at Stripe' };
    return {
      attempt,
      kind: 'failed',
      code: paymentIntent.last_payment_error?.code ?? paymentIntent.status,
      // i18n-exempt: Stripe's words, kept for the contractor's records
      message: paymentIntent.last_payment_error?.message ?? `status ${paymentIntent.status}`,
      paymentIntentId: paymentIntent.id,
    };
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError) {
      return {
        attempt,
        kind: 'failed',
        code: err.code ?? 'card_declined',
        message: err.message,
        paymentIntentId: err.payment_intent?.id ?? null,
      };
    }
    // The card can't be used any more (detached at Stripe, or gone): a failure the customer must fix, not a retry.
    if (err instanceof Stripe.errors.StripeInvalidRequestError && (err.statusCode === 400 || err.statusCode === 404)) {
      return { attempt, kind: 'failed', code: err.code ?? 'invalid_request', message: err.message, paymentIntentId: null };
    }
    return { attempt, kind: 'unanswered', message: (err as Error).message };
  }
}

/** Writes one org's outcomes: attempts, payments (the shared recording path), audit, failure notices. */
async function recordOutcomes(db: Db, orgId: string, outcomes: Outcome[], link: string): Promise<string[]> {
  const succeeded = outcomes.filter((o) => o.kind === 'succeeded');
  const failed = outcomes.filter((o) => o.kind === 'failed');
  if (succeeded.length) {
    await recordStripePayments(
      db,
      orgId,
      succeeded.map((o) => ({ paymentIntent: o.paymentIntent, checkoutSessionId: null })),
      AUTOPAY_ACTOR,
    );
  }
  await finishAutopayAttempts(db, [
    ...succeeded.map((o) => ({
      id: o.attempt.attempt_id,
      status: 'succeeded' as const,
      payment_intent: o.paymentIntent.id,
      failure_code: null,
      failure_message: null,
    })),
    ...failed.map((o) => ({
      id: o.attempt.attempt_id,
      status: 'failed' as const,
      payment_intent: o.paymentIntentId,
      failure_code: o.code.slice(0, 100),
      failure_message: o.message.slice(0, 500),
    })),
  ]);
  await recordAudits(db, [
    ...succeeded.map((o) => ({
      actor: AUTOPAY_ACTOR,
      // i18n-exempt: audit action
      action: 'autopay.charged',
      subjectType: 'invoice',
      subjectId: o.attempt.invoice_id,
      data: { payment_intent: o.paymentIntent.id, amount_cents: Number(o.attempt.amount_cents), currency: o.attempt.currency },
    })),
    ...failed.map((o) => ({
      actor: AUTOPAY_ACTOR,
      // i18n-exempt: audit action
      action: 'autopay.failed',
      subjectType: 'invoice',
      subjectId: o.attempt.invoice_id,
      data: { payment_intent: o.paymentIntentId, code: o.code, amount_cents: Number(o.attempt.amount_cents), currency: o.attempt.currency },
    })),
  ]);
  if (!failed.length) return [];
  const found = await autopayNoticeFacts(
    db,
    failed.map((o) => o.attempt.invoice_id),
  );
  const facts = new Map(found.map((f) => [f.invoice_id, f]));
  const notices = failed.flatMap((o) => {
    const f = facts.get(o.attempt.invoice_id);
    if (!f?.autopay_link_id) return [];
    const lang = languageOf(f.language ?? f.locale);
    const amount = formatMoney(Number(o.attempt.amount_cents), o.attempt.currency, formatLocale(lang, f.locale));
    const reason = t(lang, autopayFailureReason(o.code));
    const values = { business: f.org_name, name: f.first_name, amount, number: f.number, reason, last4: f.card_last4 ?? '····' };
    const what = t(lang, 'autopay:notice.what', values);
    const pay = t(lang, 'autopay:notice.pay', values);
    const greeting = t(lang, 'autopay:notice.greeting', values);
    const subject = t(lang, 'autopay:notice.subject', values);
    return [
      {
        invoiceId: o.attempt.invoice_id,
        leadId: o.attempt.lead_id,
        portalLinkId: f.autopay_link_id,
        to: { email: f.email, phone: f.phone },
        subject,
        text: `${greeting}\n\n${what}\n\n${pay} {link}\n\n${f.org_name}`,
        sms: `${t(lang, 'autopay:notice.sms', values)} {link}`,
        html: {
          lang,
          subject,
          paragraphsHtml: [greeting, what, pay].map((p) => Handlebars.escapeExpression(p)),
          buttonLabel: t(lang, 'autopay:notice.button', values),
          brand: brandingOfFacts(f),
        },
      },
    ];
  });
  return storeAutopayFailureNotices(db, notices, link);
}

/**
 * One autopay run over every org: claim, charge (bounded parallel), record per
 * org. Returns the failure notices it stored, for the caller to hand to the send queue.
 */
export async function runAutopay(options: AutopayOptions): Promise<AutopayRunResult> {
  const now = options.now ?? new Date();
  const stripe = options.stripe ?? getStripe();
  let mark = performance.now();
  const lap = () => {
    const ms = performance.now() - mark;
    mark = performance.now();
    return Math.round(ms);
  };
  const claimed = await claimAutopayAttempts(now, AUTOPAY_MAX_ATTEMPTS, RETRY_AFTER_SECONDS, options.limit ?? 100_000);
  const timings = { claimMs: lap(), chargeMs: 0, recordMs: 0 };
  const result: AutopayRunResult = { claimed: claimed.length, succeeded: 0, failed: 0, unanswered: 0, deliveries: [], timings };
  if (claimed.length === 0) return result;
  const limit = pLimit(options.concurrency ?? 16);
  const outcomes = await Promise.all(claimed.map((attempt) => limit(() => charge(stripe, attempt))));
  timings.chargeMs = lap();
  const byOrg = new Map<string, Outcome[]>();
  for (const outcome of outcomes) {
    if (outcome.kind === 'unanswered') {
      result.unanswered += 1;
      logger.warn({ attempt: outcome.attempt.attempt_id, err: outcome.message }, 'autopay charge got no answer; tried again later');
      continue;
    }
    const list = byOrg.get(outcome.attempt.org_id) ?? [];
    list.push(outcome);
    byOrg.set(outcome.attempt.org_id, list);
  }
  const writers = pLimit(4);
  await Promise.all(
    [...byOrg].flatMap(([orgId, list]) => {
      const chunks: Outcome[][] = [];
      for (let i = 0; i < list.length; i += RECORD_CHUNK) chunks.push(list.slice(i, i + RECORD_CHUNK));
      return chunks.map((chunk) =>
        writers(async () => {
          try {
            const ids = await withOrg(orgId, (db) => recordOutcomes(db, orgId, chunk, options.link));
            for (const o of chunk) result[o.kind === 'succeeded' ? 'succeeded' : 'failed'] += 1;
            for (const id of ids) result.deliveries.push({ deliveryId: id, orgId });
          } catch (err) {
            // The charges stand at Stripe: webhooks and reconciliation record the payments; the attempts stay
            // pending and are retried with the same idempotency keys, which returns the same PaymentIntents.
            result.unanswered += chunk.length;
            logger.error({ err: (err as Error).message, orgId }, 'autopay outcomes could not be recorded');
          }
        }),
      );
    }),
  );
  timings.recordMs = lap();
  logger.info(
    { claimed: result.claimed, succeeded: result.succeeded, failed: result.failed, unanswered: result.unanswered, ...timings },
    'autopay run',
  );
  return result;
}
