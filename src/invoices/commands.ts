// Invoices: the only writer of `invoices` and `invoice_items`. Drafts from a form,
// a proposal or a job; issuing; and the balance, which only refreshInvoiceBalances
// writes. Voiding (which also stops open Checkout Sessions) is payments' voidInvoice.
import { msg } from '../i18n/index.js';
import { recordAudit, type Actor } from '../db/audit.js';
import type { InvoiceRow } from '../db/rows.js';
import { allocateNumber } from '../db/sql/counters.js';
import { invoicesBilling, lockInvoicesWithPaidSums, writeInvoiceBalances } from '../db/sql/invoices.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { balanceOf, statusAfterPayments, type InvoiceStatus } from '../lib/balance.js';
import { addDays, todayIn } from '../lib/dates.js';
import { formatMoney } from '../lib/money.js';
import { conflict, fieldError, HttpError } from '../lib/errors.js';
import { computeFormLineItems, lineInputsFrom, lineItemRows, type ComputedLineItem, type LineItemInput } from '../lib/line-items.js';
import { getJob } from '../jobs/queries.js';
import { chosenProperty, getLead } from '../leads/queries.js';
import { getProposal, getProposalItems } from '../proposals/queries.js';
import { creditDeposits } from './deposits.js';
import { getInvoice } from './queries.js';
import type { InvoiceInput } from './schema.js';

export const DEFAULT_PAYMENT_TERMS_DAYS = 14;

async function writeItems(db: Db, invoiceId: string, items: ComputedLineItem[]): Promise<void> {
  await db('invoice_items').where({ invoice_id: invoiceId }).delete();
  if (!items.length) return;
  await db('invoice_items').insert(lineItemRows(currentOrgId(db), 'invoice_id', invoiceId, items));
}

async function leadFor(db: Db, leadId: string) {
  return getLead(db, leadId).catch(() => {
    throw fieldError('lead_id', 'dashboard:doc.errors.chooseCustomer');
  });
}

/** Checks that the proposal/job an invoice points at exist, belong to the customer and are ready to bill. */
async function checkSources(db: Db, leadId: string, proposalId?: string | null, jobId?: string | null) {
  if (proposalId) {
    const proposal = await getProposal(db, proposalId);
    if (proposal.lead_id !== leadId) throw fieldError('lead_id', 'dashboard:invoice.errors.proposalOtherCustomer');
    if (proposal.status !== 'approved')
      throw conflict(msg('dashboard:invoice.errors.proposalNotApproved', { number: proposal.number, status: proposal.status }));
  }
  if (jobId) {
    const job = await getJob(db, jobId);
    if (job.lead_id !== leadId) throw fieldError('lead_id', 'dashboard:invoice.errors.jobOtherCustomer');
    if (job.status !== 'completed') throw conflict('dashboard:invoice.errors.jobNotCompleted');
  }
}

interface NewInvoice {
  lead_id: string;
  property_id?: string | null;
  proposal_id?: string | null;
  job_id?: string | null;
  issue_date: string;
  due_date: string;
  tax_rate_bps: number;
  customer_message: string;
  internal_notes: string;
  items: LineItemInput[];
}

async function insertInvoice(db: Db, input: NewInvoice, currency: string, actor: Actor, via: string): Promise<InvoiceRow> {
  if (input.due_date < input.issue_date) throw fieldError('due_date', 'dashboard:invoice.errors.dueBeforeIssue');
  const lead = await leadFor(db, input.lead_id);
  await checkSources(db, lead.id, input.proposal_id, input.job_id);
  const property = await chosenProperty(db, lead.id, input.property_id);
  const { items, totals } = computeFormLineItems(input.items, input.tax_rate_bps);
  const number = await allocateNumber(db, 'invoice');
  const [invoice] = await db('invoices')
    .insert({
      org_id: currentOrgId(db),
      lead_id: lead.id,
      property_id: property?.id ?? null,
      number,
      proposal_id: input.proposal_id ?? null,
      job_id: input.job_id ?? null,
      currency,
      issue_date: input.issue_date,
      due_date: input.due_date,
      tax_rate_bps: input.tax_rate_bps,
      ...totals,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<InvoiceRow[]>('*');
  await writeItems(db, invoice.id, items);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'invoice.created',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { number, via, lead_id: lead.id, total_cents: totals.total_cents },
  });
  // A deposit paid on the proposal is credited to the invoice made from it.
  if (await creditDeposits(db, invoice, actor)) return refreshInvoiceBalance(db, invoice.id);
  return invoice;
}

/** A draft invoice from the form (from scratch). */
export async function createInvoice(db: Db, input: InvoiceInput, currency: string, actor: Actor): Promise<InvoiceRow> {
  return insertInvoice(
    db,
    { ...input, tax_rate_bps: input.tax_rate, proposal_id: input.proposal_id ?? null, job_id: input.job_id ?? null },
    currency,
    actor,
    input.proposal_id ? 'proposal' : input.job_id ? 'job' : 'form',
  );
}

