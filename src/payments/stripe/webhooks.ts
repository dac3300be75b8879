// Stripe Connect events (connected accounts' payments) at /webhooks/stripe.
// Mounted before any body parser: the signature covers the exact bytes, so the
// raw body is verified with the SDK before anything else happens.
//
// Each event: find the org by event.account, re-fetch what it is about from
// Stripe (events repeat and arrive out of order), then in ONE transaction insert
// the stripe_events row (on conflict do nothing: processed once) and apply the
// effects. Any failure → 5xx and nothing written, so Stripe retries.
import { Router } from 'express';
import type Stripe from 'stripe';
import { config } from '../../config.js';
import { recordAudit, type Actor } from '../../db/audit.js';
import { orgByStripeAccount } from '../../db/lookups.js';
import type { Db } from '../../db/tenancy.js';
import { logger } from '../../logger.js';
import { getStripe } from '../../stripe/client.js';
import { applyStripeEventOnce, stripeEventSeen } from '../../stripe/events.js';
import { stripeWebhook } from '../../stripe/webhook.js';
import { applyAccountStatus } from './connect.js';
import { idOf, recordStripePayment, recordStripeRefund } from './record.js';
import { detachOtherCards, recordSavedCard } from './saved-cards.js';
import { paysOurs } from './targets.js';
import { fetchPaymentIntentState, fetchRefunds } from './sync.js';

export const webhookRouter = Router();

type EventOutcome = 'processed' | 'duplicate' | 'ignored';

const STRIPE_ACTOR: Actor = { type: 'stripe', label: 'Stripe' }; // i18n-exempt: Stripe's, SQL's and the audit log's names

type Effect = (db: Db) => Promise<void>;

async function setCheckoutStatus(
  db: Db,
  sessionId: string,
  status: 'processing' | 'failed' | 'expired',
  paymentIntentId: string | null,
): Promise<void> {
  // 'paid' is final: a late "completed (unpaid)" or "failed" never overrides it.
  const row = await db('checkout_sessions')
    .where({ stripe_checkout_session_id: sessionId })
    .whereNot({ status: 'paid' })
    .update({ status, ...(paymentIntentId ? { stripe_payment_intent_id: paymentIntentId } : {}), updated_at: db.fn.now() })
    .returning<{ id: string; invoice_id: string | null; proposal_id: string | null }[]>(['id', 'invoice_id', 'proposal_id']);
  if (row.length && status === 'failed') {
    const { invoice_id: invoiceId, proposal_id: proposalId } = row[0];
    await recordAudit(db, {
      actor: STRIPE_ACTOR,
      action: 'checkout.payment_failed', // i18n-exempt: Stripe's, SQL's and the audit log's names
      // A deposit attempt names its proposal instead of an invoice.
      subjectType: invoiceId ? 'invoice' : 'proposal',
      subjectId: invoiceId ?? proposalId ?? row[0].id,
      data: { checkout_session: sessionId, payment_intent: paymentIntentId },
    });
  }
}

/** Records a PaymentIntent's payment and all of its refunds, as Stripe has them now. */
async function paymentIntentEffect(
  stripe: Stripe,
  account: string,
  orgId: string,
  paymentIntentId: string,
  sessionId: string | null,
  withRefunds: boolean,
): Promise<Effect> {
  const state = await fetchPaymentIntentState(stripe, account, paymentIntentId, sessionId);
  if (!paysOurs(orgId, state.paymentIntent.metadata)) return () => Promise.resolve();
  const refunds = withRefunds ? await fetchRefunds(stripe, account, paymentIntentId) : [];
  return async (db) => {
    await recordStripePayment(db, orgId, state);
    for (const refund of refunds) {
      const outcome = await recordStripeRefund(db, orgId, refund);
      // Only when the payment itself could not be applied (audited there); nothing more to do here.
      if (outcome === 'missing_payment') logger.warn({ refund: refund.id }, 'Stripe refund of a payment that is not recorded; skipped');
    }
  };
}

/**
 * A paid Checkout that asked to save the card (Pro, "Save my card"): the card
 * Stripe attached to the customer's Customer, re-read from Stripe.
 */
