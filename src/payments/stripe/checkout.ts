// Paying an invoice online: a Stripe Checkout Session on the org's connected
// account (a direct charge; the platform fee comes from src/plans.ts), for the
// balance due or a partial amount the customer chooses. Every attempt is kept in
// checkout_sessions so the portal can say "payment processing" after the
// customer returns, until a webhook or the reconciliation records the payment.
import type Stripe from 'stripe';
import { z } from 'zod';
import { recordAudit, type Actor } from '../../db/audit.js';
import { nowMinusSeconds, nowPlusSeconds } from '../../db/sql/time.js';
import type { Db } from '../../db/tenancy.js';
import { balanceOf, isPayable } from '../../lib/balance.js';
import { languageOf, msg, t } from '../../i18n/index.js';
import { conflict, fieldError, forbidden, notFound } from '../../lib/errors.js';
import { formatMoney, moneyInputStep, moneyInputValue, parseMoneyInput } from '../../lib/money.js';
import { planFor, platformFeeCents, type Plan } from '../../plans.js';
import { createCheckoutReturnCodes } from './checkout-returns.js';
import { saveCardCheckoutParams } from './saved-cards.js';
import { retireOpenCheckoutSessions } from './sessions.js';

interface OrgPayFields {
  id: string;
  plan: string;
  locale: string;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
}

interface InvoicePayFields {
  id: string;
  lead_id: string;
  number: number;
  status: string;
  currency: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
}

/** Whether the Pay button may be shown: plan, account and invoice all allow it. */
export function canPayOnline(
  plan: Plan,
  org: Pick<OrgPayFields, 'stripe_account_id' | 'stripe_charges_enabled'>,
  invoice: Pick<InvoicePayFields, 'status' | 'total_cents' | 'amount_paid_cents'>,
): boolean {
  return plan.onlinePayment && !!org.stripe_account_id && org.stripe_charges_enabled && isPayable(invoice);
}

/** The smallest amount a customer may choose: the plan's minimum, or the whole balance when it is smaller. */
const minimumPayment = (plan: Plan, balance: number) => Math.min(plan.minimumOnlinePaymentCents, balance);

export interface OnlinePayment {
  /** The Pay form can be shown. */
  available: boolean;
  balance_cents: number;
  minimum_cents: number;
  currency: string;
  /** Values for the form (decimal strings in the invoice currency). */
  balance_input: string;
  minimum_input: string;
  step: string;
  /** The customer came back from Checkout and the payment isn't recorded yet. */
  processing: boolean;
  /** The last attempt failed (delayed payment declined). */
  failed: boolean;
}

async function loadOrg(db: Db): Promise<OrgPayFields> {
  return db('organizations').first<OrgPayFields>('id', 'plan', 'locale', 'stripe_account_id', 'stripe_charges_enabled');
}

async function loadInvoice(db: Db, invoiceId: string, leadId: string, options: { lock?: boolean } = {}): Promise<InvoicePayFields> {
  const query = db('invoices').where({ id: invoiceId, lead_id: leadId }).whereNot({ status: 'draft' });
  // Serializes Pay with a void and with Pay from another tab (payments insert under their own key-share lock).
  if (options.lock) query.forNoKeyUpdate();
  const invoice = await query.first<InvoicePayFields | undefined>(
    'id',
    'lead_id',
    'number',
    'status',
    'currency',
    'total_cents',
    'amount_paid_cents',
  );
  if (!invoice) throw notFound('settings:pay.invoiceGone');
  return invoice;
}

/** What the portal invoice page needs for the Pay form and the "processing" notice. */
export async function onlinePaymentFor(db: Db, invoiceId: string, leadId: string): Promise<OnlinePayment> {
  const [org, invoice] = await Promise.all([loadOrg(db), loadInvoice(db, invoiceId, leadId)]);
  const latest = await db('checkout_sessions')
    .where({ invoice_id: invoice.id })
    .whereNotNull('returned_at')
    .orderBy('returned_at', 'desc')
    .first<{ status: string } | undefined>('status');
  return onlinePaymentState(planFor(org.plan), org, invoice, latest?.status ?? null);
}

/**
 * The same answer from facts already loaded (the portal page's one query reads
 * them): no database access.
 */
