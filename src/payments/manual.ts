// Payments received outside Porchlight (cash, check, card on site, transfer) and
// refunds of them: the payments feature is the only writer of `payments`. A
// refund is a new row, never a deletion; the invoice's balance is recomputed by
// invoices' refreshInvoiceBalance. A proposal's deposit paid that way while no
// invoice bills the work waits on the proposal, as a Stripe deposit does, and the
// invoice made later credits it (invoices/deposits.ts).
import { recordAudit, type Actor } from '../db/audit.js';
import { queueReceipts, stopUnsentReceipt } from '../db/sql/receipts.js';
import type { InvoiceRow, NotReceivedReason, PaymentRow } from '../db/rows.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { conflict, fieldError, type FormError } from '../lib/errors.js';
import { invoicesBilling } from '../db/sql/invoices.js';
import { formatMoney } from '../lib/money.js';
import { lockInvoiceForPayment, refreshInvoiceBalance } from '../invoices/commands.js';
import { getInvoice } from '../invoices/queries.js';
import { depositState } from '../proposals/deposit.js';
import { getProposal } from '../proposals/queries.js';
import { invoiceTakingDeposit } from './stripe/record-deposits.js';
import { retireOpenCheckoutSessions } from './stripe/sessions.js';
import { getPayment, notReceivedRefusal, refundedSoFar } from './queries.js';
import type { ManualMethod } from './schema.js';

interface ReceivedInput {
  /** False: the business asked for no receipt this time (a receipt is sent unless told). */
  sendReceipt?: boolean;
  amountCents: number;
  method: ManualMethod;
  reference?: string | null;
  /** When the money arrived; defaults to now. */
  paidAt?: Date | null;
  /** The business's locale, for amounts in refusals (en-US when absent). */
  locale?: string;
}

export interface ManualPaymentInput extends ReceivedInput {
  invoiceId: string;
}

export interface ManualDepositInput extends ReceivedInput {
  proposalId: string;
  /** The business's currency (a proposal is in it). */
  currency: string;
}

export interface NotReceivedInput {
  reason: NotReceivedReason;
  note?: string | null;
}

export interface RefundInput {
  amountCents: number;
  reference?: string | null;
  /** The business's locale, for amounts in refusals (en-US when absent). */
  locale?: string;
}

function checkAmount(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw fieldError('amount', 'settings:pay.amountPositive');
}

/** The amount field's refusal when it is more than is owed: `key` names what is owed, in the business's money format. */
function moreThanOwed(key: string, owedCents: number, currency: string, locale: string | undefined, number: number): FormError {
  return fieldError('amount', msg(key, { amount: formatMoney(owedCents, currency, locale), number }));
}

