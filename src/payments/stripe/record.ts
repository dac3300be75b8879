// Recording Stripe money in Porchlight, shared by the webhook handler and the
// reconciliation worker so both paths converge on the same rows. A payment is
// unique by its PaymentIntent id, a refund by its refund id (partial unique
// indexes); invoice balances move only through invoices' refreshInvoiceBalances.
// recordStripePayments is the one implementation: one payment is a batch of one.
import { recordAudit, recordAudits, type Actor } from '../../db/audit.js';
import {
  insertStripePayments,
  insertStripeRefund,
  insertUnappliedPayment,
  markCheckoutSessionsPaid,
  refundedTotal,
  refundMismatchAudited,
  type StripePaymentInsert,
} from '../../db/sql/payments.js';
import { queueReceipts } from '../../db/sql/receipts.js';
import type { Db } from '../../db/tenancy.js';
import { logger } from '../../logger.js';
import { refreshInvoiceBalance, refreshInvoiceBalances } from '../../invoices/commands.js';
import { recordStripeDeposits } from './record-deposits.js';
import { recordStripeSplitPayments } from './record-split.js';
import { depositProposalIdFor, invoiceIdFor, splitCheckoutIdFor } from './targets.js';

/** The PaymentIntent fields we rely on (a retrieved or listed object). */
export interface PaymentIntentFacts {
  id: string;
  status: string;
  amount_received: number;
  currency: string;
  created: number;
  metadata: Record<string, string> | null;
  latest_charge: string | { id: string } | null;
}

export interface RefundFacts {
  id: string;
  amount: number;
  currency: string;
  status: string | null;
  created: number;
  payment_intent: string | { id: string } | null;
  charge: string | { id: string } | null;
}

export type RecordOutcome =
  | 'recorded' // a new row
  | 'updated' // the row existed; missing Stripe ids were filled in
  | 'unchanged' // already known
  | 'ignored' // not ours, not succeeded, or the invoice is gone
  | 'unapplied' // real money the invoice can't hold: left for a person (audited)
  | 'missing_payment'; // a refund of a payment we don't know yet (caller syncs the PaymentIntent first)

export interface StripePayment {
  paymentIntent: PaymentIntentFacts;
  checkoutSessionId: string | null;
}

export const idOf = (value: string | { id: string } | null | undefined): string | null =>
  !value ? null : typeof value === 'string' ? value : value.id;

const STRIPE_ACTOR: Actor = { type: 'stripe', label: 'Stripe' }; // i18n-exempt: Stripe's, SQL's and the audit log's names

/** Why money that reached Stripe was not applied to its invoice. */
type UnappliedReason = 'currency' | 'overpayment' | 'void' | 'draft';

interface LockedInvoice {
  id: string;
  lead_id: string;
  number: number;
  currency: string;
  status: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
}

interface KnownPayment {
  id: string;
  stripe_payment_intent_id: string;
  stripe_checkout_session_id: string | null;
  stripe_charge_id: string | null;
}

/**
 * Records succeeded PaymentIntents as payments on their invoices, once each, in
 * a handful of statements however many there are. Per PaymentIntent, in order:
 * not succeeded or not ours → ignored; already recorded → missing Checkout
 * Session and charge ids filled in; the invoice void or a draft, another
 * currency, or more than its balance → kept out of it as unapplied (the
 * contractor is told and refunds it); else recorded, and the invoice's balance
 * and the paid Checkout Session follow. Invoices are locked in id order before
 * any payment row, the order every writer of money uses.
 */
