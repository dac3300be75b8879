// Invoice balances from their payments, set-based: a fixed number of statements
// however many invoices (reconciliation records thousands of payments at once).
import type { InvoiceStatus } from '../rows.js';
import type { Db } from '../tenancy.js';

export interface InvoicePaidSum {
  id: string;
  number: number;
  status: InvoiceStatus;
  total_cents: number;
  amount_paid_cents: number;
  /** Received so far: succeeded (or later refunded) payments less succeeded refunds. */
  paid: number;
}

/** Locks these invoices (in id order, so concurrent writers can't deadlock) and sums their payments. */
export async function lockInvoicesWithPaidSums(db: Db, ids: string[]): Promise<InvoicePaidSum[]> {
  const { rows } = await db.raw<{ rows: InvoicePaidSum[] }>(
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
  return rows.map((r) => ({ ...r, paid: Number(r.paid) }));
}

/** Writes amount paid and status of many invoices in one statement. */
export async function writeInvoiceBalances(db: Db, changes: { id: string; paid: number; status: InvoiceStatus }[]): Promise<void> {
  if (changes.length === 0) return;
  await db.raw(
    `update invoices i set amount_paid_cents = c.paid, status = c.status, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as c(id uuid, paid bigint, status text)
      where i.id = c.id`,
    [JSON.stringify(changes)],
  );
}

/** The statuses of an invoice that can take more money for a deposit (a draft included: it holds deposits before it is issued). */
export const DEPOSIT_TAKING_STATUSES: readonly InvoiceStatus[] = ['draft', 'open', 'partially_paid'];

export interface BillingInvoice {
  id: string;
  number: number;
  status: InvoiceStatus;
}

/**
 * The invoices, void ones aside, that already bill a piece of work: those made
 * from the proposal, and those made for its job. A proposal and the job it
 * became are one piece of work, so either page passes both ids it knows.
 */
export async function invoicesBilling(db: Db, work: { proposalId: string | null; jobId: string | null }): Promise<BillingInvoice[]> {
  if (!work.proposalId && !work.jobId) return [];
  const { rows } = await db.raw<{ rows: BillingInvoice[] }>(
    `select id, number, status from invoices
      where status <> 'void' and (proposal_id = ?::uuid or job_id = ?::uuid)
      order by number`,
    [work.proposalId, work.jobId],
  );
  return rows;
}
