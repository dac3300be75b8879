// What is owed on an invoice, and when money can still be taken: the one place
// these rules live (dashboard, portal, messaging and payments all use it).

export const INVOICE_STATUSES = ['draft', 'open', 'partially_paid', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** Statuses in which money can still be received. */
export const PAYABLE_STATUSES: readonly InvoiceStatus[] = ['open', 'partially_paid'];

function isPayableStatus(status: string): boolean {
  return (PAYABLE_STATUSES as readonly string[]).includes(status);
}

type Amounts = { status: string; total_cents: number | string; amount_paid_cents: number | string };

/** What is still owed: nothing on a draft or a void invoice, else total less what was paid. */
export function balanceOf(invoice: Amounts): number {
  if (invoice.status === 'void' || invoice.status === 'draft') return 0;
  return Number(invoice.total_cents) - Number(invoice.amount_paid_cents);
}

/** The invoice can take money now: a payable status and something left to pay. */
export function isPayable(invoice: Amounts): boolean {
  return isPayableStatus(invoice.status) && balanceOf(invoice) > 0;
}

/** The status an issued invoice has once `paid` minor units have been received; drafts and voids keep theirs. */
export function statusAfterPayments(invoice: { status: InvoiceStatus; total_cents: number | string }, paid: number): InvoiceStatus {
  if (invoice.status !== 'open' && invoice.status !== 'partially_paid' && invoice.status !== 'paid') return invoice.status;
  return paid === 0 ? 'open' : paid >= Number(invoice.total_cents) ? 'paid' : 'partially_paid';
}
