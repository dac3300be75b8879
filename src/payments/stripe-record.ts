// Recording Stripe money in Porchlight: one function for payments, one for
// refunds, shared by the webhook handler and the reconciliation worker so both
// paths converge on the same rows. A payment is unique by its PaymentIntent id,
// a refund by its refund id (partial unique indexes); invoice balances move only
// through refreshInvoiceBalance() in src/invoices/service.ts.
import { z } from 'zod';
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { logger } from '../logger.js';
import { refreshInvoiceBalance, refreshInvoiceBalances } from '../invoices/service.js';

const uuid = z.uuid();

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
  | 'unapplied' // real money that would overpay the invoice: left for a person (audited)
  | 'missing_payment'; // a refund of a payment we don't know yet (caller syncs the PaymentIntent first)

export const idOf = (value: string | { id: string } | null | undefined): string | null =>
  !value ? null : typeof value === 'string' ? value : value.id;

interface LockedInvoice {
  id: string;
  lead_id: string;
  number: number;
  currency: string;
  status: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
}

async function lockInvoice(db: Db, invoiceId: string): Promise<LockedInvoice | undefined> {
  return db('invoices')
    .where({ id: invoiceId })
    .forUpdate()
    .first<LockedInvoice | undefined>('id', 'lead_id', 'number', 'currency', 'status', 'total_cents', 'amount_paid_cents');
}

/** The invoice a PaymentIntent pays, from the metadata we set at Checkout; null when it isn't ours. */
export function invoiceIdFor(orgId: string, metadata: Record<string, string> | null | undefined): string | null {
  if (!metadata || metadata.org_id !== orgId) return null;
  const parsed = uuid.safeParse(metadata.invoice_id);
  return parsed.success ? parsed.data : null;
}

const STRIPE_ACTOR: Actor = { type: 'stripe', label: 'Stripe' };

/** Why money that reached Stripe was not applied to its invoice. */
export type UnappliedReason = 'currency' | 'overpayment' | 'void' | 'draft';

/** A void invoice stays void and a draft stays unissued: money for them is never applied. */
const closedToPayments = (invoice: Pick<LockedInvoice, 'status'>): UnappliedReason | null =>
  invoice.status === 'void' ? 'void' : invoice.status === 'draft' ? 'draft' : null;

/**
 * Real money that the invoice can't take (void or draft, other currency, would
 * overpay): the invoice is left as it is, and the contractor is told so they
 * can refund it in their Stripe Dashboard.
 */