/** Today and today + the payment terms, in the org's zone. */
function defaultDates(timeZone: string): { issue_date: string; due_date: string } {
  const today = todayIn(timeZone);
  return { issue_date: today, due_date: addDays(today, DEFAULT_PAYMENT_TERMS_DAYS) };
}

/** A draft invoice copying an approved proposal's lines and tax rate. */
export async function createInvoiceFromProposal(
  db: Db,
  proposalId: string,
  org: { currency: string; time_zone: string },
  actor: Actor,
): Promise<InvoiceRow> {
  const proposal = await getProposal(db, proposalId);
  if (proposal.status !== 'approved') {
    throw conflict(msg('dashboard:invoice.errors.proposalNotApproved', { number: proposal.number, status: proposal.status }));
  }
  const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string; status: string } | undefined>('id', 'status');
  await refuseBilledTwice(db, { proposalId: proposal.id, jobId: job?.id ?? null });
  const items = await getProposalItems(db, proposal.id);
  return insertInvoice(
    db,
    {
      lead_id: proposal.lead_id,
      property_id: proposal.property_id,
      proposal_id: proposal.id,
      job_id: job?.status === 'completed' ? job.id : null,
      ...defaultDates(org.time_zone),
      tax_rate_bps: proposal.tax_rate_bps,
      customer_message: '',
      internal_notes: '',
      // Only the lines the customer chose (or the preselected ones): an unticked option isn't billed.
      items: lineInputsFrom(items.filter((i) => i.selected)),
    },
    org.currency,
    actor,
    'proposal',
  );
}

/**
 * One invoice per piece of work from its page: a second click (or a second
 * person) would bill the customer twice. The work's proposal, else its job, is
 * locked first, so two requests at once can't both find nothing. Further
 * billing of the same work (a change order) is a new invoice from the Invoices page.
 */
async function refuseBilledTwice(db: Db, work: { proposalId: string | null; jobId: string | null }): Promise<void> {
  if (work.proposalId) await db('proposals').where({ id: work.proposalId }).forUpdate().first('id');
  else if (work.jobId) await db('jobs').where({ id: work.jobId }).forUpdate().first('id');
  const [billed] = await invoicesBilling(db, work);
  if (billed) throw conflict(msg('dashboard:invoice.errors.alreadyBilled', { number: billed.number }));
}

/** A draft invoice for a completed job: its proposal's lines, or one line for the service. */
export async function createInvoiceFromJob(
  db: Db,
  jobId: string,
  org: { currency: string; time_zone: string },
  actor: Actor,
): Promise<InvoiceRow> {
  const job = await getJob(db, jobId);
  if (job.status !== 'completed') throw conflict('dashboard:invoice.errors.jobNotCompleted');
  await refuseBilledTwice(db, { proposalId: job.proposal_id, jobId: job.id });
  let items: LineItemInput[] = [{ service: job.service_type, description: '', quantity_hundredths: 100, unit_price_cents: 0 }];
  let taxRate = 0;
  let proposalId: string | null = null;
  if (job.proposal_id) {
    const proposal = await getProposal(db, job.proposal_id);
    items = lineInputsFrom((await getProposalItems(db, proposal.id)).filter((i) => i.selected));
    taxRate = proposal.tax_rate_bps;
    proposalId = proposal.status === 'approved' ? proposal.id : null;
  }
  return insertInvoice(
    db,
    {
      lead_id: job.lead_id,
      property_id: job.property_id,
      proposal_id: proposalId,
      job_id: job.id,
      ...defaultDates(org.time_zone),
      tax_rate_bps: taxRate,
      customer_message: '',
      internal_notes: '',
      items,
    },
    org.currency,
    actor,
    'job',
  );
}

/** Why an invoice can't be edited any more (a message), or null when it can: only a draft can. */
export function invoiceLocked(invoice: Pick<InvoiceRow, 'status' | 'number'>): string | null {
  return invoice.status === 'draft' ? null : msg('dashboard:invoice.errors.notDraft', { number: invoice.number });
}

export async function updateInvoice(db: Db, id: string, input: InvoiceInput, actor: Actor): Promise<InvoiceRow> {
  const before = await getInvoice(db, id, { forUpdate: true });
  const locked = invoiceLocked(before);
  if (locked) throw conflict(locked);
  const lead = await leadFor(db, input.lead_id);
  await checkSources(db, lead.id, before.proposal_id, before.job_id);
  const property = await chosenProperty(db, lead.id, input.property_id);
  const { items, totals } = computeFormLineItems(input.items, input.tax_rate);
  // A credited deposit (or other payment) on a draft can't be more than its new total.
  if (totals.total_cents < Number(before.amount_paid_cents)) {
    throw conflict(
      msg('dashboard:invoice.errors.belowDeposit', {
        number: before.number,
        paid: formatMoney(Number(before.amount_paid_cents), before.currency),
      }),
    );
  }
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({
      lead_id: lead.id,
      property_id: property?.id ?? null,
      issue_date: input.issue_date,
      due_date: input.due_date,
      tax_rate_bps: input.tax_rate,
      ...totals,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      updated_at: db.fn.now(),
    })
    .returning<InvoiceRow[]>('*');
  await writeItems(db, invoice.id, items);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'invoice.updated',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { total_cents: totals.total_cents, previous_total_cents: before.total_cents },
  });
  return invoice;
}