export async function recordStripePayments(
  db: Db,
  orgId: string,
  items: StripePayment[],
  actor: Actor = STRIPE_ACTOR,
): Promise<Map<string, RecordOutcome>> {
  // Deposits (a proposal's, before or after its invoice exists) have their own path; the rest pay invoices.
  const deposits = items.filter((item) => depositProposalIdFor(orgId, item.paymentIntent.metadata));
  const outcomes: Map<string, RecordOutcome> = await recordStripeDeposits(db, orgId, deposits, actor);
  // A payment for several invoices: all of its split, or none (record-split.ts).
  const splits = items.filter((item) => splitCheckoutIdFor(orgId, item.paymentIntent.metadata));
  for (const [id, outcome] of await recordStripeSplitPayments(db, orgId, splits, actor)) outcomes.set(id, outcome);
  const candidates = [];
  for (const item of items) {
    if (outcomes.has(item.paymentIntent.id)) continue;
    const pi = item.paymentIntent;
    // Only money received: a succeeded PaymentIntent (Stripe's smallest charge is 50 cents, so never 0).
    const invoiceId = pi.status === 'succeeded' ? invoiceIdFor(orgId, pi.metadata) : null;
    if (invoiceId) candidates.push({ ...item, invoiceId });
    else outcomes.set(pi.id, 'ignored');
  }
  if (candidates.length === 0) return outcomes;
  // Oldest first, so balances move in the order the money moved.
  candidates.sort((a, b) => a.paymentIntent.created - b.paymentIntent.created);

  const invoices = await db('invoices')
    .whereIn('id', [...new Set(candidates.map((c) => c.invoiceId))])
    // Rows are locked in id order, as every path that locks several invoices does: no deadlock between them.
    .orderBy('id')
    .forUpdate()
    .select<LockedInvoice[]>('id', 'lead_id', 'number', 'currency', 'status', 'total_cents', 'amount_paid_cents');
  const byId = new Map(invoices.map((i) => [i.id, { ...i, paid: Number(i.amount_paid_cents) }]));
  const known = new Map(
    (
      await db('payments')
        .where({ kind: 'payment' })
        .whereIn(
          'stripe_payment_intent_id',
          candidates.map((c) => c.paymentIntent.id),
        )
        .select<KnownPayment[]>('id', 'stripe_payment_intent_id', 'stripe_checkout_session_id', 'stripe_charge_id')
    ).map((p) => [p.stripe_payment_intent_id, p]),
  );

  const paidSessions: { payment_intent: string; checkout_session: string | null }[] = [];
  const fresh: StripePaymentInsert[] = [];
  for (const { paymentIntent: pi, checkoutSessionId, invoiceId } of candidates) {
    const invoice = byId.get(invoiceId);
    if (!invoice) {
      logger.warn({ paymentIntent: pi.id, invoiceId }, 'Stripe payment for an invoice that no longer exists; ignored');
      outcomes.set(pi.id, 'ignored');
      continue;
    }
    const chargeId = idOf(pi.latest_charge);
    const existing = known.get(pi.id);
    if (existing) {
      const fill: Record<string, string> = {};
      if (!existing.stripe_checkout_session_id && checkoutSessionId) fill.stripe_checkout_session_id = checkoutSessionId;
      if (!existing.stripe_charge_id && chargeId) fill.stripe_charge_id = chargeId;
      if (Object.keys(fill).length)
        await db('payments')
          .where({ id: existing.id })
          .update({ ...fill, updated_at: db.fn.now() });
      outcomes.set(pi.id, Object.keys(fill).length ? 'updated' : 'unchanged');
      paidSessions.push({ payment_intent: pi.id, checkout_session: checkoutSessionId });
      continue;
    }
    const currency = pi.currency.toUpperCase();
    const row: StripePaymentInsert = {
      lead_id: invoice.lead_id,
      invoice_id: invoice.id,
      amount_cents: pi.amount_received,
      currency,
      created: pi.created,
      payment_intent: pi.id,
      checkout_session: checkoutSessionId,
      charge: chargeId,
    };
    // A void invoice stays void and a draft stays unissued; another currency or a second payment
    // (paid twice, or by hand meanwhile) would break the invoice. Keeping it consistent matters more.
    const reason: UnappliedReason | null =
      invoice.status === 'void'
        ? 'void'
        : invoice.status === 'draft'
          ? 'draft'
          : currency !== invoice.currency
            ? 'currency'
            : invoice.paid + pi.amount_received > Number(invoice.total_cents)
              ? 'overpayment'
              : null;
    if (reason) {
      await recordUnapplied(db, actor, invoice, row, reason);
      outcomes.set(pi.id, 'unapplied');
      continue;
    }
    invoice.paid += pi.amount_received;
    fresh.push(row);
  }

  const inserted = await insertStripePayments(db, orgId, fresh);
  for (const row of fresh) outcomes.set(row.payment_intent, 'unchanged'); // lost a race to a concurrent insert
  for (const row of inserted) outcomes.set(row.stripe_payment_intent_id, 'recorded');
  await refreshInvoiceBalances(
    db,
    inserted.map((r) => r.invoice_id),
  );
  await markCheckoutSessionsPaid(db, [
    ...paidSessions,
    ...inserted.map((r) => ({ payment_intent: r.stripe_payment_intent_id, checkout_session: r.stripe_checkout_session_id })),
  ]);
  const currencyOf = new Map(fresh.map((r) => [r.payment_intent, r.currency]));
  await recordAudits(
    db,
    inserted.map((r) => ({
      actor,
      action: 'payment.recorded', // i18n-exempt: Stripe's, SQL's and the audit log's names
      subjectType: 'payment',
      subjectId: r.id,
      data: {
        payment_intent: r.stripe_payment_intent_id,
        checkout_session: r.stripe_checkout_session_id,
        charge: r.stripe_charge_id,
        amount_cents: r.amount_cents,
        currency: currencyOf.get(r.stripe_payment_intent_id),
        invoice_id: r.invoice_id,
        source: 'stripe',
      },
    })),
  );
  await queueReceipts(
    db,
    inserted.map((r) => r.id),
  );
  return outcomes;
}

