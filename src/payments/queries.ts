// Payments and refunds: reading them, and the invoice page that shows them.
import { autopayFailureReason } from './stripe/autopay.js';
import { NOT_RECEIVED_REASONS, type PaymentRow } from '../db/rows.js';
import { refundedTotal } from '../db/sql/payments.js';
import { followupStatus } from '../db/sql/followups.js';
import type { Db } from '../db/tenancy.js';
import { balanceOf, isPayable } from '../lib/balance.js';
import { todayIn } from '../lib/dates.js';
import { DEFAULT_LANGUAGE, languageOf, msg, t, type Language } from '../i18n/index.js';
import { notFound } from '../lib/errors.js';
import { idOrNotFound } from '../lib/ids.js';
import { taxRateText } from '../lib/line-items.js';
import { moneyInputValue } from '../lib/money.js';
import { getInvoice, getInvoiceItems } from '../invoices/queries.js';
import { getLead, leadName, customerRecordList } from '../leads/queries.js';
import { manualMethodOptions } from '../proposals/page.js';

export type { PaymentRow };

export interface PaymentListRow extends PaymentRow {
  invoice_number: number;
  lead_first_name: string;
  lead_last_name: string;
}

export async function getPayment(db: Db, id: string): Promise<PaymentRow> {
  const payment = await db('payments')
    .where({ id: idOrNotFound(id) })
    .first<PaymentRow | undefined>();
  if (!payment) throw notFound('settings:pay.paymentGone');
  return payment;
}

export async function listPayments(
  db: Db,
  filter: { leadId?: string; invoiceId?: string; limit?: number; offset?: number } = {},
): Promise<PaymentListRow[]> {
  const query = customerRecordList(
    db,
    'payments',
    'p',
    [
      { column: 'p.paid_at', order: 'desc' },
      { column: 'p.id', order: 'asc' },
    ],
    filter,
  )
    // A deposit may have no invoice yet: it is listed with its proposal.
    .leftJoin('invoices as i', 'i.id', 'p.invoice_id') // i18n-exempt: SQL's and the audit log's names
    .leftJoin('proposals as pr', 'pr.id', 'p.proposal_id') // i18n-exempt: SQL's and the audit log's names
    .select('i.number as invoice_number', 'pr.number as proposal_number'); // i18n-exempt: SQL's and the audit log's names
  if (filter.invoiceId) query.where('p.invoice_id', filter.invoiceId);
  return query;
}

/** How much of a payment has been refunded so far (pending refunds count: the money is on its way back). */
export async function refundedSoFar(db: Db, paymentId: string): Promise<number> {
  return refundedTotal(db, paymentId, ['succeeded', 'pending']);
}

/** Everything the invoice page shows; the payment form re-renders it with errors. */
export async function invoicePage(db: Db, org: { time_zone: string; locale?: string }, invoiceId: string) {
  const invoice = await getInvoice(db, invoiceId);
  const items = await getInvoiceItems(db, invoice.id);
  const lead = await getLead(db, invoice.lead_id);
  const payments = await listPayments(db, { invoiceId: invoice.id, limit: 200 });
  const balance = balanceOf(invoice);
  return {
    title: t(languageOf(org.locale), 'settings:pay.invoiceTitle', { number: invoice.number }),
    invoice,
    items,
    lead,
    leadName: leadName(lead),
    payments,
    balance,
    /** What a draft will ask for once issued (its total, less a deposit already credited to it). */
    draftDue: Number(invoice.total_cents) - Number(invoice.amount_paid_cents),
    taxRate: taxRateText(invoice.tax_rate_bps),
    payable: isPayable(invoice),
    followups: await followupStatus(db, invoice.id, lead),
    autopayAttempts: await autopayAttemptsOf(db, invoice.id),
    methodOptions: manualMethodOptions,
    values: { amount: moneyInputValue(balance, invoice.currency), method: 'cash', paid_on: todayIn(org.time_zone) } as Record<
      string,
      unknown
    >,
  };
}