/** Draft → open: the invoice can be sent and paid. */
export async function issueInvoice(db: Db, id: string, actor: Actor): Promise<{ invoice: InvoiceRow; alreadyIssued: boolean }> {
  const before = await getInvoice(db, id, { forUpdate: true });
  if (before.status !== 'draft') {
    if (before.status === 'void') throw conflict(msg('dashboard:invoice.errors.voidNoIssue', { number: before.number }));
    return { invoice: before, alreadyIssued: true };
  }
  if (Number(before.total_cents) <= 0) throw conflict(msg('dashboard:invoice.errors.zeroTotal', { number: before.number }));
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({ status: 'open', issued_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<InvoiceRow[]>('*');
  // A draft that holds a deposit is partially (or fully) paid once issued.
  if (Number(invoice.amount_paid_cents) > 0) Object.assign(invoice, await refreshInvoiceBalance(db, invoice.id));
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'invoice.issued',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { number: invoice.number, total_cents: invoice.total_cents },
  });
  return { invoice, alreadyIssued: false };
}

/**
 * Marks an invoice void (no payments may be on it). Returns null when it already
 * was. Part of voidInvoice (payments/), which also stops its Checkout Sessions.
 */
export async function markInvoiceVoid(db: Db, id: string): Promise<{ invoice: InvoiceRow; from: InvoiceStatus } | null> {
  const before = await getInvoice(db, id, { forUpdate: true });
  if (before.status === 'void') return null;
  if (Number(before.amount_paid_cents) > 0) {
    throw conflict(msg('dashboard:invoice.errors.hasPayments', { number: before.number }));
  }
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({ status: 'void', voided_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<InvoiceRow[]>('*');
  return { invoice, from: before.status };
}

/**
 * Recomputes amount paid and status of these invoices from their payments, in
 * a fixed number of statements however many there are. The only place invoice
 * balances are written: manual payments, refunds and Stripe payments all come
 * through here, inside the transaction that wrote the payment.
 */
export async function refreshInvoiceBalances(db: Db, invoiceIds: string[]): Promise<void> {
  const ids = [...new Set(invoiceIds)].sort();
  if (ids.length === 0) return;
  const changes: { id: string; paid: number; status: InvoiceStatus }[] = [];
  for (const invoice of await lockInvoicesWithPaidSums(db, ids)) {
    if (invoice.paid < 0 || invoice.paid > Number(invoice.total_cents)) {
      throw conflict(
        msg('dashboard:invoice.errors.wouldNotAddUp', { number: invoice.number, paid: invoice.paid, total: invoice.total_cents }),
      );
    }
    const status = statusAfterPayments(invoice, invoice.paid);
    if (invoice.paid !== Number(invoice.amount_paid_cents) || status !== invoice.status)
      changes.push({ id: invoice.id, paid: invoice.paid, status });
  }
  await writeInvoiceBalances(db, changes);
}

/** refreshInvoiceBalances() for one invoice, returning it as it now stands. */
export async function refreshInvoiceBalance(db: Db, invoiceId: string): Promise<InvoiceRow> {
  await refreshInvoiceBalances(db, [invoiceId]);
  return getInvoice(db, invoiceId);
}

/** An invoice that can't take money now: void, or a draft not yet issued. */
class InvoiceClosedError extends HttpError {
  constructor(
    public readonly reason: 'void' | 'draft',
    number: number,
  ) {
    super(
      409,
      'invoice_closed',
      reason === 'void'
        ? msg('dashboard:invoice.errors.voidNoPayments', { number })
        : msg('dashboard:invoice.errors.draftNoPayments', { number }),
    );
    this.name = 'InvoiceClosedError';
  }
}

/**
 * Locks an invoice before money is recorded against it and refuses the states
 * in which it cannot be paid (InvoiceClosedError). Returns the row with its balance.
 */
export async function lockInvoiceForPayment(db: Db, invoiceId: string): Promise<InvoiceRow & { balance_cents: number }> {
  const invoice = await getInvoice(db, invoiceId, { forUpdate: true });
  if (invoice.status === 'void' || invoice.status === 'draft') throw new InvoiceClosedError(invoice.status, invoice.number);
  return { ...invoice, balance_cents: balanceOf(invoice) };
}
