// Paying several invoices at once from the portal's invoice list: one Checkout
// Session on the org's connected account (a direct charge) for the open
// invoices the customer ticked. The split is fixed here, deterministically:
// each invoice's whole balance, in invoice-number order, stored with the
// attempt (checkout_session_invoices); record-split.ts applies all of it or
// none. The PaymentIntent's metadata names the attempt (purpose "invoices").
import type Stripe from 'stripe';
import { z } from 'zod';
import { recordAudit, type Actor } from '../../db/audit.js';
import { nowPlusSeconds } from '../../db/sql/time.js';
import type { Db } from '../../db/tenancy.js';
import { balanceOf, isPayable } from '../../lib/balance.js';
import { languageOf, msg, t } from '../../i18n/index.js';
import { conflict, fieldError, forbidden } from '../../lib/errors.js';
import { planFor, platformFeeCents } from '../../plans.js';
import { chosenTipCents, tipFormFields } from '../tips.js';
import { createCheckoutReturnCodes } from './checkout-returns.js';
import { saveCardCheckoutParams } from './saved-cards.js';

/** At most this many invoices in one payment (one Checkout line each). */
const MAX_INVOICES = 25;
const SESSION_LIFETIME_SECONDS = 60 * 60;

export const paySeveralForm = z.object({
  ...tipFormFields,
  // One checkbox per invoice: a single tick arrives as a string, several as an array.
  invoice_ids: z.preprocess(
    (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]),
    z
      .array(z.uuid('payments:several.chooseFromList'), 'payments:several.chooseFromList')
      .min(1, 'payments:several.tickOne')
      .max(MAX_INVOICES, msg('payments:several.atMost', { max: MAX_INVOICES })),
  ),
  // "Save my card for next time" (Pro): the card is kept on the customer's Stripe Customer.
  save_card: z.literal('on', 'payments:several.tickOrEmpty').optional(),
});

export interface SplitCheckoutRequest {
  invoiceIds: string[];
  /** The tip the customer chose (tips.ts); 0 when none. */
  tip?: { tip_choice?: string; tip_amount?: string };
  leadId: string;
  portalLinkId: string;
  returnUrl: (code: string) => string;
  customerEmail?: string | null;
  /** Keep the card for later payments and autopay (only where the plan offers it). */
  saveCard?: boolean;
  actor: Actor;
}

interface SplitInvoice {
  id: string;
  number: number;
  status: string;
  currency: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
}

/**
 * Creates the Checkout Session for the whole balances of these invoices.
 * Refuses (4xx, nothing created here or at Stripe) when the plan or account
 * can't take it, an invoice isn't this customer's (or doesn't exist), one has
 * nothing left to pay, or they are in different currencies.
 */
