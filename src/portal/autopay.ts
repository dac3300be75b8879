// The portal's saved card and autopay (issue 15 point 3, Pro): on the Invoices
// tab the card Checkout saved (brand, last four, expiry) with Remove, and the
// "pay new invoices automatically on their due date" switch; on an invoice page
// what autopay will do, or why its last attempt failed, from the page's one
// query; shown only where the plan offers it (src/plans.ts).
import type { Request } from 'express';
import { z } from 'zod';
import type { Actor } from '../db/audit.js';
import type { PortalLinkRef } from '../db/lookups.js';
import type { PortalPageData } from '../db/portal-page.js';
import { withOrg } from '../db/tenancy.js';
import { autopayFailureReason } from '../payments/stripe/autopay.js';
import { removeSavedCard, setAutopay, type SavedCardState } from '../payments/stripe/saved-cards.js';
import { planFor } from '../plans.js';
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

/** Card networks by Stripe's `card.brand` code, as their names are written (the same in every language). */
const CARD_BRANDS: Record<string, string> = {
  amex: 'American Express', // i18n-exempt: a card network's name
  cartes_bancaires: 'Cartes Bancaires', // i18n-exempt: a card network's name
  diners: 'Diners Club', // i18n-exempt: a card network's name
  discover: 'Discover',
  eftpos_au: 'eftpos',
  interac: 'Interac',
  jcb: 'JCB',
  mastercard: 'Mastercard',
  unionpay: 'UnionPay',
  visa: 'Visa',
};

/** "Visa" for Stripe's "visa"; a code it may add later, as sent; "card" when Stripe named none. */
function cardBrandName(brand: string | null): string {
  if (!brand || brand === 'unknown') return 'card';
  return CARD_BRANDS[brand] ?? brand;
}

// i18n-exempt: audit label
const customerActor = (req: Request): Actor => ({ type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null });

/**
 * Locals for the Invoices tab and an invoice page, on plans with saved cards;
 * nothing elsewhere. Read from the page's own JSON (portal_page() returns the
 * saved card and the invoice's latest attempt), so the page stays one query.
 */
export function portalAutopayLocals(page: PortalPageData): PortalAutopayLocals {
  if (page.tab !== 'invoices' && page.tab !== 'invoice') return {};
  if (!planFor(page.org.plan).savedCardsAndAutopay || !takesCardPayments(page)) return {};
  const card = page.saved_card ?? null;
  const state: SavedCardState = {
    available: true,
    card: card ? { brand: cardBrandName(card.brand), last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year } : null,
    autopay: !!card?.autopay,
  };
  const expiry = state.card ? `${String(state.card.exp_month).padStart(2, '0')}/${String(state.card.exp_year).slice(-2)}` : null;
  const locals: PortalAutopayLocals = { savedCard: { ...state, expiry } };
  if (page.tab === 'invoice' && page.data) {
    const open = ['open', 'partially_paid'].includes(page.data.status);
    const last = page.autopay_last_attempt ?? null;
    if (last?.status === 'failed' && open) {
      locals.autopayFailure = { day: String(last.attempt_day).slice(0, 10), reason: autopayFailureReason(last.failure_code) };
    } else if (state.autopay && open) {
      locals.autopayWillCharge = true;
    }
  }
  return locals;
}

/** Turns autopay on or off from the Invoices tab (refused with 403 where the plan doesn't offer it). */
export async function changeAutopay(link: PortalLinkRef, on: boolean, req: Request): Promise<void> {
  await withOrg(link.org_id, (db) => setAutopay(db, link.lead_id, link.link_id, on, customerActor(req)));
}

/** Removes the saved card (detached at Stripe), which also turns autopay off. Allowed on any plan. */
export async function removeCard(link: PortalLinkRef, req: Request): Promise<void> {
  await withOrg(link.org_id, (db) => removeSavedCard(db, getStripe(), link.lead_id, customerActor(req)));
}
