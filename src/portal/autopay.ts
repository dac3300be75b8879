// The portal's saved card and autopay (issue 15 point 3, Pro): on the Invoices
// tab the card Checkout saved (brand, last four, expiry) with Remove, and the
// "pay new invoices automatically on their due date" switch; on an invoice page
// what autopay will do, or why its last attempt failed. Read only where the
// plan offers it (src/plans.ts), so other plans' pages keep their one query.
import type { Request } from 'express';
import { z } from 'zod';
import type { Actor } from '../db/audit.js';
import { portalLinkByTokenHash, type PortalLinkRef } from '../db/lookups.js';
import type { PortalPageData } from '../db/portal-page.js';
import { withOrg } from '../db/tenancy.js';
import { autopayFailureReason } from '../payments/stripe/autopay.js';
import { removeSavedCard, savedCardState, setAutopay, type SavedCardState } from '../payments/stripe/saved-cards.js';
import { planFor } from '../plans.js';
import { hashPortalToken } from '../portal-links/token.js';
import { getStripe } from '../stripe/client.js';
import { takesCardPayments } from './pay.js';

export const autopayForm = z.object({
  autopay: z.enum(['on', 'off'], 'autopay:errors.choose'),
});

interface AutopayFailure {
  day: string;
  reason: string;
}

export interface PortalAutopayLocals {
  savedCard?: SavedCardState & { expiry: string | null };
  /** The last automatic payment of this invoice failed (invoice page). */
  autopayFailure?: AutopayFailure;
  /** Autopay is on and will charge this invoice on its due date (invoice page). */
  autopayWillCharge?: boolean;
}

// i18n-exempt: audit label
const customerActor = (req: Request): Actor => ({ type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null });

/** Locals for the Invoices tab and an invoice page, on plans with saved cards; nothing (and no query) elsewhere. */
export async function portalAutopayLocals(token: string, page: PortalPageData): Promise<PortalAutopayLocals> {
  if (page.tab !== 'invoices' && page.tab !== 'invoice') return {};
  if (!planFor(page.org.plan).savedCardsAndAutopay || !takesCardPayments(page)) return {};
  const link = await portalLinkByTokenHash(hashPortalToken(token));
  if (!link) return {};
  return withOrg(link.org_id, async (db) => {
    const state = await savedCardState(db, link.lead_id);
    if (!state.available) return {};
    const expiry = state.card ? `${String(state.card.exp_month).padStart(2, '0')}/${String(state.card.exp_year).slice(-2)}` : null;
    const locals: PortalAutopayLocals = { savedCard: { ...state, expiry } };
    if (page.tab === 'invoice' && page.data) {
      const invoice = page.data as { id: string; status: string };
      const last = await db('autopay_attempts')
        .where({ invoice_id: invoice.id })
        .orderBy('attempt_day', 'desc')
        .first<{ status: string; failure_code: string | null; attempt_day: Date | string } | undefined>(
          'status',
          'failure_code',
          'attempt_day',
        );
      if (last?.status === 'failed' && ['open', 'partially_paid'].includes(invoice.status)) {
        const day = last.attempt_day instanceof Date ? last.attempt_day.toISOString().slice(0, 10) : String(last.attempt_day);
        locals.autopayFailure = { day, reason: autopayFailureReason(last.failure_code) };
      } else if (state.autopay && ['open', 'partially_paid'].includes(invoice.status)) {
        locals.autopayWillCharge = true;
      }
    }
    return locals;
  });
}

/** Turns autopay on or off from the Invoices tab (refused with 403 where the plan doesn't offer it). */
export async function changeAutopay(link: PortalLinkRef, on: boolean, req: Request): Promise<void> {
  await withOrg(link.org_id, (db) => setAutopay(db, link.lead_id, link.link_id, on, customerActor(req)));
}

/** Removes the saved card (detached at Stripe), which also turns autopay off. Allowed on any plan. */
export async function removeCard(link: PortalLinkRef, req: Request): Promise<void> {
  await withOrg(link.org_id, (db) => removeSavedCard(db, getStripe(), link.lead_id, customerActor(req)));
}
