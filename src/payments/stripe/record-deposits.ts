// Recording a proposal's deposit paid through Stripe (webhook or reconciliation,
// in any order, once per PaymentIntent). The proposal row is locked first: the
// same lock creditDeposits (invoices/deposits.ts) takes when an invoice is made
// from the proposal, so a deposit and a new invoice never miss each other. When
// the proposal already has an invoice that can hold the money, the deposit is
// recorded on it at once; otherwise it waits on the proposal, unapplied, and the
// invoice made later credits it.
import { recordAudit, type Actor } from '../../db/audit.js';
import { insertStripeDeposit } from '../../db/sql/deposits.js';
import { DEPOSIT_TAKING_STATUSES } from '../../db/sql/invoices.js';
import { queueReceipts } from '../../db/sql/receipts.js';
import { markCheckoutSessionsPaid } from '../../db/sql/payments.js';
import type { Db } from '../../db/tenancy.js';
import { refreshInvoiceBalances } from '../../invoices/commands.js';
import { balanceOf } from '../../lib/balance.js';
import { logger } from '../../logger.js';
import { chargeIdOf, depositProposalIdFor, type TargetedPayment } from './targets.js';

type DepositOutcome = 'recorded' | 'updated' | 'unchanged' | 'ignored';

/** The proposal's invoice that can take `amount` more now (oldest first), locked; null when none can. */
export async function invoiceTakingDeposit(db: Db, proposalId: string, amount: number, currency: string): Promise<string | null> {
  const invoices = await db('invoices')
    .where({ proposal_id: proposalId, currency })
    .whereIn('status', DEPOSIT_TAKING_STATUSES)
    .orderBy('id')
    .forUpdate()
    .select<{ id: string; status: string; total_cents: string; amount_paid_cents: string; created_at: Date }[]>(
      'id',
      'status',
      'total_cents',
      'amount_paid_cents',
      'created_at',
    );
  invoices.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
  // A draft has no balance yet (balanceOf), but can hold the deposit up to its total.
  const room = (i: (typeof invoices)[number]) =>
    i.status === 'draft' ? Number(i.total_cents) - Number(i.amount_paid_cents) : balanceOf(i);
  return invoices.find((i) => room(i) >= amount)?.id ?? null;
}

export async function recordStripeDeposits(
  db: Db,
  orgId: string,
  items: TargetedPayment[],
  actor: Actor,
): Promise<Map<string, DepositOutcome>> {
  const outcomes = new Map<string, DepositOutcome>();
  const candidates = [];
  for (const item of items) {
    const pi = item.paymentIntent;
    const proposalId = depositProposalIdFor(orgId, pi.metadata);
    if (proposalId && pi.status === 'succeeded' && pi.amount_received > 0) candidates.push({ ...item, proposalId });
    else outcomes.set(pi.id, 'ignored');
  }
  if (candidates.length === 0) return outcomes;
  candidates.sort((a, b) => a.paymentIntent.created - b.paymentIntent.created);
  const proposals = await db('proposals')
    .whereIn('id', [...new Set(candidates.map((c) => c.proposalId))].sort())
    .orderBy('id')
    .forUpdate()
    .select<{ id: string; lead_id: string; number: number }[]>('id', 'lead_id', 'number');
  const byId = new Map(proposals.map((p) => [p.id, p]));
  const paidSessions: { payment_intent: string; checkout_session: string | null }[] = [];

  for (const { paymentIntent: pi, checkoutSessionId, proposalId } of candidates) {
    const proposal = byId.get(proposalId);
    if (!proposal) {
      logger.warn({ paymentIntent: pi.id, proposalId }, 'Stripe deposit for a proposal that no longer exists; ignored');
      outcomes.set(pi.id, 'ignored');
      continue;
    }
    const chargeId = chargeIdOf(pi.latest_charge);
    paidSessions.push({ payment_intent: pi.id, checkout_session: checkoutSessionId });
    const existing = await db('payments')
      .where({ kind: 'payment', stripe_payment_intent_id: pi.id })
      .first<{ id: string; stripe_checkout_session_id: string | null; stripe_charge_id: string | null } | undefined>(
        'id',
        'stripe_checkout_session_id',
        'stripe_charge_id',
      );
    if (existing) {
      const fill: Record<string, string> = {};
      if (!existing.stripe_checkout_session_id && checkoutSessionId) fill.stripe_checkout_session_id = checkoutSessionId;
      if (!existing.stripe_charge_id && chargeId) fill.stripe_charge_id = chargeId;
      if (Object.keys(fill).length)
        await db('payments')
          .where({ id: existing.id })
          .update({ ...fill, updated_at: db.fn.now() });
      outcomes.set(pi.id, Object.keys(fill).length ? 'updated' : 'unchanged');
      continue;
    }
    const currency = pi.currency.toUpperCase();
    const invoiceId = await invoiceTakingDeposit(db, proposal.id, pi.amount_received, currency);
    const paymentId = await insertStripeDeposit(db, orgId, {
      lead_id: proposal.lead_id,
      proposal_id: proposal.id,
      invoice_id: invoiceId,
      amount_cents: pi.amount_received,
      currency,
      created: pi.created,
      payment_intent: pi.id,
      checkout_session: checkoutSessionId,
      charge: chargeId,
    });
    if (!paymentId) {
      outcomes.set(pi.id, 'unchanged'); // lost a race to a concurrent insert
      continue;
    }
    if (invoiceId) await refreshInvoiceBalances(db, [invoiceId]);
    // The deposit's receipt, queued with the payment (once: one per payment row).
    await queueReceipts(db, [paymentId]);
    outcomes.set(pi.id, 'recorded');
    await recordAudit(db, {
      actor,
      action: 'payment.recorded', // i18n-exempt: Stripe's, SQL's and the audit log's names
      subjectType: 'payment',
      subjectId: paymentId,
      data: {
        payment_intent: pi.id,
        checkout_session: checkoutSessionId,
        charge: chargeId,
        amount_cents: pi.amount_received,
        currency,
        deposit: true,
        proposal_id: proposal.id,
        invoice_id: invoiceId,
        source: 'stripe',
      },
    });
  }
  await markCheckoutSessionsPaid(db, paidSessions);
  return outcomes;
}
