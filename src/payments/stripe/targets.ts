// What a PaymentIntent pays, from the metadata we set at Checkout: an invoice
// (invoice_id), a proposal's deposit (proposal_id with purpose "deposit"), or
// several invoices (checkout_id with purpose "invoices": the split we stored).
// Anything without our org id is not ours and is ignored by webhooks and
// reconciliation alike.
import { isUuid } from '../../lib/ids.js';

type Metadata = Record<string, string> | null | undefined;

/** The invoice a PaymentIntent pays; null when it isn't ours or pays no invoice. */
export function invoiceIdFor(orgId: string, metadata: Metadata): string | null {
  if (!metadata || metadata.org_id !== orgId) return null;
  return isUuid(metadata.invoice_id) ? metadata.invoice_id.toLowerCase() : null;
}

/** The proposal whose deposit a PaymentIntent pays; null when it isn't ours or isn't a deposit. */
export function depositProposalIdFor(orgId: string, metadata: Metadata): string | null {
  if (!metadata || metadata.org_id !== orgId || metadata.purpose !== 'deposit' || metadata.invoice_id) return null;
  return isUuid(metadata.proposal_id) ? metadata.proposal_id.toLowerCase() : null;
}

/** The Checkout attempt (our checkout_sessions id) whose split a several-invoices PaymentIntent pays; else null. */
export function splitCheckoutIdFor(orgId: string, metadata: Metadata): string | null {
  if (!metadata || metadata.org_id !== orgId || metadata.purpose !== 'invoices' || metadata.invoice_id) return null;
  return isUuid(metadata.checkout_id) ? metadata.checkout_id.toLowerCase() : null;
}

/** The PaymentIntent pays something of ours (an invoice, several invoices or a deposit). */
export function paysOurs(orgId: string, metadata: Metadata): boolean {
  return (
    invoiceIdFor(orgId, metadata) !== null || depositProposalIdFor(orgId, metadata) !== null || splitCheckoutIdFor(orgId, metadata) !== null
  );
}

/** A succeeded (or not) PaymentIntent as the deposit and several-invoices recorders read it. */
export interface TargetedPayment {
  paymentIntent: {
    id: string;
    status: string;
    amount_received: number;
    currency: string;
    created: number;
    metadata: Record<string, string> | null;
    latest_charge: string | { id: string } | null;
  };
  checkoutSessionId: string | null;
}

export const chargeIdOf = (value: string | { id: string } | null): string | null =>
  !value ? null : typeof value === 'string' ? value : value.id;