async function recordUnappliedPayment(
  db: Db,
  actor: Actor,
  invoice: Pick<LockedInvoice, 'id' | 'number'>,
  data: {
    payment_intent: string;
    checkout_session: string | null;
    charge: string | null;
    amount_cents: number;
    currency: string;
    reason: UnappliedReason;
    created: number;
  },
): Promise<void> {
  // Once per PaymentIntent: a webhook replay or the next reconciliation run's overlap window writes nothing.
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into stripe_unapplied_payments (org_id, stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id,
                                            invoice_id, invoice_number, amount_cents, currency, reason, paid_at)
     values (nullif(current_setting('app.org_id', true), '')::uuid, ?, ?, ?, ?, ?, ?, ?, ?, to_timestamp(?))
     on conflict (org_id, stripe_payment_intent_id) do nothing
     returning id`,
    [data.payment_intent, data.checkout_session, data.charge, invoice.id, invoice.number, data.amount_cents, data.currency, data.reason, data.created],
  );
  if (rows.length === 0) return;
  logger.error({ paymentIntent: data.payment_intent, invoiceId: invoice.id, reason: data.reason }, 'Stripe payment not applied to its invoice');
  const { created: _created, ...audit } = data;
  await recordAudit(db, { actor, action: 'payment.stripe_unapplied', subjectType: 'invoice', subjectId: invoice.id, data: audit });
}

/**
 * Records a succeeded PaymentIntent as a payment on its invoice (once), fills in
 * the Checkout Session and charge ids when they arrive later, and moves the
 * invoice balance. Runs inside the caller's withOrg transaction.
 */
export async function recordStripePayment(
  db: Db,
  orgId: string,
  paymentIntent: PaymentIntentFacts,
  checkoutSessionId: string | null,
  actor: Actor = STRIPE_ACTOR,
): Promise<{ outcome: RecordOutcome; paymentId?: string }> {
  if (paymentIntent.status !== 'succeeded' || !(paymentIntent.amount_received > 0)) return { outcome: 'ignored' };
  const invoiceId = invoiceIdFor(orgId, paymentIntent.metadata);
  if (!invoiceId) return { outcome: 'ignored' };
  // Invoice first, then the payment row: every writer takes locks in this order.
  const invoice = await lockInvoice(db, invoiceId);
  if (!invoice) {
    logger.warn({ paymentIntent: paymentIntent.id, invoiceId }, 'Stripe payment for an invoice that no longer exists; ignored');
    return { outcome: 'ignored' };
  }
  const chargeId = idOf(paymentIntent.latest_charge);
  const existing = await db('payments')
    .where({ stripe_payment_intent_id: paymentIntent.id, kind: 'payment' })
    .first<{ id: string; stripe_checkout_session_id: string | null; stripe_charge_id: string | null } | undefined>(
      'id',
      'stripe_checkout_session_id',
      'stripe_charge_id',
    );
  if (existing) {
    const fill: Record<string, string> = {};
    if (!existing.stripe_checkout_session_id && checkoutSessionId) fill.stripe_checkout_session_id = checkoutSessionId;
    if (!existing.stripe_charge_id && chargeId) fill.stripe_charge_id = chargeId;
    if (Object.keys(fill).length === 0) {
      await markCheckoutPaid(db, paymentIntent.id, checkoutSessionId);
      return { outcome: 'unchanged', paymentId: existing.id };
    }
    await db('payments').where({ id: existing.id }).update({ ...fill, updated_at: db.fn.now() });
    await markCheckoutPaid(db, paymentIntent.id, checkoutSessionId);
    return { outcome: 'updated', paymentId: existing.id };
  }

  const currency = paymentIntent.currency.toUpperCase();
  const amount = paymentIntent.amount_received;
  const audit = { payment_intent: paymentIntent.id, checkout_session: checkoutSessionId, charge: chargeId, amount_cents: amount, currency };
  // Money arrived that the invoice can't hold (voided or never issued, another currency, paid
  // twice or by hand meanwhile). Keeping the invoice consistent matters more; the contractor is told and refunds.
  const reason: UnappliedReason | null =
    closedToPayments(invoice) ??
    (currency !== invoice.currency ? 'currency' : Number(invoice.amount_paid_cents) + amount > Number(invoice.total_cents) ? 'overpayment' : null);
  if (reason) {
    await recordUnappliedPayment(db, actor, invoice, { ...audit, reason, created: paymentIntent.created });
    return { outcome: 'unapplied' };
  }

  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into payments (org_id, lead_id, invoice_id, kind, amount_cents, currency, method, source, status, paid_at,
                           stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id)
     values (?, ?, ?, 'payment', ?, ?, 'stripe', 'stripe', 'succeeded', to_timestamp(?), ?, ?, ?)
     on conflict (stripe_payment_intent_id) where kind = 'payment' and stripe_payment_intent_id is not null do nothing
     returning id`,
    [orgId, invoice.lead_id, invoice.id, amount, currency, paymentIntent.created, paymentIntent.id, checkoutSessionId, chargeId],
  );
  if (rows.length === 0) return { outcome: 'unchanged' };
  const paymentId = rows[0].id;
  await refreshInvoiceBalance(db, invoice.id);
  await markCheckoutPaid(db, paymentIntent.id, checkoutSessionId);
  await recordAudit(db, { actor, action: 'payment.recorded', subjectType: 'payment', subjectId: paymentId, data: { ...audit, invoice_id: invoice.id, source: 'stripe' } });
  return { outcome: 'recorded', paymentId };
}

async function markCheckoutPaid(db: Db, paymentIntentId: string, checkoutSessionId: string | null): Promise<void> {
  const query = db('checkout_sessions').whereNot({ status: 'paid' });
  if (checkoutSessionId) query.where({ stripe_checkout_session_id: checkoutSessionId });
  else query.where({ stripe_payment_intent_id: paymentIntentId });
  await query.update({ status: 'paid', stripe_payment_intent_id: paymentIntentId, updated_at: db.fn.now() });
}

/**
 * Records a succeeded refund against its payment (once) and moves the invoice
 * balance back. 'missing_payment' when the payment isn't recorded yet.
 */