/** recordStripePayments() for one PaymentIntent. */
export async function recordStripePayment(
  db: Db,
  orgId: string,
  payment: StripePayment,
  actor: Actor = STRIPE_ACTOR,
): Promise<RecordOutcome> {
  const outcomes = await recordStripePayments(db, orgId, [payment], actor);
  return outcomes.get(payment.paymentIntent.id) ?? 'ignored';
}

/**
 * Real money the invoice can't hold: the invoice is left as it is and the
 * contractor is told (Settings → Payments), once per PaymentIntent however
 * often a webhook replay or a reconciliation run sees it again.
 */
async function recordUnapplied(
  db: Db,
  actor: Actor,
  invoice: Pick<LockedInvoice, 'id' | 'number'>,
  row: StripePaymentInsert,
  reason: UnappliedReason,
): Promise<void> {
  const fresh = await insertUnappliedPayment(db, {
    payment_intent: row.payment_intent,
    checkout_session: row.checkout_session,
    charge: row.charge,
    invoice_id: invoice.id,
    invoice_number: invoice.number,
    amount_cents: row.amount_cents,
    currency: row.currency,
    reason,
    created: row.created,
  });
  if (!fresh) return;
  logger.error({ paymentIntent: row.payment_intent, invoiceId: invoice.id, reason }, 'Stripe payment not applied to its invoice');
  await recordAudit(db, {
    actor,
    action: 'payment.stripe_unapplied', // i18n-exempt: Stripe's, SQL's and the audit log's names
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: {
      payment_intent: row.payment_intent,
      checkout_session: row.checkout_session,
      charge: row.charge,
      amount_cents: row.amount_cents,
      currency: row.currency,
      reason,
    },
  });
}

/**
 * Records a succeeded refund against its payment (once) and moves the invoice
 * balance back. A deposit still waiting on its proposal (no invoice yet) keeps
 * its refund there too, and the invoice made later credits only what is left
 * of it (creditDeposits). 'missing_payment' when the payment isn't recorded yet.
 */
