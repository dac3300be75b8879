// Invoices: the only module that writes invoices and invoice_items.
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { conflict, fieldError, notFound } from '../http/errors.js';
import { currentOrgId, idOrNotFound } from '../leads/common.js';
import { getLead } from '../leads/service.js';
import { computeLineItems, lineItemRows, parseQuantity, type ComputedLineItem, type LineItemInput } from '../proposals/line-items.js';
import { getProposal, getProposalItems } from '../proposals/service.js';
import { getJob } from '../jobs/service.js';
import { todayIn } from '../jobs/time.js';
import { retireOpenCheckoutSessions } from '../payments/stripe-sessions.js';
import { allocateNumber } from './numbering.js';
import type { InvoiceInput, InvoiceStatus } from './schema.js';

export interface InvoiceRow {
  id: string;
  org_id: string;
  lead_id: string;
  number: number;
  proposal_id: string | null;
  job_id: string | null;
  status: InvoiceStatus;
  currency: string;
  issue_date: string;
  due_date: string;
  tax_rate_bps: number;
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
  amount_paid_cents: number;
  customer_message: string;
  internal_notes: string;
  issued_at: Date | null;
  voided_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface InvoiceItemRow {
  id: string;
  invoice_id: string;
  position: number;
  service: string;
  description: string;
  quantity: string;
  unit_price_cents: number;
  amount_cents: number;
}

export interface InvoiceListRow extends InvoiceRow {
  lead_first_name: string;
  lead_last_name: string;
}

/** Statuses in which money can still be received. */
export const PAYABLE_STATUSES: InvoiceStatus[] = ['open', 'partially_paid'];

export const balanceOf = (invoice: Pick<InvoiceRow, 'total_cents' | 'amount_paid_cents' | 'status'>): number =>
  invoice.status === 'void' || invoice.status === 'draft' ? 0 : Number(invoice.total_cents) - Number(invoice.amount_paid_cents);

export async function getInvoice(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<InvoiceRow> {
  const query = db('invoices').where({ id: idOrNotFound(id) });
  if (options.forUpdate) query.forUpdate();
  const invoice = await query.first<InvoiceRow | undefined>();
  if (!invoice) throw notFound('That invoice does not exist');
  return invoice;
}

export async function getInvoiceItems(db: Db, invoiceId: string): Promise<InvoiceItemRow[]> {
  return db('invoice_items').where({ invoice_id: invoiceId }).orderBy('position');
}

export async function listInvoices(
  db: Db,
  filter: { leadId?: string; status?: InvoiceStatus; unpaidOnly?: boolean; limit?: number; offset?: number } = {},
): Promise<InvoiceListRow[]> {
  const query = db('invoices as i')
    .join('leads as l', 'l.id', 'i.lead_id')
    .select('i.*', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .orderBy([{ column: 'i.number', order: 'desc' }])
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  if (filter.leadId) query.where('i.lead_id', filter.leadId);
  if (filter.status) query.where('i.status', filter.status);
  if (filter.unpaidOnly) query.whereIn('i.status', PAYABLE_STATUSES);
  return query;
}

/** What is still owed on open and partially paid invoices (for one customer or the whole org). */
export async function openBalance(db: Db, leadId?: string): Promise<{ balance_cents: number; invoice_count: number }> {
  const query = db('invoices')
    .whereIn('status', PAYABLE_STATUSES)
    .first(db.raw('coalesce(sum(total_cents - amount_paid_cents), 0)::bigint as balance_cents'), db.raw('count(*)::int as invoice_count'));
  if (leadId) query.where({ lead_id: leadId });
  const row = (await query) as { balance_cents: number; invoice_count: number };
  return { balance_cents: Number(row.balance_cents), invoice_count: Number(row.invoice_count) };
}

function computeOrRefuse(items: LineItemInput[], taxRateBps: number) {
  try {
    return computeLineItems(items, taxRateBps);
  } catch {
    throw fieldError('items', 'The total is too large; check the quantities and prices');
  }
}

async function writeItems(db: Db, invoiceId: string, items: ComputedLineItem[]): Promise<void> {
  await db('invoice_items').where({ invoice_id: invoiceId }).delete();
  if (!items.length) return;
  await db('invoice_items').insert(lineItemRows(currentOrgId(db), 'invoice_id', invoiceId, items));
}

/** Checks that the proposal/job an invoice points at exist, belong to the customer and are ready to bill. */
async function checkSources(db: Db, leadId: string, proposalId?: string | null, jobId?: string | null) {
  if (proposalId) {
    const proposal = await getProposal(db, proposalId);
    if (proposal.lead_id !== leadId) throw fieldError('lead_id', 'That proposal belongs to another customer');
    if (proposal.status !== 'approved') throw conflict(`Proposal #${proposal.number} is ${proposal.status}; only an approved proposal can be invoiced.`);
  }
  if (jobId) {
    const job = await getJob(db, jobId);
    if (job.lead_id !== leadId) throw fieldError('lead_id', 'That job belongs to another customer');
    if (job.status !== 'completed') throw conflict('Only a completed job can be invoiced.');
  }
}

interface NewInvoice {
  lead_id: string;
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
  if (input.due_date < input.issue_date) throw fieldError('due_date', 'The due date cannot be before the issue date');
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  await checkSources(db, lead.id, input.proposal_id, input.job_id);
  const { items, totals } = computeOrRefuse(input.items, input.tax_rate_bps);
  const number = await allocateNumber(db, 'invoice');
  const [invoice] = await db('invoices')
    .insert({
      org_id: currentOrgId(db),
      lead_id: lead.id,
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
    action: 'invoice.created',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { number, via, lead_id: lead.id, total_cents: totals.total_cents },
  });
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

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const DEFAULT_PAYMENT_TERMS_DAYS = 14;

function itemsFrom(rows: { service: string; description: string; quantity: string; unit_price_cents: number }[]): LineItemInput[] {
  return rows.map((r) => ({
    service: r.service,
    description: r.description,
    quantity_hundredths: parseQuantity(Number(r.quantity).toFixed(2)) ?? 100,
    unit_price_cents: Number(r.unit_price_cents),
  }));
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
    throw conflict(`Proposal #${proposal.number} is ${proposal.status}; only an approved proposal can be invoiced.`);
  }
  const items = await getProposalItems(db, proposal.id);
  const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string; status: string } | undefined>('id', 'status');
  const today = todayIn(org.time_zone);
  return insertInvoice(
    db,
    {
      lead_id: proposal.lead_id,
      proposal_id: proposal.id,
      job_id: job?.status === 'completed' ? job.id : null,
      issue_date: today,
      due_date: addDays(today, DEFAULT_PAYMENT_TERMS_DAYS),
      tax_rate_bps: proposal.tax_rate_bps,
      customer_message: '',
      internal_notes: '',
      items: itemsFrom(items),
    },
    org.currency,
    actor,
    'proposal',
  );
}

/** A draft invoice for a completed job: its proposal's lines, or one line for the service. */
export async function createInvoiceFromJob(
  db: Db,
  jobId: string,
  org: { currency: string; time_zone: string },
  actor: Actor,
): Promise<InvoiceRow> {
  const job = await getJob(db, jobId);
  if (job.status !== 'completed') throw conflict('Only a completed job can be invoiced.');
  let items: LineItemInput[] = [{ service: job.service_type, description: '', quantity_hundredths: 100, unit_price_cents: 0 }];
  let taxRate = 0;
  let proposalId: string | null = null;
  if (job.proposal_id) {
    const proposal = await getProposal(db, job.proposal_id);
    items = itemsFrom(await getProposalItems(db, proposal.id));
    taxRate = proposal.tax_rate_bps;
    proposalId = proposal.status === 'approved' ? proposal.id : null;
  }
  const today = todayIn(org.time_zone);
  return insertInvoice(
    db,
    {
      lead_id: job.lead_id,
      proposal_id: proposalId,
      job_id: job.id,
      issue_date: today,
      due_date: addDays(today, DEFAULT_PAYMENT_TERMS_DAYS),
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

export async function updateInvoice(db: Db, id: string, input: InvoiceInput, actor: Actor): Promise<InvoiceRow> {
  const before = await getInvoice(db, id, { forUpdate: true });
  if (before.status !== 'draft') throw conflict(`Invoice #${before.number} has been issued; only drafts can be edited. Void it and create a new one instead.`);
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  await checkSources(db, lead.id, before.proposal_id, before.job_id);
  const { items, totals } = computeOrRefuse(input.items, input.tax_rate);
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({
      lead_id: lead.id,
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
    if (before.status === 'void') throw conflict(`Invoice #${before.number} is void and cannot be issued.`);
    return { invoice: before, alreadyIssued: true };
  }
  if (Number(before.total_cents) <= 0) throw conflict(`Invoice #${before.number} has a total of zero; add a priced line before issuing it.`);
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({ status: 'open', issued_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<InvoiceRow[]>('*');
  await recordAudit(db, { actor, action: 'invoice.issued', subjectType: 'invoice', subjectId: invoice.id, data: { number: invoice.number, total_cents: invoice.total_cents } });
  return { invoice, alreadyIssued: false };
}

export async function voidInvoice(db: Db, id: string, actor: Actor): Promise<InvoiceRow> {
  const before = await getInvoice(db, id, { forUpdate: true });
  if (before.status === 'void') return before;
  if (Number(before.amount_paid_cents) > 0) {
    throw conflict(`Invoice #${before.number} has payments recorded; refund them before voiding it.`);
  }
  const [invoice] = await db('invoices')
    .where({ id: before.id })
    .update({ status: 'void', voided_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<InvoiceRow[]>('*');
  // A Pay page the customer still has open must not take money for a void invoice.
  const expiredCheckoutSessions = await retireOpenCheckoutSessions(db, invoice.id, { reason: 'invoice_void' });
  await recordAudit(db, {
    actor,
    action: 'invoice.voided',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { number: invoice.number, from: before.status, ...(expiredCheckoutSessions.length ? { expired_checkout_sessions: expiredCheckoutSessions } : {}) },
  });
  return invoice;
}

/**
 * Recomputes what has been paid on an invoice from its payments and moves its
 * status (open / partially paid / paid). The one place invoice balances are
 * written: manual payments, refunds and Stripe payments all come through here.
 * Call it inside the transaction that wrote the payment, after locking the
 * invoice (lockInvoiceForPayment).
 */
/** The status an issued invoice has once `paid` cents have been received; drafts and voids keep theirs. */
function statusAfterPayments(invoice: Pick<InvoiceRow, 'status' | 'total_cents'>, paid: number): InvoiceStatus {
  if (invoice.status !== 'open' && invoice.status !== 'partially_paid' && invoice.status !== 'paid') return invoice.status;
  return paid === 0 ? 'open' : paid >= Number(invoice.total_cents) ? 'paid' : 'partially_paid';
}

/**
 * Recomputes amount paid and status of these invoices from their payments, in
 * a fixed number of statements however many there are (reconciliation records
 * thousands at once). The only place invoice balances are written.
 */
export async function refreshInvoiceBalances(db: Db, invoiceIds: string[]): Promise<void> {
  const ids = [...new Set(invoiceIds)].sort();
  if (ids.length === 0) return;
  const { rows } = await db.raw<{ rows: { id: string; number: number; status: InvoiceStatus; total_cents: number; amount_paid_cents: number; paid: number }[] }>(
    `with locked as (
       select id, number, status, total_cents, amount_paid_cents from invoices where id = any(?::uuid[]) order by id for update
     )
     select l.*, coalesce((
              select sum(case
                       when p.kind = 'payment' and p.status in ('succeeded', 'refunded') then p.amount_cents
                       when p.kind = 'refund' and p.status = 'succeeded' then -p.amount_cents
                       else 0 end)
                from payments p where p.invoice_id = l.id), 0)::bigint as paid
       from locked l`,
    [ids],
  );
  const changes: { id: string; paid: number; status: InvoiceStatus }[] = [];
  for (const invoice of rows) {
    const paid = Number(invoice.paid);
    if (paid < 0 || paid > Number(invoice.total_cents)) {
      throw conflict(`Payments on invoice #${invoice.number} would not add up (${paid} of ${invoice.total_cents}).`);
    }
    const status = statusAfterPayments(invoice, paid);
    if (paid !== Number(invoice.amount_paid_cents) || status !== invoice.status) changes.push({ id: invoice.id, paid, status });
  }
  if (changes.length === 0) return;
  await db.raw(
    `update invoices i set amount_paid_cents = c.paid, status = c.status, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as c(id uuid, paid bigint, status text)
      where i.id = c.id`,
    [JSON.stringify(changes)],
  );
}

/** refreshInvoiceBalances() for one invoice, returning it as it now stands. */
export async function refreshInvoiceBalance(db: Db, invoiceId: string): Promise<InvoiceRow> {
  await refreshInvoiceBalances(db, [invoiceId]);
  return getInvoice(db, invoiceId);
}

/**
 * Locks an invoice before money is recorded against it and refuses the states
 * in which it cannot be paid. Returns the row with its current balance.
 */
export async function lockInvoiceForPayment(db: Db, invoiceId: string): Promise<InvoiceRow & { balance_cents: number }> {
  const invoice = await getInvoice(db, invoiceId, { forUpdate: true });
  if (invoice.status === 'void') throw conflict(`Invoice #${invoice.number} is void; it cannot take payments.`);
  if (invoice.status === 'draft') throw conflict(`Invoice #${invoice.number} is a draft; issue it before recording a payment.`);
  return { ...invoice, balance_cents: balanceOf(invoice) };
}
