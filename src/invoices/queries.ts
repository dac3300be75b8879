// Invoices: reading them, and what is still owed.
import { PAYABLE_STATUSES, type InvoiceStatus } from '../lib/balance.js';
import type { InvoiceItemRow, InvoiceRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { notFound } from '../lib/errors.js';
import { idOrNotFound } from '../lib/ids.js';
import { customerRecordList } from '../leads/queries.js';

export type { InvoiceItemRow, InvoiceRow };

export interface InvoiceListRow extends InvoiceRow {
  lead_first_name: string;
  lead_last_name: string;
}

export async function getInvoice(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<InvoiceRow> {
  const query = db('invoices').where({ id: idOrNotFound(id) });
  if (options.forUpdate) query.forUpdate();
  const invoice = await query.first<InvoiceRow | undefined>();
  if (!invoice) throw notFound('dashboard:invoice.errors.notFound');
  return invoice;
}

export async function getInvoiceItems(db: Db, invoiceId: string): Promise<InvoiceItemRow[]> {
  return db('invoice_items').where({ invoice_id: invoiceId }).orderBy('position');
}

export async function listInvoices(
  db: Db,
  filter: { leadId?: string; status?: InvoiceStatus; unpaidOnly?: boolean; limit?: number; offset?: number } = {},
): Promise<InvoiceListRow[]> {
  const query = customerRecordList(db, 'invoices', 'i', [{ column: 'i.number', order: 'desc' }], filter);
  if (filter.status) query.where('i.status', filter.status);
  if (filter.unpaidOnly) query.whereIn('i.status', PAYABLE_STATUSES);
  return query;
}

/** What is still owed on payable invoices (for one customer or the whole org). */
export async function openBalance(db: Db, leadId?: string): Promise<{ balance_cents: number; invoice_count: number }> {
  const query = db('invoices')
    .whereIn('status', PAYABLE_STATUSES)
    .count({ invoice_count: '*' })
    .sum({ total: 'total_cents', paid: 'amount_paid_cents' })
    .first<{ invoice_count: string | number; total: string | number | null; paid: string | number | null }>();
  if (leadId) query.where({ lead_id: leadId });
  const row = await query;
  return { balance_cents: Number(row.total ?? 0) - Number(row.paid ?? 0), invoice_count: Number(row.invoice_count) };
}