export async function recordStripeRefund(db: Db, orgId: string, refund: RefundFacts, actor: Actor = STRIPE_ACTOR): Promise<RecordOutcome> {
  if (refund.status !== 'succeeded' || !(refund.amount > 0)) return 'ignored';
  const paymentIntentId = idOf(refund.payment_intent);
  if (!paymentIntentId) return 'ignored';
  const known = await db('payments')
    .where({ stripe_payment_intent_id: paymentIntentId, kind: 'payment' })
    .first<{ id: string; invoice_id: string | null; proposal_id: string | null } | undefined>('id', 'invoice_id', 'proposal_id');
  if (!known) return 'missing_payment';
  // What the payment's balance lives on is locked before the payment, in the order every writer of money uses: its
  // invoice, or, for a deposit not yet on an invoice, its proposal (creditDeposits locks it before moving deposits).
  if (known.invoice_id) await db('invoices').where({ id: known.invoice_id }).forUpdate().first('id');
  else await db('proposals').where({ id: known.proposal_id }).forUpdate().first('id');
  const payment = await db('payments').where({ id: known.id }).forUpdate().first<{
    id: string;
    lead_id: string;
    invoice_id: string | null;
    proposal_id: string | null;
    amount_cents: string | number;
    currency: string;
    stripe_charge_id: string | null;
  }>('id', 'lead_id', 'invoice_id', 'proposal_id', 'amount_cents', 'currency', 'stripe_charge_id');
  if (payment.invoice_id !== known.invoice_id) {
    // The deposit was credited to a new invoice between the read and the lock: that invoice isn't locked here. Rare;
    // the webhook answers 5xx (Stripe delivers again) and reconciliation tries again on its next run.
    throw new Error(`Stripe refund ${refund.id}: its deposit moved to an invoice meanwhile; try again`); // i18n-exempt: an engineers' error
  }
  const already = await refundedTotal(db, payment.id, ['succeeded']);
  const chargeId = idOf(refund.charge) ?? payment.stripe_charge_id;
  const audit = { refund: refund.id, payment_intent: paymentIntentId, charge: chargeId, amount_cents: refund.amount };
  const existing = await db('payments').where({ stripe_refund_id: refund.id }).first<{ id: string } | undefined>('id');
  if (existing) return 'unchanged';
  if (already + refund.amount > Number(payment.amount_cents) || refund.currency.toUpperCase() !== payment.currency) {
    // Told once per refund, however many reconciliation runs see it again.
    if (await refundMismatchAudited(db, payment.id, refund.id)) return 'unapplied';
    logger.error({ refund: refund.id, paymentId: payment.id }, 'Stripe refund does not fit its payment; not applied');
    await recordAudit(db, {
      actor,
      action: 'payment.stripe_unapplied', // i18n-exempt: Stripe's, SQL's and the audit log's names
      subjectType: 'payment',
      subjectId: payment.id,
      data: { ...audit, reason: 'refund_mismatch' },
    });
    return 'unapplied';
  }
  const refundRowId = await insertStripeRefund(db, orgId, {
    lead_id: payment.lead_id,
    invoice_id: payment.invoice_id,
    proposal_id: payment.invoice_id ? null : payment.proposal_id,
    refund_of: payment.id,
    amount_cents: refund.amount,
    currency: payment.currency,
    created: refund.created,
    payment_intent: paymentIntentId,
    charge: chargeId,
    refund: refund.id,
  });
  if (!refundRowId) return 'unchanged';
  if (already + refund.amount >= Number(payment.amount_cents)) {
    await db('payments').where({ id: payment.id }).update({ status: 'refunded', updated_at: db.fn.now() });
  }
  if (payment.invoice_id) await refreshInvoiceBalance(db, payment.invoice_id);
  await recordAudit(db, {
    actor,
    action: 'payment.refunded', // i18n-exempt: Stripe's, SQL's and the audit log's names
    subjectType: 'payment',
    subjectId: payment.id,
    data: payment.invoice_id
      ? { ...audit, invoice_id: payment.invoice_id, source: 'stripe' }
      : { ...audit, proposal_id: payment.proposal_id, source: 'stripe' },
  });
  return 'recorded';
}
