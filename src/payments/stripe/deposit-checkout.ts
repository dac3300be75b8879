// Paying a proposal's deposit online, right after approving it (or later, from
// the proposal page): a Checkout Session on the org's connected account, a
// direct charge like an invoice payment (checkout.ts), for what is still due of
// the deposit fixed at approval. The PaymentIntent's metadata names the proposal
// (purpose "deposit"); record-deposits.ts records it, by webhook or reconciliation.
import type Stripe from 'stripe';
import { recordAudit, type Actor } from '../../db/audit.js';
import { nowPlusSeconds } from '../../db/sql/time.js';
import type { Db } from '../../db/tenancy.js';
import { languageOf, msg, t } from '../../i18n/index.js';
import { conflict, forbidden, notFound } from '../../lib/errors.js';
import { planFor, platformFeeCents } from '../../plans.js';
import { depositState } from '../../proposals/deposit.js';
import { reusableOpenSession } from './checkout.js';
import { createCheckoutReturnCodes } from './checkout-returns.js';
import { retireOpenCheckoutSessions } from './sessions.js';

export interface DepositCheckoutRequest {
  proposalId: string;
  leadId: string;
  portalLinkId: string;
  returnUrl: (code: string) => string;
  customerEmail?: string | null;
  actor: Actor;
}

const SESSION_LIFETIME_SECONDS = 60 * 60;

interface DepositOrg {
  id: string;
  plan: string;
  currency: string;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
  locale: string;
}

/** Whether this org's customers can pay a deposit by card now (plan and Stripe account). */
function takesDepositsOnline(org: Pick<DepositOrg, 'plan' | 'stripe_account_id' | 'stripe_charges_enabled'>): boolean {
  return planFor(org.plan).onlinePayment && !!org.stripe_account_id && org.stripe_charges_enabled;
}

/**
 * Creates (or reuses) the Checkout Session for what is still due of an approved
 * proposal's deposit. Refuses (4xx, nothing created at Stripe or here) when the
 * plan or account can't take it, the proposal isn't the customer's or isn't
 * approved, or nothing is due.
 */
export async function createDepositCheckout(
  db: Db,
  request: DepositCheckoutRequest,
  stripe: Stripe,
): Promise<{ url: string; reused: boolean; sessionId: string }> {
  const org = await db('organizations').first<DepositOrg>(
    'id',
    'plan',
    'currency',
    'stripe_account_id',
    'stripe_charges_enabled',
    'locale',
  );
  if (!takesDepositsOnline(org) || !org.stripe_account_id) {
    throw forbidden('settings:pay.noOnlineDeposit');
  }
  // Locked like a deposit being recorded, so the amount due can't change under this attempt.
  const proposal = await db('proposals')
    .where({ id: request.proposalId, lead_id: request.leadId })
    .whereNot({ status: 'draft' })
    .forNoKeyUpdate()
    .first<{ id: string; lead_id: string; number: number; status: string; deposit_cents: string | null } | undefined>(
      'id',
      'lead_id',
      'number',
      'status',
      'deposit_cents',
    );
  if (!proposal) throw notFound('settings:pay.proposalGone');
  const state = await depositState(db, proposal);
  if (!state) throw conflict(msg('settings:pay.noDeposit', { number: proposal.number }));
  const amount = state.outstanding_cents;
  if (amount <= 0) throw conflict(msg('settings:pay.depositPaid', { number: proposal.number }));
  const currency = org.currency;

  const open = await reusableOpenSession(db, { proposal_id: proposal.id }, amount);
  if (open) return open;

  const fee = platformFeeCents(planFor(org.plan), amount);
  const [attempt] = await db('checkout_sessions')
    .insert({
      org_id: org.id,
      proposal_id: proposal.id,
      lead_id: proposal.lead_id,
      amount_cents: amount,
      currency,
      application_fee_cents: fee,
      expires_at: nowPlusSeconds(db, SESSION_LIFETIME_SECONDS),
    })
    .returning<{ id: string; expires_at: Date }[]>(['id', 'expires_at']);
  const codes = await createCheckoutReturnCodes(db, {
    orgId: org.id,
    checkoutRowId: attempt.id,
    proposalId: proposal.id,
    portalLinkId: request.portalLinkId,
  });
  const metadata = { org_id: org.id, proposal_id: proposal.id, lead_id: proposal.lead_id, purpose: 'deposit' };
  const label = t(languageOf(org.locale), 'payments:line.deposit', { number: proposal.number });
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: currency.toLowerCase(), unit_amount: amount, product_data: { name: label } } }],
      payment_intent_data: { ...(fee > 0 ? { application_fee_amount: fee } : {}), description: label, metadata },
      metadata,
      client_reference_id: proposal.id,
      ...(request.customerEmail ? { customer_email: request.customerEmail } : {}),
      success_url: request.returnUrl(codes.completed),
      cancel_url: request.returnUrl(codes.cancelled),
      expires_at: Math.floor(attempt.expires_at.getTime() / 1000),
    },
    { stripeAccount: org.stripe_account_id, idempotencyKey: `deposit:${org.id}:${proposal.id}:${attempt.id}` },
  );
  if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
  await db('checkout_sessions')
    .where({ id: attempt.id })
    .update({ stripe_checkout_session_id: session.id, url: session.url, updated_at: db.fn.now() });
  const replaced = await retireOpenCheckoutSessions(
    db,
    { proposalId: proposal.id },
    { reason: 'replaced', exceptRowId: attempt.id, stripe },
  );
  await recordAudit(db, {
    actor: request.actor,
    action: 'checkout.created', // i18n-exempt: the audit log's name
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: {
      checkout_session: session.id,
      amount_cents: amount,
      currency,
      deposit: true,
      application_fee_cents: fee,
      ...(replaced.length ? { replaced_checkout_sessions: replaced } : {}),
    },
  });
  return { url: session.url, reused: false, sessionId: session.id };
}

/** The customer is back from a deposit Checkout: the proposal page says "processing" until it is recorded. */
export async function markDepositCheckoutReturned(db: Db, proposalId: string, sessionId: string): Promise<void> {
  await db('checkout_sessions')
    .where({ proposal_id: proposalId, stripe_checkout_session_id: sessionId })
    .whereNull('returned_at')
    .update({ returned_at: db.fn.now(), updated_at: db.fn.now() });
}