/** The invoice's autopay attempts, newest first, with the catalogue key of a failure's reason. */
async function autopayAttemptsOf(db: Db, invoiceId: string) {
  const rows = await db('autopay_attempts')
    .where({ invoice_id: invoiceId })
    .orderBy('attempt_day', 'desc')
    .select<{ attempt_day: string | Date; status: string; failure_code: string | null }[]>('attempt_day', 'status', 'failure_code');
  return rows.map((r) => ({
    day: r.attempt_day instanceof Date ? r.attempt_day.toISOString().slice(0, 10) : r.attempt_day,
    status: r.status,
    code: r.failure_code,
    reason: autopayFailureReason(r.failure_code),
  }));
}

/**
 * Why a payment can't be marked as not received (a message), or null when it can: only money recorded by
 * hand, succeeded, never given back in part, on no void invoice. markNotReceived refuses with it; the
 * payment page offers the form only when it is null.
 */
export function notReceivedRefusal(
  payment: Pick<PaymentRow, 'kind' | 'source' | 'status'>,
  invoice: { status: string } | null,
  refundedCents: number,
): string | null {
  if (payment.kind !== 'payment') return 'settings:pay.notReceivedRefund';
  if (payment.source === 'stripe') return 'settings:pay.notReceivedOnline';
  if (payment.status === 'failed') return 'settings:pay.notReceivedAlready';
  if (payment.status !== 'succeeded') return msg('settings:pay.notReceivedStatus', { status: payment.status });
  if (invoice?.status === 'void') return 'settings:pay.notReceivedVoid';
  if (refundedCents > 0) return 'settings:pay.notReceivedRefunded';
  return null;
}

/** A payment with its refunds (or a refund with its payment), and how much can still be refunded here. */
export async function paymentPage(db: Db, id: string, lang: Language = DEFAULT_LANGUAGE) {
  const payment = await getPayment(db, id);
  // A deposit not yet credited to an invoice has none (it names its proposal).
  const invoice = payment.invoice_id ? await getInvoice(db, payment.invoice_id) : null;
  const proposal = payment.proposal_id
    ? await db('proposals').where({ id: payment.proposal_id }).first<{ id: string; number: number }>('id', 'number')
    : null;
  const lead = await getLead(db, payment.lead_id);
  const refunds = await db('payments').where({ refund_of: payment.id }).orderBy('created_at');
  const refunded = payment.kind === 'payment' ? await refundedSoFar(db, payment.id) : 0;
  const refundable =
    payment.kind === 'payment' && payment.status === 'succeeded' && payment.source === 'manual'
      ? Number(payment.amount_cents) - refunded
      : 0;
  const original = payment.refund_of ? await getPayment(db, payment.refund_of) : null;
  // The form shows only where markNotReceived would take it: the same rule decides both.
  const notReceivable = notReceivedRefusal(payment, invoice, refunded) === null;
  const failedBy = payment.failed_by
    ? await db('users').where({ id: payment.failed_by }).first<{ name: string } | undefined>('name')
    : undefined;
  return {
    title: t(lang, payment.kind === 'refund' ? 'settings:pay.refundTitle' : 'settings:pay.paymentTitle'),
    payment,
    invoice,
    proposal,
    lead,
    leadName: leadName(lead),
    refunds,
    original,
    refundable,
    notReceivable,
    failedByName: failedBy?.name ?? null,
    failureReason: payment.failure_reason && `dashboard:payment.notReceivedReason.${payment.failure_reason}`,
    notReceivedReasons: [
      { value: '', label: 'dashboard:payment.notReceivedChoose' },
      ...NOT_RECEIVED_REASONS.map((value) => ({ value, label: `dashboard:payment.notReceivedReason.${value}` })),
    ],
    values: { amount: refundable > 0 ? moneyInputValue(refundable, payment.currency) : '' } as Record<string, unknown>,
  };
}