export function onlinePaymentState(
  plan: Plan,
  org: Pick<OrgPayFields, 'stripe_account_id' | 'stripe_charges_enabled'>,
  invoice: Pick<InvoicePayFields, 'status' | 'currency' | 'total_cents' | 'amount_paid_cents'>,
  latestReturnedStatus: string | null,
): OnlinePayment {
  const balance = balanceOf(invoice);
  const latest = latestReturnedStatus === null ? undefined : { status: latestReturnedStatus };
  const minimum = minimumPayment(plan, Math.max(balance, 0));
  return {
    available: canPayOnline(plan, org, invoice),
    balance_cents: balance,
    minimum_cents: minimum,
    currency: invoice.currency,
    balance_input: moneyInputValue(Math.max(balance, 0), invoice.currency),
    minimum_input: moneyInputValue(minimum, invoice.currency),
    step: moneyInputStep(invoice.currency),
    processing: latest?.status === 'open' || latest?.status === 'processing',
    failed: latest?.status === 'failed',
  };
}

export const payForm = z.object({
  // Empty or missing: the whole balance.
  amount: z.string().trim().max(32, 'payments:amount.invalid').optional(),
  // "Save my card for next time" (Pro): the card is kept on the customer's Stripe Customer.
  save_card: z.literal('on', 'autopay:errors.choose').optional(),
});

export interface CheckoutRequest {
  invoiceId: string;
  leadId: string;
  /** The portal link the customer pays from: the way back leads to it, and dies with it. */
  portalLinkId: string;
  /** What the customer typed; empty means the balance due. */
  amountInput?: string;
  /** The absolute URL that brings the customer back with a one-time return code (never the portal token). */
  returnUrl: (code: string) => string;
  customerEmail?: string | null;
  /** Keep the card for later payments and autopay (only where the plan offers it). */
  saveCard?: boolean;
  actor: Actor;
}

/** Reused instead of a new session when the customer presses Pay again within this window. */
const REUSE_OPEN_SESSION_SECONDS = 50 * 60;
/** Checkout's own expiry (Stripe allows 30 minutes to 24 hours). */
const SESSION_LIFETIME_SECONDS = 60 * 60;

/**
 * An open Checkout Session for the same document and amount, started recently,
 * whose way back is unused: pressing Pay twice (or back, then Pay) reuses it.
 */
export async function reusableOpenSession(
  db: Db,
  document: { invoice_id: string } | { proposal_id: string },
  amount: number,
): Promise<{ url: string; reused: true; sessionId: string } | null> {
  const open = await db('checkout_sessions')
    .where({ ...document, amount_cents: amount, status: 'open' })
    .whereNull('returned_at')
    .whereNotExists(
      db('checkout_returns')
        .select(1)
        // i18n-exempt: column names
        .where('checkout_returns.checkout_session_id', db.ref('checkout_sessions.id'))
        .whereNotNull('used_at'),
    )
    .where('created_at', '>', nowMinusSeconds(db, REUSE_OPEN_SESSION_SECONDS))
    .whereNotNull('url')
    .orderBy('created_at', 'desc')
    .first<{ url: string; stripe_checkout_session_id: string } | undefined>('url', 'stripe_checkout_session_id');
  return open ? { url: open.url, reused: true, sessionId: open.stripe_checkout_session_id } : null;
}

/**
 * Validates the amount and creates the Checkout Session on the connected
 * account. Refuses (4xx, nothing created at Stripe or here) when the plan, the
 * account or the invoice doesn't allow it, or the amount is out of range.
 */
