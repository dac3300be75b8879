// Payments received outside Porchlight (cash, check, card on site, transfer) and
// refunds of them: the payments feature is the only writer of `payments`. A
// refund is a new row, never a deletion; the invoice's balance is recomputed by
// invoices' refreshInvoiceBalance.
import { recordAudit, type Actor } from '../db/audit.js';
import { queueReceipts } from '../db/sql/receipts.js';
import type { InvoiceRow, PaymentRow } from '../db/rows.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { conflict, fieldError } from '../lib/errors.js';
import { formatMoney } from '../lib/money.js';
import { lockInvoiceForPayment, refreshInvoiceBalance } from '../invoices/commands.js';
import { getInvoice } from '../invoices/queries.js';
import { getPayment, refundedSoFar } from './queries.js';
import type { ManualMethod } from './schema.js';

export interface ManualPaymentInput {
  /** False: the business asked for no receipt this time (a receipt is sent unless told). */
  sendReceipt?: boolean;
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

function checkAmount(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw fieldError('amount', 'settings:pay.amountPositive');
}

/** A payment received outside Porchlight. */
export async function recordPayment(
  db: Db,
  input: ManualPaymentInput,
  actor: Actor,
): Promise<{ payment: PaymentRow; invoice: InvoiceRow; receiptIds: string[] }> {
  const invoice = await lockInvoiceForPayment(db, input.invoiceId);
  checkAmount(input.amountCents);
  if (invoice.balance_cents <= 0) throw conflict(msg('settings:pay.paidInFull', { number: invoice.number }));
  if (input.amountCents > invoice.balance_cents) {
    throw fieldError(
      'amount',
      msg('settings:pay.overpayment', { amount: formatMoney(invoice.balance_cents, invoice.currency), number: invoice.number }),
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
    action: 'payment.recorded', // i18n-exempt: SQL's and the audit log's names
    subjectType: 'payment',
    subjectId: payment.id,
    data: {
      invoice_id: invoice.id,
      invoice_number: invoice.number,
      amount_cents: payment.amount_cents,
      method: payment.method,
      invoice_status: updated.status,
    },
  });
  // The customer's receipt, in this transaction: recorded payment = receipt queued, once (unless the business said not to).
  const receiptIds = input.sendReceipt === false ? [] : await queueReceipts(db, [payment.id]);
  return { payment, invoice: updated, receiptIds };
}

/** Money given back for a manual payment: a new refund row pointing at it. */
export async function recordRefund(
  db: Db,
  paymentId: string,
  input: RefundInput,
  actor: Actor,
): Promise<{ refund: PaymentRow; invoice: InvoiceRow }> {
  const original = await getPayment(db, paymentId);
  // A deposit with no invoice yet is a Stripe payment: refunded at Stripe, never here.
  if (!original.invoice_id) throw conflict('settings:pay.refundOnline');
  // Lock the invoice first (same order as recordPayment) so refunds serialize. A paid invoice can be
  // refunded; a void one cannot (a payment's invoice was issued, so it is never a draft).
  const invoice = await getInvoice(db, original.invoice_id, { forUpdate: true });
  if (invoice.status === 'void') throw conflict('settings:pay.refundVoid');
  if (original.kind !== 'payment') throw conflict('settings:pay.refundOfRefund');
  if (original.status !== 'succeeded') throw conflict(msg('settings:pay.refundStatus', { status: original.status }));
  if (original.source === 'stripe') throw conflict('settings:pay.refundOnline');
  checkAmount(input.amountCents);
  const refundable = Number(original.amount_cents) - (await refundedSoFar(db, original.id));
  if (input.amountCents > refundable) {
    throw fieldError('amount', msg('settings:pay.refundAtMost', { amount: formatMoney(refundable, original.currency) }));
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
    action: 'payment.refunded', // i18n-exempt: SQL's and the audit log's names
    subjectType: 'payment',
    subjectId: refund.id,
    data: { refund_of: original.id, invoice_id: invoice.id, amount_cents: refund.amount_cents, invoice_status: updated.status },
  });
  return { refund, invoice: updated };
}