export async function recordStripeRefund(
  db: Db,
  orgId: string,
  refund: RefundFacts,
  actor: Actor = STRIPE_ACTOR,
): Promise<{ outcome: RecordOutcome; refundRowId?: string }> {
  if (refund.status !== 'succeeded' || !(refund.amount > 0)) return { outcome: 'ignored' };
  const paymentIntentId = idOf(refund.payment_intent);
  if (!paymentIntentId) return { outcome: 'ignored' };
  const known = await db('payments')
    .where({ stripe_payment_intent_id: paymentIntentId, kind: 'payment' })
    .first<{ id: string; invoice_id: string } | undefined>('id', 'invoice_id');
  if (!known) return { outcome: 'missing_payment' };
  const invoice = await lockInvoice(db, known.invoice_id);
  if (!invoice) return { outcome: 'ignored' };
  const payment = await db('payments')
    .where({ id: known.id })
    .forUpdate()
    .first<{ id: string; lead_id: string; amount_cents: string | number; currency: string; stripe_charge_id: string | null }>(
      'id',
      'lead_id',
      'amount_cents',
      'currency',
      'stripe_charge_id',
    );
  const { rows: refunded } = await db.raw<{ rows: { total: string }[] }>(
    "select coalesce(sum(amount_cents), 0)::bigint as total from payments where refund_of = ? and kind = 'refund' and status = 'succeeded'",
    [payment.id],
  );
  const already = Number(refunded[0].total);
  const chargeId = idOf(refund.charge) ?? payment.stripe_charge_id;
  const audit = { refund: refund.id, payment_intent: paymentIntentId, charge: chargeId, amount_cents: refund.amount };
  const existing = await db('payments').where({ stripe_refund_id: refund.id }).first<{ id: string } | undefined>('id');
  if (existing) return { outcome: 'unchanged', refundRowId: existing.id };
  if (already + refund.amount > Number(payment.amount_cents) || refund.currency.toUpperCase() !== payment.currency) {
    // Told once per refund, however many reconciliation runs see it again.
    const told = await db('audit_events')
      .where({ action: 'payment.stripe_unapplied', subject_type: 'payment', subject_id: payment.id })
      .whereRaw("data->>'refund' = ?", [refund.id])
      .first('id');
    if (told) return { outcome: 'unapplied' };
    logger.error({ refund: refund.id, paymentId: payment.id }, 'Stripe refund does not fit its payment; not applied');
    await recordAudit(db, { actor, action: 'payment.stripe_unapplied', subjectType: 'payment', subjectId: payment.id, data: { ...audit, reason: 'refund_mismatch' } });
    return { outcome: 'unapplied' };
  }
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into payments (org_id, lead_id, invoice_id, kind, refund_of, amount_cents, currency, method, source, status, paid_at,
                           stripe_payment_intent_id, stripe_charge_id, stripe_refund_id)
     values (?, ?, ?, 'refund', ?, ?, ?, 'stripe', 'stripe', 'succeeded', to_timestamp(?), ?, ?, ?)
     on conflict (stripe_refund_id) where stripe_refund_id is not null do nothing
     returning id`,
    [orgId, payment.lead_id, invoice.id, payment.id, refund.amount, payment.currency, refund.created, paymentIntentId, chargeId, refund.id],
  );
  if (rows.length === 0) return { outcome: 'unchanged' };
  if (already + refund.amount >= Number(payment.amount_cents)) {
    await db('payments').where({ id: payment.id }).update({ status: 'refunded', updated_at: db.fn.now() });
  }
  await refreshInvoiceBalance(db, invoice.id);
  await recordAudit(db, { actor, action: 'payment.refunded', subjectType: 'payment', subjectId: payment.id, data: { ...audit, invoice_id: invoice.id, source: 'stripe' } });
  return { outcome: 'recorded', refundRowId: rows[0].id };
}

/**
 * recordStripePayment() for many new PaymentIntents of one org at once (the
 * reconciliation path): the same rules and the same rows, in a handful of
 * statements instead of ~9 per payment. Invoices are locked in id order, rows
 * inserted with the same on-conflict rule, and every touched invoice's balance
 * moved by refreshInvoiceBalances(). Returns how many payments were recorded.
 */
export async function recordStripePaymentsBatch(
  db: Db,
  orgId: string,
  items: { paymentIntent: PaymentIntentFacts; checkoutSessionId: string | null }[],
  actor: Actor = STRIPE_ACTOR,
): Promise<number> {
  const candidates = items
    .map((item) => ({ ...item, invoiceId: invoiceIdFor(orgId, item.paymentIntent.metadata) }))
    .filter((c): c is typeof c & { invoiceId: string } => c.paymentIntent.status === 'succeeded' && c.paymentIntent.amount_received > 0 && !!c.invoiceId)
    .sort((a, b) => a.paymentIntent.created - b.paymentIntent.created);
  if (candidates.length === 0) return 0;
  const invoiceIds = [...new Set(candidates.map((c) => c.invoiceId))].sort();
  const invoices = await db('invoices')
    .whereIn('id', invoiceIds)
    .orderBy('id')
    .forUpdate()
    .select<LockedInvoice[]>('id', 'lead_id', 'number', 'currency', 'status', 'total_cents', 'amount_paid_cents');
  const byId = new Map(invoices.map((i) => [i.id, { ...i, paid: Number(i.amount_paid_cents) }]));
  const rows: { lead_id: string; invoice_id: string; amount_cents: number; currency: string; created: number; pi: string; cs: string | null; ch: string | null }[] = [];
  for (const c of candidates) {
    const invoice = byId.get(c.invoiceId);
    if (!invoice) continue;
    const pi = c.paymentIntent;
    const currency = pi.currency.toUpperCase();
    // The same rules, in the same order, as recordStripePayment().
    const reason: UnappliedReason | null =
      closedToPayments(invoice) ??
      (currency !== invoice.currency ? 'currency' : invoice.paid + pi.amount_received > Number(invoice.total_cents) ? 'overpayment' : null);
    if (reason) {
      await recordUnappliedPayment(db, actor, invoice, {
        payment_intent: pi.id,
        checkout_session: c.checkoutSessionId,
        charge: idOf(pi.latest_charge),
        amount_cents: pi.amount_received,
        currency,
        reason,
        created: pi.created,
      });
      continue;
    }
    invoice.paid += pi.amount_received;
    rows.push({ lead_id: invoice.lead_id, invoice_id: invoice.id, amount_cents: pi.amount_received, currency, created: pi.created, pi: pi.id, cs: c.checkoutSessionId, ch: idOf(pi.latest_charge) });
  }
  if (rows.length === 0) return 0;
  const { rows: inserted } = await db.raw<{ rows: { id: string; invoice_id: string; stripe_payment_intent_id: string; amount_cents: string; stripe_checkout_session_id: string | null; stripe_charge_id: string | null }[] }>(
    `insert into payments (org_id, lead_id, invoice_id, kind, amount_cents, currency, method, source, status, paid_at,
                           stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id)
     select ?::uuid, x.lead_id, x.invoice_id, 'payment', x.amount_cents, x.currency, 'stripe', 'stripe', 'succeeded', to_timestamp(x.created), x.pi, x.cs, x.ch
       from jsonb_to_recordset(?::jsonb) as x(lead_id uuid, invoice_id uuid, amount_cents bigint, currency text, created bigint, pi text, cs text, ch text)
     on conflict (stripe_payment_intent_id) where kind = 'payment' and stripe_payment_intent_id is not null do nothing
     returning id, invoice_id, stripe_payment_intent_id, amount_cents, stripe_checkout_session_id, stripe_charge_id`,
    [orgId, JSON.stringify(rows)],
  );
  if (inserted.length === 0) return 0;
  await refreshInvoiceBalances(db, inserted.map((r) => r.invoice_id));
  await db.raw(
    `update checkout_sessions c set status = 'paid', stripe_payment_intent_id = x.pi, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as x(pi text, cs text)
      where c.status <> 'paid' and (c.stripe_checkout_session_id = x.cs or (x.cs is null and c.stripe_payment_intent_id = x.pi))`,
    [JSON.stringify(inserted.map((r) => ({ pi: r.stripe_payment_intent_id, cs: r.stripe_checkout_session_id })))],
  );
  // The same audit rows recordAudit() writes, in one statement.
  await db.raw(
    `insert into audit_events (org_id, actor_type, actor_label, action, subject_type, subject_id, data)
     select ?::uuid, ?, ?, 'payment.recorded', 'payment', x.id, x.data
       from jsonb_to_recordset(?::jsonb) as x(id uuid, data jsonb)`,
    [
      orgId,
      actor.type,
      actor.label ?? null,
      JSON.stringify(
        inserted.map((r) => ({
          id: r.id,
          data: {
            payment_intent: r.stripe_payment_intent_id,
            checkout_session: r.stripe_checkout_session_id,
            charge: r.stripe_charge_id,
            amount_cents: Number(r.amount_cents),
            invoice_id: r.invoice_id,
            source: 'stripe',
          },
        })),
      ),
    ],
  );
  return inserted.length;
}