export async function createInvoiceCheckout(
  db: Db,
  request: CheckoutRequest,
  stripe: Stripe,
): Promise<{ url: string; reused: boolean; sessionId: string }> {
  const org = await loadOrg(db);
  const plan = planFor(org.plan);
  if (!plan.onlinePayment || !org.stripe_account_id || !org.stripe_charges_enabled) {
    throw forbidden('settings:pay.noOnlineInvoice');
  }
  const invoice = await loadInvoice(db, request.invoiceId, request.leadId, { lock: true });
  const balance = balanceOf(invoice);
  if (!isPayable(invoice)) {
    throw conflict(msg('settings:pay.nothingLeft', { number: invoice.number }));
  }
  const currency = invoice.currency;
  const money = (cents: number) => formatMoney(cents, currency, org.locale);
  let amount = balance;
  const typed = request.amountInput?.trim();
  if (typed) {
    const parsed = parseMoneyInput(typed, currency);
    if (parsed === null || parsed <= 0)
      throw fieldError('amount', msg('payments:amount.like', { example: moneyInputValue(balance, currency) }));
    amount = parsed;
  }
  const minimum = minimumPayment(plan, balance);
  if (amount > balance) throw fieldError('amount', msg('payments:amount.moreThanDue', { due: money(balance) }));
  if (amount < minimum) throw fieldError('amount', msg('payments:amount.minimum', { minimum: money(minimum) }));

  // Pressing Pay twice (or back, then Pay) reuses the open session for the same amount,
  // unless the customer already came back from it: its way back is used up.
  // A session that saves the card is never reused for one that doesn't, nor the other way round.
  const open = request.saveCard ? null : await reusableOpenSession(db, { invoice_id: invoice.id }, amount);
  if (open) return open;
  const saving = await saveCardCheckoutParams(db, stripe, invoice.lead_id, request.saveCard ?? false);

  const fee = platformFeeCents(plan, amount);
  const [attempt] = await db('checkout_sessions')
    .insert({
      org_id: org.id,
      invoice_id: invoice.id,
      lead_id: invoice.lead_id,
      amount_cents: amount,
      currency,
      application_fee_cents: fee,
      expires_at: nowPlusSeconds(db, SESSION_LIFETIME_SECONDS),
    })
    .returning<{ id: string; expires_at: Date }[]>(['id', 'expires_at']);
  const returnCodes = await createCheckoutReturnCodes(db, {
    orgId: org.id,
    checkoutRowId: attempt.id,
    invoiceId: invoice.id,
    portalLinkId: request.portalLinkId,
  });
  const metadata = { org_id: org.id, invoice_id: invoice.id, lead_id: invoice.lead_id };
  const partial = amount < balance;
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: currency.toLowerCase(),
            unit_amount: amount,
            product_data: {
              name: t(languageOf(org.locale), partial ? 'payments:line.partial' : 'payments:line.invoice', { number: invoice.number }),
            },
          },
        },
      ],
      payment_intent_data: {
        ...(fee > 0 ? { application_fee_amount: fee } : {}),
        description: `Invoice #${invoice.number}`,
        ...(saving ? { setup_future_usage: saving.setup_future_usage } : {}),
        metadata,
      },
      metadata: saving ? { ...metadata, save_card: '1' } : metadata,
      client_reference_id: invoice.id,
      ...(saving ? { customer: saving.customer } : request.customerEmail ? { customer_email: request.customerEmail } : {}),
      success_url: request.returnUrl(returnCodes.completed),
      cancel_url: request.returnUrl(returnCodes.cancelled),
      expires_at: Math.floor(attempt.expires_at.getTime() / 1000),
    },
    // Built from ids: a retried request (network error) gets the same session, never a second one.
    { stripeAccount: org.stripe_account_id, idempotencyKey: `checkout:${org.id}:${invoice.id}:${attempt.id}` },
  );
  if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
  await db('checkout_sessions')
    .where({ id: attempt.id })
    .update({ stripe_checkout_session_id: session.id, url: session.url, updated_at: db.fn.now() });
  // One payable session per invoice: another tab's session stops taking money.
  const replaced = await retireOpenCheckoutSessions(db, invoice.id, { reason: 'replaced', exceptRowId: attempt.id, stripe });
  await recordAudit(db, {
    actor: request.actor,
    // i18n-exempt: an audit action id
    action: 'checkout.created',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: {
      checkout_session: session.id,
      amount_cents: amount,
      currency,
      partial,
      application_fee_cents: fee,
      ...(replaced.length ? { replaced_checkout_sessions: replaced } : {}),
    },
  });
  return { url: session.url, reused: false, sessionId: session.id };
}

/**
 * The customer is back from Checkout: from now on the invoice page says
 * "processing" until the payment is recorded. Returns false for a session id
 * that isn't this invoice's.
 */
export async function markCheckoutReturned(db: Db, invoiceId: string, leadId: string, sessionId: string): Promise<boolean> {
  const updated = await db('checkout_sessions')
    .where({ invoice_id: invoiceId, lead_id: leadId, stripe_checkout_session_id: sessionId })
    .whereNull('returned_at')
    .update({ returned_at: db.fn.now(), updated_at: db.fn.now() })
    .returning('id');
  if (updated.length) return true;
  const exists = await db('checkout_sessions')
    .where({ invoice_id: invoiceId, lead_id: leadId, stripe_checkout_session_id: sessionId })
    .first<{ id: string } | undefined>('id');
  return !!exists;
}