export async function createSplitCheckout(
  db: Db,
  request: SplitCheckoutRequest,
  stripe: Stripe,
): Promise<{ url: string; sessionId: string }> {
  const org = await db('organizations').first<{
    id: string;
    plan: string;
    stripe_account_id: string | null;
    stripe_charges_enabled: boolean;
    tip_percentages: number[] | null;
    locale: string;
  }>('id', 'plan', 'stripe_account_id', 'stripe_charges_enabled', 'tip_percentages', 'locale');
  // Checkout's lines read in the business's language.
  const lang = languageOf(org.locale);
  const plan = planFor(org.plan);
  if (!plan.onlinePayment || !org.stripe_account_id || !org.stripe_charges_enabled) {
    throw forbidden('settings:pay.noOnlineSeveral');
  }
  const ids = [...new Set(request.invoiceIds.map((id) => id.toLowerCase()))].sort();
  // Locked like a single Pay locks its invoice: a void or another payment waits for this attempt.
  const invoices = await db('invoices')
    .where({ lead_id: request.leadId })
    .whereIn('id', ids)
    .whereNot({ status: 'draft' })
    .orderBy('id')
    .forNoKeyUpdate()
    .select<SplitInvoice[]>('id', 'number', 'status', 'currency', 'total_cents', 'amount_paid_cents');
  if (invoices.length !== ids.length) throw fieldError('invoice_ids', 'payments:several.chooseYours');
  const closed = invoices.find((i) => !isPayable(i));
  if (closed) throw conflict(msg('settings:pay.nothingLeftReload', { number: closed.number }));
  const currency = invoices[0].currency;
  if (invoices.some((i) => i.currency !== currency)) throw fieldError('invoice_ids', 'payments:several.currencies');

  // The split: each invoice's whole balance, in invoice-number order.
  const parts = [...invoices].sort((a, b) => a.number - b.number).map((i, position) => ({ invoice: i, position, amount: balanceOf(i) }));
  const total = parts.reduce((n, p) => n + p.amount, 0);
  // A tip is its own line, recorded on the payment and never on an invoice.
  const tip = chosenTipCents(request.tip ?? {}, org.tip_percentages, total, currency);
  const fee = platformFeeCents(plan, total + tip);
  const [attempt] = await db('checkout_sessions')
    .insert({
      org_id: org.id,
      lead_id: request.leadId,
      amount_cents: total,
      tip_cents: tip,
      currency,
      application_fee_cents: fee,
      expires_at: nowPlusSeconds(db, SESSION_LIFETIME_SECONDS),
    })
    .returning<{ id: string; expires_at: Date }[]>(['id', 'expires_at']);
  await db('checkout_session_invoices').insert(
    parts.map((p) => ({
      org_id: org.id,
      checkout_session_id: attempt.id,
      invoice_id: p.invoice.id,
      position: p.position,
      amount_cents: p.amount,
    })),
  );
  const codes = await createCheckoutReturnCodes(db, {
    orgId: org.id,
    checkoutRowId: attempt.id,
    portalLinkId: request.portalLinkId,
    several: true,
  });
  const metadata = { org_id: org.id, lead_id: request.leadId, purpose: 'invoices', checkout_id: attempt.id, tip_cents: String(tip) };
  const saving = await saveCardCheckoutParams(db, stripe, request.leadId, request.saveCard ?? false);
  const numbers = parts.map((p) => `#${p.invoice.number}`).join(', ');
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      line_items: [
        ...parts.map((p) => ({ name: t(lang, 'payments:line.invoice', { number: p.invoice.number }), amount: p.amount })),
        ...(tip > 0 ? [{ name: t(lang, 'payments:line.tip'), amount: tip }] : []),
      ].map((line) => ({
        quantity: 1,
        price_data: { currency: currency.toLowerCase(), unit_amount: line.amount, product_data: { name: line.name } },
      })),
      payment_intent_data: {
        ...(fee > 0 ? { application_fee_amount: fee } : {}),
        description: `Invoices ${numbers}`.slice(0, 1000),
        ...(saving ? { setup_future_usage: saving.setup_future_usage } : {}),
        metadata,
      },
      metadata: saving ? { ...metadata, save_card: '1' } : metadata,
      client_reference_id: attempt.id,
      ...(saving ? { customer: saving.customer } : request.customerEmail ? { customer_email: request.customerEmail } : {}),
      success_url: request.returnUrl(codes.completed),
      cancel_url: request.returnUrl(codes.cancelled),
      expires_at: Math.floor(attempt.expires_at.getTime() / 1000),
    },
    // i18n-exempt: an idempotency key
    { stripeAccount: org.stripe_account_id, idempotencyKey: `checkout-several:${org.id}:${attempt.id}` },
  );
  if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
  await db('checkout_sessions')
    .where({ id: attempt.id })
    .update({ stripe_checkout_session_id: session.id, url: session.url, updated_at: db.fn.now() });
  await recordAudit(db, {
    actor: request.actor,
    // i18n-exempt: an audit action id
    action: 'checkout.created',
    subjectType: 'invoice',
    subjectId: parts[0].invoice.id,
    data: {
      checkout_session: session.id,
      amount_cents: total,
      tip_cents: tip,
      currency,
      application_fee_cents: fee,
      split: parts.map((p) => ({ invoice_id: p.invoice.id, amount_cents: p.amount })),
    },
  });
  return { url: session.url, sessionId: session.id };
}

/** The customer is back from a several-invoices Checkout. */
export async function markSplitCheckoutReturned(db: Db, leadId: string, sessionId: string): Promise<void> {
  await db('checkout_sessions')
    .where({ lead_id: leadId, stripe_checkout_session_id: sessionId })
    .whereNull('invoice_id')
    .whereNull('proposal_id')
    .whereNull('returned_at')
    .update({ returned_at: db.fn.now(), updated_at: db.fn.now() });
}
