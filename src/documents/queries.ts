// What a document PDF or a visit's calendar file shows, read inside the caller's
// withOrg transaction (RLS scopes every read to that org). With `leadId` (the
// portal), only that customer's documents are found; drafts never are.
import { paymentSequenceColumn } from '../db/sql/payments.js';
import type { Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { frozenProposalContent, type SignaturePage } from './signed.js';
import { choiceNoteMessage, type LineChoice } from '../lib/line-options.js';

export type DocumentKind = 'proposal' | 'invoice' | 'receipt';

export interface DocumentOrg {
  name: string;
  brand_color: string;
  phone: string | null;
  email: string | null;
  address: string | null;
  locale: string;
  currency: string;
  time_zone: string;
  logo: Buffer | null;
}

interface DocumentLine {
  service: string;
  description: string;
  /** How an optional line or alternative counts (lib/line-options.ts), a message the PDF words. */
  note?: string | null;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
}

export interface DocumentData {
  kind: DocumentKind;
  /** A proposal's or invoice's number; a receipt's is its invoice's (or proposal's) and its place among their payments, "12-2". */
  number: number | string;
  title: string;
  /** The document's date: a calendar day (invoice) or an instant (proposal sent, payment made). */
  date: string | Date;
  dueDate: string | null;
  currency: string;
  /** The customer; `language`: the one stored on them (null: the business's). */
  customer: { name: string; company: string | null; address: string | null; email: string | null; language: string | null };
  message: string;
  lines: DocumentLine[];
  subtotalCents: number;
  taxCents: number;
  taxRateBps: number;
  totalCents: number;
  paidCents: number | null;
  /** Receipts: how it was paid, and the invoice it paid or (a deposit before any invoice) the proposal. */
  receipt: { method: string; invoiceNumber: number | null; proposalNumber: number | null; refund: boolean } | null;
  /** A signed proposal: the last page (signed.ts). */
  signature?: SignaturePage;
}

interface LeadPick {
  first_name: string;
  last_name: string;
  company: string | null;
  address: string | null;
  email: string | null;
  language: string | null;
}

export async function documentOrg(db: Db): Promise<DocumentOrg> {
  // i18n-exempt: SQL table and column names
  const org = await db('organizations as o')
    // i18n-exempt: SQL table and column names
    .leftJoin('org_logos as g', function () {
      this.on('g.id', '=', 'o.logo_id').andOn('g.org_id', '=', 'o.id');
    })
    .first<DocumentOrg>(
      'o.name',
      'o.brand_color',
      'o.phone',
      'o.email',
      'o.address',
      'o.locale',
      'o.currency',
      'o.time_zone',
      // i18n-exempt: SQL table and column names
      'g.bytes as logo',
    );
  return org;
}

async function customerOf(db: Db, leadId: string): Promise<DocumentData['customer']> {
  const lead = await db('leads')
    .where({ id: leadId })
    .first<LeadPick>('first_name', 'last_name', 'company', 'address', 'email', 'language');
  return {
    name: [lead.first_name, lead.last_name].filter(Boolean).join(' '),
    company: lead.company,
    address: lead.address,
    email: lead.email,
    language: lead.language,
  };
}

const LINE_COLUMNS = ['service', 'description', 'quantity', 'unit_price_cents', 'amount_cents'];

async function linesOf(db: Db, table: 'proposal_items' | 'invoice_items', key: string, id: string): Promise<DocumentLine[]> {
  const rows = await db(table)
    .where({ [key]: id })
    .orderBy([{ column: 'position' }, { column: 'id' }])
    .select<(Omit<DocumentLine, 'quantity'> & { quantity: string })[]>(LINE_COLUMNS);
  return rows.map((r) => ({ ...r, quantity: Number(r.quantity) }));
}

/**
 * A proposal's lines: each optional line or alternative says how it counts; once
 * approved, only the chosen lines are listed (the totals are theirs).
 */
async function proposalLinesOf(db: Db, id: string, approved: boolean): Promise<DocumentLine[]> {
  const rows = await db('proposal_items')
    .where({ proposal_id: id })
    .orderBy([{ column: 'position' }, { column: 'id' }])
    .select<(Omit<DocumentLine, 'quantity'> & LineChoice & { quantity: string })[]>([
      ...LINE_COLUMNS,
      'optional',
      'group_label',
      'selected',
    ]);
  return rows
    .filter((r) => !approved || r.selected)
    .map((r) => {
      return {
        service: r.service,
        description: r.description,
        note: choiceNoteMessage(r, approved),
        quantity: Number(r.quantity),
        unit_price_cents: r.unit_price_cents,
        amount_cents: r.amount_cents,
      };
    });
}

/** One document, or null when it doesn't exist, is a draft, or (with leadId) belongs to another customer. */
export async function loadDocument(db: Db, kind: DocumentKind, id: string, leadId?: string): Promise<DocumentData | null> {
  const scope = leadId ? { lead_id: leadId } : {};
  if (kind === 'proposal') {
    const p = await db('proposals')
      .where({ id, ...scope })
      .whereNot({ status: 'draft' })
      .first<
        | {
            lead_id: string;
            number: number;
            title: string;
            status: string;
            sent_at: Date | null;
            created_at: Date;
            valid_until: string | null;
            customer_message: string;
            subtotal_cents: number;
            tax_cents: number;
            tax_rate_bps: number;
            total_cents: number;
          }
        | undefined
      >();
    if (!p) return null;
    const org = await db('organizations').first<{ currency: string }>('currency');
    const live: DocumentData = {
      kind,
      number: p.number,
      title: p.title,
      date: p.sent_at ?? p.created_at,
      dueDate: p.valid_until,
      currency: org.currency,
      customer: await customerOf(db, p.lead_id),
      message: p.customer_message,
      lines: await proposalLinesOf(db, id, p.status === 'approved'),
      subtotalCents: p.subtotal_cents,
      taxCents: p.tax_cents,
      taxRateBps: p.tax_rate_bps,
      totalCents: p.total_cents,
      paidCents: null,
      receipt: null,
    };
    // Once signed, the PDF is what was signed, whatever happened to the proposal since.
    const frozen = await frozenProposalContent(db, id, leadId !== undefined);
    return frozen ? { ...live, ...frozen } : live;
  }
  if (kind === 'invoice') {
    const v = await db('invoices')
      .where({ id, ...scope })
      .whereNot({ status: 'draft' })
      .first<
        | {
            lead_id: string;
            number: number;
            issue_date: string;
            due_date: string;
            currency: string;
            customer_message: string;
            subtotal_cents: number;
            tax_cents: number;
            tax_rate_bps: number;
            total_cents: number;
            amount_paid_cents: number;
          }
        | undefined
      >();
    if (!v) return null;
    return {
      kind,
      number: v.number,
      title: msg('documents:invoiceTitle', { number: v.number }),
      date: v.issue_date,
      dueDate: v.due_date,
      currency: v.currency,
      customer: await customerOf(db, v.lead_id),
      message: v.customer_message,
      lines: await linesOf(db, 'invoice_items', 'invoice_id', id),
      subtotalCents: v.subtotal_cents,
      taxCents: v.tax_cents,
      taxRateBps: v.tax_rate_bps,
      totalCents: v.total_cents,
      paidCents: v.amount_paid_cents,
      receipt: null,
    };
  }
  // A payment on an invoice, or a deposit paid on a proposal: before any invoice held it, or held by
  // one still a draft (the customer has not seen that invoice: the receipt is the deposit's).
  // i18n-exempt: SQL table and column names
  const y = await db('payments as y')
    // i18n-exempt: SQL table and column names
    .leftJoin('invoices as v', 'v.id', 'y.invoice_id')
    // i18n-exempt: SQL table and column names
    .leftJoin('proposals as q', 'q.id', 'y.proposal_id')
    .where({ 'y.id': id, ...(leadId ? { 'y.lead_id': leadId } : {}) })
    // A payment marked as not received has no receipt: the money never came.
    .whereNot('y.status', 'failed')
    .where((q) => {
      q.where((inv) => {
        inv.whereNotNull('v.id').whereNot('v.status', 'draft');
      }).orWhere((dep) => {
        dep.whereNotNull('q.id').where((held) => {
          held.whereNull('y.invoice_id').orWhere('v.status', 'draft');
        });
      });
    })
    .first<
      | {
          lead_id: string;
          kind: 'payment' | 'refund';
          amount_cents: number;
          currency: string;
          method: string;
          paid_at: Date;
          invoice_number: number | null;
          invoice_status: string | null;
          proposal_number: number | null;
          sequence: number;
        }
      | undefined
    >(
      // Each receipt its own number: the payment's place among its invoice's (or proposal's).
      paymentSequenceColumn(db),
      'y.lead_id',
      'y.kind',
      'y.amount_cents',
      'y.currency',
      'y.method',
      'y.paid_at',
      // i18n-exempt: SQL table and column names
      'v.number as invoice_number',
      // i18n-exempt: SQL table and column names
      'v.status as invoice_status',
      // i18n-exempt: SQL table and column names
      'q.number as proposal_number',
    );
  if (!y) return null;
  const refund = y.kind === 'refund';
  const onInvoice = y.invoice_number !== null && y.invoice_status !== 'draft';
  const number = onInvoice ? Number(y.invoice_number) : Number(y.proposal_number);
  // Messages (src/i18n): the PDF writes them in the customer's language.
  const titleKey = onInvoice ? (refund ? 'refundTitle' : 'paymentTitle') : refund ? 'depositRefundTitle' : 'depositTitle';
  const lineKey = onInvoice ? (refund ? 'refundLine' : 'paymentLine') : refund ? 'depositRefundLine' : 'depositLine';
  return {
    kind,
    number: `${number}-${y.sequence}`,
    title: msg(`documents:receipt.${titleKey}`, { number }),
    date: y.paid_at,
    dueDate: null,
    currency: y.currency,
    customer: await customerOf(db, y.lead_id),
    message: '',
    lines: [
      {
        service: msg(`documents:receipt.${lineKey}`, { number }),
        description: `common:method.${y.method}`,
        quantity: 1,
        unit_price_cents: y.amount_cents,
        amount_cents: y.amount_cents,
      },
    ],
    subtotalCents: y.amount_cents,
    taxCents: 0,
    taxRateBps: 0,
    totalCents: y.amount_cents,
    paidCents: null,
    receipt: { method: y.method, invoiceNumber: onInvoice ? y.invoice_number : null, proposalNumber: onInvoice ? null : number, refund },
  };
}

/** The latest deposit payment on a proposal (with leadId, that customer's only), for its receipt; null when none was paid. */
export async function latestDepositPaymentId(db: Db, proposalId: string, leadId?: string): Promise<string | null> {
  const row = await db('payments')
    .where({ proposal_id: proposalId, kind: 'payment', status: 'succeeded', ...(leadId ? { lead_id: leadId } : {}) })
    .orderBy([
      { column: 'paid_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .first<{ id: string } | undefined>('id');
  return row?.id ?? null;
}

export interface UpcomingVisit {
  /** The customer's stored language (null: the business's). */
  language: string | null;
  id: string;
  service_type: string;
  scheduled_at: Date;
  /** The technician arrives within this many minutes of scheduled_at. */
  arrival_window_minutes: number;
  technician: string | null;
  address: string | null;
  customer_notes: string;
}

/** An upcoming (scheduled or in progress) visit with a time, with the customer's address when the job has none. */
export async function loadUpcomingVisit(db: Db, jobId: string, leadId?: string): Promise<UpcomingVisit | null> {
  // i18n-exempt: SQL table and column names
  const job = await db('jobs as j')
    // i18n-exempt: SQL table and column names
    .join('leads as c', 'c.id', 'j.lead_id')
    .where({ 'j.id': jobId, ...(leadId ? { 'j.lead_id': leadId } : {}) })
    .whereIn('j.status', ['scheduled', 'in_progress'])
    .whereNotNull('j.scheduled_at')
    .first<(UpcomingVisit & { lead_address: string | null }) | undefined>(
      'j.id',
      'j.service_type',
      'j.scheduled_at',
      'j.arrival_window_minutes',
      'j.technician',
      'j.address',
      // i18n-exempt: SQL table and column names
      'c.address as lead_address',
      'c.language',
      'j.customer_notes',
    );
  if (!job) return null;
  const { lead_address, ...visit } = job;
  return { ...visit, address: visit.address ?? lead_address };
}
