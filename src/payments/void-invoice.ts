// voidInvoice: crosses features in one transaction — the invoice becomes void
// (invoices) and its open Checkout Sessions stop taking money (payments), so a
// Pay page the customer still has open can't charge for a void invoice.
import { recordAudit, type Actor } from '../db/audit.js';
import type { InvoiceRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { markInvoiceVoid } from '../invoices/commands.js';
import { getInvoice } from '../invoices/queries.js';
import { retireOpenCheckoutSessions } from './stripe/sessions.js';

export async function voidInvoice(db: Db, id: string, actor: Actor): Promise<InvoiceRow> {
  const voided = await markInvoiceVoid(db, id);
  if (!voided) return getInvoice(db, id);
  const { invoice, from } = voided;
  const expiredCheckoutSessions = await retireOpenCheckoutSessions(db, invoice.id, { reason: 'invoice_void' });
  await recordAudit(db, {
    actor,
    action: 'invoice.voided', // i18n-exempt: SQL's and the audit log's names
    subjectType: 'invoice',
    subjectId: invoice.id,
    data: {
      number: invoice.number,
      from,
      ...(expiredCheckoutSessions.length ? { expired_checkout_sessions: expiredCheckoutSessions } : {}),
    },
  });
  return invoice;
}
