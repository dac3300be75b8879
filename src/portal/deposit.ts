// The deposit on the portal proposal page and the way to pay it: before
// approval the customer is told what approving will ask; once approved, what
// is still due and a Pay button (when the business takes card payments), or
// that it is paid / processing. Approving with a deposit due goes straight on
// to Checkout for it.
import type { Request } from 'express';
import type { PortalLinkRef } from '../db/lookups.js';
import type { PortalPageData } from '../db/portal-page.js';
import { withOrg } from '../db/tenancy.js';
import { logger } from '../logger.js';
import { createDepositCheckout } from '../payments/stripe/deposit-checkout.js';
import { depositDueCents, depositPercent } from '../proposals/deposit.js';
import { getStripe } from '../stripe/client.js';
import { takesCardPayments } from './pay.js';
import { checkoutReturnUrl } from './responses.js';

export interface PortalDeposit {
  due_cents: number;
  paid_cents: number;
  outstanding_cents: number;
  /** Refunded of what was paid, and what is left of it (what the invoice is credited). */
  refunded_cents: number;
  kept_cents: number;
  /** "25%" for a percentage deposit; null for a fixed amount. */
  percent: string | null;
  /** Before approval, the rule portal-choices.js applies to the total as the customer picks. */
  rule: { percent_bps: number | null; amount_cents: number | null };
  /** The customer can pay it here by card. */
  payable: boolean;
  processing: boolean;
  failed: boolean;
}

/**
 * Locals for the proposal page's deposit (`deposit`), from facts the page's one
 * query read. `shownTotalCents`: the total of the lines the customer has picked on
 * screen (optional lines, alternatives), which is what approving will fix the
 * deposit from; the stored total is that of the preselected lines.
 */
export function portalDepositLocals(page: PortalPageData, shownTotalCents?: number): { deposit?: PortalDeposit } {
  if (page.tab !== 'proposal' || !page.data) return {};
  const p = page.data;
  // Pending: what approving will ask (from the total on screen); approved: what was fixed at approval.
  const due =
    p.status === 'approved'
      ? p.deposit_cents
      : p.status === 'pending'
        ? depositDueCents({ ...p, total_cents: shownTotalCents ?? p.total_cents })
        : null;
  if (due === null || due === undefined) return {};
  const paid = Number(p.deposit_paid_cents);
  const outstanding = Math.max(Number(due) - paid, 0);
  const refunded = Math.min(Number(p.deposit_refunded_cents), paid);
  const status = p.deposit_checkout_status;
  return {
    deposit: {
      due_cents: Number(due),
      paid_cents: paid,
      outstanding_cents: outstanding,
      refunded_cents: refunded,
      kept_cents: paid - refunded,
      percent: depositPercent(p),
      rule: {
        percent_bps: p.deposit_kind === 'percent' ? Number(p.deposit_value) : null,
        amount_cents: p.deposit_kind === 'amount' ? Number(p.deposit_value) : null,
      },
      payable: takesCardPayments(page) && outstanding > 0,
      processing: outstanding > 0 && (status === 'open' || status === 'processing'),
      failed: outstanding > 0 && status === 'failed',
    },
  };
}

/** Starts the deposit Checkout for a portal customer and returns its URL. */
export async function startDepositCheckout(link: PortalLinkRef, proposalId: string, req: Request): Promise<string> {
  const { url } = await withOrg(link.org_id, async (db) => {
    const lead = await db('leads').where({ id: link.lead_id }).first<{ email: string | null }>('email');
    return createDepositCheckout(
      db,
      {
        proposalId,
        leadId: link.lead_id,
        portalLinkId: link.link_id,
        returnUrl: checkoutReturnUrl,
        customerEmail: lead?.email ?? null,
        // i18n-exempt: an audit label stored in the business's records, not a page's words
        actor: { type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null },
      },
      getStripe(),
    );
  });
  return url;
}

/**
 * Right after an approval: the deposit's Checkout URL when one is due and the
 * business takes card payments, else null. A failure here never undoes the
 * approval (already committed); the proposal page then offers Pay deposit.
 */
export async function depositCheckoutAfterApproval(link: PortalLinkRef, proposalId: string, req: Request): Promise<string | null> {
  const due = await withOrg(link.org_id, async (db) => {
    const proposal = await db('proposals')
      .where({ id: proposalId, lead_id: link.lead_id, status: 'approved' })
      .whereNotNull('deposit_cents')
      .first<{ id: string } | undefined>('id');
    const org = await db('organizations').first<{ plan: string; stripe_account_id: string | null; stripe_charges_enabled: boolean }>(
      'plan',
      'stripe_account_id',
      'stripe_charges_enabled',
    );
    return !!proposal && takesCardPayments({ org: { ...org, stripe_connected: !!org.stripe_account_id } });
  });
  if (!due) return null;
  try {
    return await startDepositCheckout(link, proposalId, req);
  } catch (err) {
    logger.warn({ err: (err as Error).message, proposalId }, 'could not start the deposit Checkout after approval');
    return null;
  }
}
