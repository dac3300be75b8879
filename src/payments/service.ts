// Payments and refunds recorded against invoices. A refund is a new row, never
// a deletion; the invoice's balance is recomputed by invoices/service.ts.
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { conflict, fieldError, notFound } from '../http/errors.js';
import { formatMoney } from '../format.js';
import { currentOrgId, idOrNotFound } from '../leads/common.js';
import { lockInvoiceForPayment, refreshInvoiceBalance, type InvoiceRow } from '../invoices/service.js';
import type { ManualMethod } from './schema.js';

export interface PaymentRow {
  id: string;
  org_id: string;
  lead_id: string;
  invoice_id: string;
  kind: 'payment' | 'refund';
  refund_of: string | null;
  amount_cents: number;
  currency: string;
  method: ManualMethod | 'stripe';
  source: 'manual' | 'stripe';
  status: 'pending' | 'succeeded' | 'failed' | 'refunded';
  reference: string | null;
  paid_at: Date;
  recorded_by: string | null;
  created_at: Date;
}

export interface PaymentListRow extends PaymentRow {
  invoice_number: number;
  lead_first_name: string;
  lead_last_name: string;
}

export interface ManualPaymentInput {
  invoiceId: string;
  amountCents: number;
  method: ManualMethod;
  reference?: string | null;
  /** When the money arrived; defaults to now. */
  paidAt?: Date | null;
}

export interface RefundInput {
  amountCents: number;
  reference?: string | null;
}

export async function getPayment(db: Db, id: string): Promise<PaymentRow> {
  const payment = await db('payments').where({ id: idOrNotFound(id) }).first<PaymentRow | undefined>();
  if (!payment) throw notFound('That payment does not exist');
  return payment;
}

/** A payment received outside Porchlight (cash, check, card on site, transfer). */
export async function recordPayment(
  db: Db,
  input: ManualPaymentInput,
  actor: Actor,
): Promise<{ payment: PaymentRow; invoice: InvoiceRow }> {
  const invoice = await lockInvoiceForPayment(db, input.invoiceId);
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) {
    throw fieldError('amount', 'The amount must be more than zero');
  }
  if (invoice.balance_cents <= 0) throw conflict(`Invoice #${invoice.number} is already paid in full.`);
  if (input.amountCents > invoice.balance_cents) {
    throw fieldError(
      'amount',
      `That is more than the ${formatMoney(invoice.balance_cents, invoice.currency)} still owed on invoice #${invoice.number}; overpayments are not recorded.`,
    );
  }
  const [payment] = await db('payments')
    .insert({
      org_id: currentOrgId(db),
      lead_id: invoice.lead_id,
      invoice_id: invoice.id,
      kind: 'payment',
      amount_cents: input.amountCents,
      currency: invoice.currency,
      method: input.method,
      source: 'manual',
      status: 'succeeded',
      reference: input.reference ?? null,
      paid_at: input.paidAt ?? db.fn.now(),
      recorded_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<PaymentRow[]>('*');
  const updated = await refreshInvoiceBalance(db, invoice.id);
  await recordAudit(db, {
    actor,
    action: 'payment.recorded',
    subjectType: 'payment',
    subjectId: payment.id,
    data: { invoice_id: invoice.id, invoice_number: invoice.number, amount_cents: payment.amount_cents, method: payment.method, invoice_status: updated.status },
  });
  return { payment, invoice: updated };
}

/** How much of a payment has been refunded so far. */
export async function refundedSoFar(db: Db, paymentId: string): Promise<number> {
  const row = (await db('payments')
    .where({ refund_of: paymentId, kind: 'refund' })
    .whereIn('status', ['succeeded', 'pending'])
    .first(db.raw('coalesce(sum(amount_cents), 0)::bigint as total'))) as { total: number };
  return Number(row.total);
}

/** Money given back for a manual payment: a new refund row pointing at it. */
export async function recordRefund(
  db: Db,
  paymentId: string,
  input: RefundInput,
  actor: Actor,
): Promise<{ refund: PaymentRow; invoice: InvoiceRow }> {
  const original = await getPayment(db, paymentId);
  // Lock the invoice first (same order as recordPayment) so refunds serialize.
  const invoice = await lockInvoiceForPayment(db, original.invoice_id).catch((err: unknown) => {
    if (err instanceof Error && /void/.test(err.message)) throw conflict('This invoice is void; nothing can be refunded on it.');
    throw err;
  });
  if (original.kind !== 'payment') throw conflict('A refund cannot itself be refunded.');
  if (original.status !== 'succeeded') throw conflict(`This payment is ${original.status}; only a succeeded payment can be refunded.`);
  if (original.source === 'stripe') throw conflict('This payment was made online; refund it through Stripe so the card is credited.');
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) {
    throw fieldError('amount', 'The amount must be more than zero');
  }
  const already = await refundedSoFar(db, original.id);
  const refundable = Number(original.amount_cents) - already;
  if (input.amountCents > refundable) {
    throw fieldError('amount', `At most ${formatMoney(refundable, original.currency)} of this payment can still be refunded.`);
  }
  const [refund] = await db('payments')
    .insert({
      org_id: currentOrgId(db),
      lead_id: original.lead_id,
      invoice_id: original.invoice_id,
      kind: 'refund',
      refund_of: original.id,
      amount_cents: input.amountCents,
      currency: original.currency,
      method: original.method,
      source: 'manual',
      status: 'succeeded',
      reference: input.reference ?? null,
      recorded_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<PaymentRow[]>('*');
  if (input.amountCents === refundable) {
    // Fully refunded: the original is marked, and still counts as received (the refund row subtracts).
    await db('payments').where({ id: original.id }).update({ status: 'refunded', updated_at: db.fn.now() });
  }
  const updated = await refreshInvoiceBalance(db, invoice.id);
  await recordAudit(db, {
    actor,
    action: 'payment.refunded',
    subjectType: 'payment',
    subjectId: refund.id,
    data: { refund_of: original.id, invoice_id: invoice.id, amount_cents: refund.amount_cents, invoice_status: updated.status },
  });
  return { refund, invoice: updated };
}

export async function listPayments(
  db: Db,
  filter: { leadId?: string; invoiceId?: string; limit?: number; offset?: number } = {},
): Promise<PaymentListRow[]> {
  const query = db('payments as p')
    .join('invoices as i', 'i.id', 'p.invoice_id')
    .join('leads as l', 'l.id', 'p.lead_id')
    .select('p.*', 'i.number as invoice_number', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .orderBy([{ column: 'p.paid_at', order: 'desc' }, { column: 'p.id', order: 'asc' }])
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  if (filter.leadId) query.where('p.lead_id', filter.leadId);
  if (filter.invoiceId) query.where('p.invoice_id', filter.invoiceId);
  return query;
}