/** The row of money received outside Porchlight, for what it pays (an invoice, or a proposal's deposit waiting for one). */
async function insertReceived(
  db: Db,
  target: { lead_id: string; invoice_id: string | null; proposal_id?: string; currency: string },
  input: ReceivedInput,
  actor: Actor,
): Promise<PaymentRow> {
  const [payment] = await db('payments')
    .insert({
      org_id: currentOrgId(db),
      ...target,
      kind: 'payment',
      amount_cents: input.amountCents,
      method: input.method,
      source: 'manual',
      status: 'succeeded',
      reference: input.reference ?? null,
      paid_at: input.paidAt ?? db.fn.now(),
      recorded_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<PaymentRow[]>('*');
  return payment;
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
    throw moreThanOwed('settings:pay.overpayment', invoice.balance_cents, invoice.currency, input.locale, invoice.number);
  }
  const payment = await insertReceived(db, { lead_id: invoice.lead_id, invoice_id: invoice.id, currency: invoice.currency }, input, actor);
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

/**
 * A proposal's deposit paid outside Porchlight (a check at the door), recorded
 * while it is owed, as a Stripe deposit is: on the proposal's invoice that can
 * take it (a draft included), else, while no invoice bills the work, waiting on
 * the proposal for the invoice made from it or its job to credit it. An invoice
 * that bills the work but cannot take it (the job's own, or one without room)
 * is where the money is recorded instead. The proposal row is locked first, as a
 * Stripe deposit and a new invoice lock it; a card payment page still open for
 * the deposit is closed, so the customer cannot pay it twice.
 */
export async function recordDepositPayment(
  db: Db,
  input: ManualDepositInput,
  actor: Actor,
): Promise<{ payment: PaymentRow; invoiceNumber: number | null; outstandingCents: number; receiptIds: string[] }> {
  const proposal = await getProposal(db, input.proposalId, { forUpdate: true });
  checkAmount(input.amountCents);
  const deposit = await depositState(db, proposal);
  if (!deposit || deposit.outstanding_cents <= 0) throw conflict(msg('settings:pay.depositNotOwed', { number: proposal.number }));
  const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string } | undefined>('id');
  const billing = await invoicesBilling(db, { proposalId: proposal.id, jobId: job?.id ?? null });
  if (input.amountCents > deposit.outstanding_cents) {
    throw moreThanOwed('settings:pay.depositAtMost', deposit.outstanding_cents, input.currency, input.locale, proposal.number);
  }
  const invoiceId = billing.length > 0 ? await invoiceTakingDeposit(db, proposal.id, input.amountCents, input.currency) : null;
  if (billing.length > 0 && !invoiceId) throw conflict(msg('settings:pay.depositInvoiced', { number: billing[0].number }));
  const payment = await insertReceived(
    db,
    { lead_id: proposal.lead_id, proposal_id: proposal.id, invoice_id: invoiceId, currency: input.currency },
    input,
    actor,
  );
  const invoice = invoiceId ? await refreshInvoiceBalance(db, invoiceId) : null;
  await retireOpenCheckoutSessions(db, { proposalId: proposal.id }, { reason: 'paid_another_way' });
  const outstandingCents = deposit.outstanding_cents - input.amountCents;
  await recordAudit(db, {
    actor,
    action: 'deposit.recorded', // i18n-exempt: the audit log's name
    subjectType: 'payment',
    subjectId: payment.id,
    data: {
      proposal_id: proposal.id,
      proposal_number: proposal.number,
      invoice_id: invoiceId,
      amount_cents: payment.amount_cents,
      method: payment.method,
      outstanding_cents: outstandingCents,
    },
  });
  const receiptIds = input.sendReceipt === false ? [] : await queueReceipts(db, [payment.id]);
  return { payment, invoiceNumber: invoice?.number ?? null, outstandingCents, receiptIds };
}

/**
 * Locks what a payment's money hangs on before it changes: its invoice (in recordPayment's order, so writers
 * serialize), or for a deposit waiting on its proposal, the proposal, then reads the payment again (an invoice
 * made meanwhile may have taken it). Returns the payment as it now stands and its invoice, if any.
 */
async function lockPaymentHolder(db: Db, paymentId: string): Promise<{ payment: PaymentRow; invoice: InvoiceRow | null }> {
  let payment = await getPayment(db, paymentId);
  if (!payment.invoice_id && payment.proposal_id) {
    // A deposit waiting on its proposal: the proposal is locked as an invoice made from it locks it.
    await getProposal(db, payment.proposal_id, { forUpdate: true });
    payment = await getPayment(db, paymentId);
  }
  const invoice = payment.invoice_id ? await getInvoice(db, payment.invoice_id, { forUpdate: true }) : null;
  if (invoice) payment = await getPayment(db, paymentId);
  return { payment, invoice };
}

/** Money given back for a manual payment: a new refund row pointing at it. */
export async function recordRefund(
  db: Db,
  paymentId: string,
  input: RefundInput,
  actor: Actor,
): Promise<{ refund: PaymentRow; invoice: InvoiceRow | null }> {
  // Refunds serialize on what holds the payment. A paid invoice can be refunded; a void one cannot (a draft
  // holds only deposits, refunded as any payment).
  const { payment: original, invoice } = await lockPaymentHolder(db, paymentId);
  if (invoice?.status === 'void') throw conflict('settings:pay.refundVoid');
  if (original.kind !== 'payment') throw conflict('settings:pay.refundOfRefund');
  if (original.status !== 'succeeded') throw conflict(msg('settings:pay.refundStatus', { status: original.status }));
  if (original.source === 'stripe') throw conflict('settings:pay.refundOnline');
  checkAmount(input.amountCents);
  const refundable = Number(original.amount_cents) - (await refundedSoFar(db, original.id));
  if (input.amountCents > refundable) {
    throw fieldError('amount', msg('settings:pay.refundAtMost', { amount: formatMoney(refundable, original.currency, input.locale) }));
  }
  const [refund] = await db('payments')
    .insert({
      org_id: currentOrgId(db),
      lead_id: original.lead_id,
      invoice_id: original.invoice_id,
      // A waiting deposit's refund waits with it (an invoice that credits the deposit takes both).
      proposal_id: invoice ? null : original.proposal_id,
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
  const updated = invoice && (await refreshInvoiceBalance(db, invoice.id));
  await recordAudit(db, {
    actor,
    action: 'payment.refunded', // i18n-exempt: SQL's and the audit log's names
    subjectType: 'payment',
    subjectId: refund.id,
    data: {
      refund_of: original.id,
      ...(updated ? { invoice_id: updated.id, invoice_status: updated.status } : { proposal_id: original.proposal_id }),
      amount_cents: refund.amount_cents,
    },
  });
  return { refund, invoice: updated };
}

/**
 * Marks a payment recorded by hand as not received after all (a bounced check, a reversed transfer, an entry
 * made by mistake): it stays on record as 'failed' with why, and stops counting as paid, so its invoice's
 * balance, or its proposal's deposit, is owed again. A receipt not yet sent is stopped. Refused as
 * notReceivedRefusal() says: an online payment, a refund, a payment not succeeded, one with refunds recorded
 * against it, one on a void invoice.
 */
export async function markNotReceived(
  db: Db,
  paymentId: string,
  input: NotReceivedInput,
  actor: Actor,
): Promise<{ payment: PaymentRow; invoice: InvoiceRow | null }> {
  const { payment: original, invoice } = await lockPaymentHolder(db, paymentId);
  const refusal = notReceivedRefusal(original, invoice, await refundedSoFar(db, original.id));
  if (refusal) throw conflict(refusal);
  const [payment] = await db('payments')
    .where({ id: original.id, status: 'succeeded' })
    .update({
      status: 'failed',
      failure_reason: input.reason,
      failure_note: input.note ?? null,
      failed_at: db.fn.now(),
      failed_by: actor.type === 'user' ? actor.userId : null,
      updated_at: db.fn.now(),
    })
    .returning<PaymentRow[]>('*');
  // The locks above make this unreachable; a refusal all the same, rather than a crash, if they ever don't.
  if (!payment) throw conflict('settings:pay.notReceivedAlready');
  const receiptsStopped = await stopUnsentReceipt(db, payment.id, 'messages:deliver.paymentNotReceived');
  const updated = invoice && (await refreshInvoiceBalance(db, invoice.id));
  await recordAudit(db, {
    actor,
    action: 'payment.not_received', // i18n-exempt: the audit log's name
    subjectType: 'payment',
    subjectId: payment.id,
    data: {
      reason: input.reason,
      note: input.note ?? null,
      amount_cents: payment.amount_cents,
      receipts_stopped: receiptsStopped,
      ...(updated ? { invoice_id: updated.id, invoice_status: updated.status } : { proposal_id: payment.proposal_id }),
    },
  });
  return { payment, invoice: updated };
}
