// Crediting a proposal's deposits to the invoice made from it (or from its job).
// A deposit paid before any invoice existed waits on the proposal (a payments
// row with no invoice); the new invoice takes every such deposit that fits its
// total, oldest first, and its balance follows (refreshInvoiceBalances). The
// proposal row is locked as recordStripeDeposits locks it, so a deposit that
// lands while the invoice is being made is either seen here or sees the invoice.
import { recordAudit, type Actor } from '../db/audit.js';
import type { InvoiceRow } from '../db/rows.js';
import { refundedTotals } from '../db/sql/payments.js';
import type { Db } from '../db/tenancy.js';

/** Credits waiting deposits to a new invoice; returns the amount credited. */
export async function creditDeposits(db: Db, invoice: InvoiceRow, actor: Actor): Promise<number> {
  if (!invoice.proposal_id) return 0;
  await db('proposals').where({ id: invoice.proposal_id }).forUpdate().first('id');
  const waiting = await db('payments')
    .where({ proposal_id: invoice.proposal_id, kind: 'payment', status: 'succeeded', currency: invoice.currency })
    .whereNull('invoice_id')
    .orderBy([{ column: 'paid_at' }, { column: 'id' }])
    .forUpdate()
    .select<{ id: string; amount_cents: string }[]>('id', 'amount_cents');
  // A deposit refunded in part while it waited counts for what is left of it.
  const refunded = await refundedTotals(
    db,
    waiting.map((d) => d.id),
    ['succeeded'],
  );
  let room = Number(invoice.total_cents) - Number(invoice.amount_paid_cents);
  const credited: string[] = [];
  let amount = 0;
  for (const deposit of waiting) {
    const cents = Number(deposit.amount_cents) - (refunded.get(deposit.id) ?? 0);
    if (cents > room) continue;
    room -= cents;
    amount += cents;
    credited.push(deposit.id);
  }
  if (credited.length === 0) return 0;
  await db('payments').whereIn('id', credited).update({ invoice_id: invoice.id, updated_at: db.fn.now() });
  // Their refunds move with them (off the proposal, onto the invoice), so the invoice's balance counts both.
  await db('payments')
    .whereIn('refund_of', credited)
    .where({ kind: 'refund' })
    .update({ invoice_id: invoice.id, proposal_id: null, updated_at: db.fn.now() });
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'invoice.deposit_credited',
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: { proposal_id: invoice.proposal_id, payments: credited, amount_cents: amount },
  });
  return amount;
}