async function savedCardEffect(stripe: Stripe, account: string, session: Stripe.Checkout.Session): Promise<Effect | null> {
  const customerId = idOf(session.customer);
  const paymentIntentId = idOf(session.payment_intent);
  const leadId = session.metadata?.lead_id;
  // The caller has checked the session is this org's (metadata.org_id).
  if (session.metadata?.save_card !== '1' || !customerId || !paymentIntentId || !leadId) return null;
  const paymentIntent = await stripe.paymentIntents.retrieve(paymentIntentId, {}, { stripeAccount: account });
  const paymentMethodId = idOf(paymentIntent.payment_method);
  if (!paymentMethodId) return null;
  const paymentMethod = await stripe.paymentMethods.retrieve(paymentMethodId, {}, { stripeAccount: account });
  // The newest card replaces the older ones, at Stripe too. Done before the record: if that then fails,
  // Stripe delivers the event again and the new card (still attached) is recorded then.
  if (idOf(paymentMethod.customer) === customerId) await detachOtherCards(stripe, account, customerId, paymentMethod.id);
  return async (db) => {
    await recordSavedCard(db, { leadId, account, customerId, paymentMethod }, STRIPE_ACTOR);
  };
}

/** What an event means for this org: network reads happen here, writes in the returned effect. */
async function prepare(stripe: Stripe, event: Stripe.Event, orgId: string, account: string): Promise<Effect | null> {
  switch (event.type) {
    case 'checkout.session.completed': // i18n-exempt: Stripe's, SQL's and the audit log's names
    case 'checkout.session.async_payment_succeeded': // i18n-exempt: Stripe's, SQL's and the audit log's names
    case 'checkout.session.async_payment_failed': // i18n-exempt: Stripe's, SQL's and the audit log's names
    case 'checkout.session.expired': {
      const session = event.data.object;
      if (session.mode !== 'payment' || session.metadata?.org_id !== orgId) return () => Promise.resolve();
      const paymentIntentId = idOf(session.payment_intent);
      if (event.type === 'checkout.session.expired') return (db) => setCheckoutStatus(db, session.id, 'expired', paymentIntentId); // i18n-exempt: Stripe's, SQL's and the audit log's names
      if (event.type === 'checkout.session.async_payment_failed')
        // i18n-exempt: Stripe's, SQL's and the audit log's names
        return (db) => setCheckoutStatus(db, session.id, 'failed', paymentIntentId);
      // Paid only when Checkout says so; a delayed method completes 'unpaid' and settles later.
      if (session.payment_status !== 'paid' || !paymentIntentId) {
        return (db) => setCheckoutStatus(db, session.id, 'processing', paymentIntentId);
      }
      const payment = await paymentIntentEffect(stripe, account, orgId, paymentIntentId, session.id, false);
      const card = await savedCardEffect(stripe, account, session);
      if (!card) return payment;
      return async (db) => {
        await payment(db);
        await card(db);
      };
    }
    case 'payment_intent.succeeded': // i18n-exempt: Stripe's, SQL's and the audit log's names
      return paymentIntentEffect(stripe, account, orgId, event.data.object.id, null, false);
    // i18n-exempt: Stripe's, SQL's and the audit log's names
    case 'charge.refunded': {
      const paymentIntentId = idOf(event.data.object.payment_intent);
      if (!paymentIntentId) return () => Promise.resolve();
      return paymentIntentEffect(stripe, account, orgId, paymentIntentId, null, true);
    }
    // i18n-exempt: Stripe's, SQL's and the audit log's names
    case 'account.updated': {
      const current = await stripe.accounts.retrieve(account);
      return async (db) => {
        await applyAccountStatus(db, orgId, current, STRIPE_ACTOR);
      };
    }
    default:
      return null;
  }
}

/** Every Connect event this endpoint acts on (the README lists them to register). */
export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'checkout.session.async_payment_succeeded', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'checkout.session.async_payment_failed', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'checkout.session.expired', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'payment_intent.succeeded', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'charge.refunded', // i18n-exempt: Stripe's, SQL's and the audit log's names
  'account.updated', // i18n-exempt: Stripe's, SQL's and the audit log's names
] as const;

/** Applies a verified Connect event once. Exported for tests and replays. */
async function handleConnectEvent(event: Stripe.Event, stripe: Stripe = getStripe()): Promise<EventOutcome> {
  if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(event.type)) return 'ignored';
  const account = event.account;
  if (!account) return 'ignored';
  const orgId = await orgByStripeAccount(account);
  if (!orgId) {
    logger.warn({ event: event.id, type: event.type }, 'Connect event for an account no org has; ignored');
    return 'ignored';
  }
  // Cheap early exit for redeliveries; the insert below is what guarantees "once".
  if (await stripeEventSeen(orgId, event.id)) return 'duplicate';
  const effect = await prepare(stripe, event, orgId, account);
  if (!effect) return 'ignored';
  return applyStripeEventOnce(orgId, event, effect);
}

webhookRouter.post(
  '/',
  ...stripeWebhook({ name: 'Connect Stripe webhook', secret: () => config.stripe.connectWebhookSecret, handle: handleConnectEvent }), // i18n-exempt: Stripe's, SQL's and the audit log's names
);
