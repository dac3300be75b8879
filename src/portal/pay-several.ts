// Paying several invoices at once from the portal's Invoices tab: the list's
// payable invoices get a tick box (all ticked), and one form pays the ticked
// ones in a single Checkout Session (payments/stripe/split-checkout.ts).
import type { Request } from 'express';
import type { PortalLinkRef } from '../db/lookups.js';
import { PAGE_SIZE, type PortalPageData } from '../db/portal-page.js';
import { withOrg } from '../db/tenancy.js';
import { balanceOf, isPayable } from '../lib/balance.js';
import { createSplitCheckout } from '../payments/stripe/split-checkout.js';
import { tipOptions, type TipOption } from '../payments/tips.js';
import { planFor } from '../plans.js';
import { getStripe } from '../stripe/client.js';
import { takesCardPayments } from './pay.js';
import { checkoutReturnUrl } from './responses.js';

export interface PaySeveral {
  /** What all the payable invoices on this page come to (all are ticked at first). */
  total_cents: number;
  currency: string;
  count: number;
  /** The suggested tips on that total (none when tips are off). */
  tips: TipOption[];
  /** Offer "Save my card for next time" (the plan has saved cards and autopay). */
  saveCard: boolean;
  /** The list runs over more than one page: the form pays this page's invoices, and says so. */
  thisPageOnly: boolean;
}

/**
 * Locals for the Invoices tab (`paySeveral`, and `paidSeveral` after coming
 * back from Checkout): offered when the business takes card payments and at
 * least two invoices on the page can be paid, in one currency.
 */
export function portalPaySeveralLocals(
  page: PortalPageData,
  backFromCheckout: boolean,
): { paySeveral?: PaySeveral; paidSeveral?: boolean } {
  if (page.tab !== 'invoices') return {};
  const extras = backFromCheckout ? { paidSeveral: true } : {};
  if (!takesCardPayments(page)) return extras;
  const payable = page.data.rows.filter((r) => isPayable(r));
  const currencies = new Set(payable.map((r) => r.currency));
  if (payable.length < 2 || currencies.size !== 1) return extras;
  const total = payable.reduce((n, r) => n + balanceOf(r), 0);
  return {
    ...extras,
    paySeveral: {
      total_cents: total,
      currency: payable[0].currency,
      count: payable.length,
      tips: tipOptions(page.org.tip_percentages, total),
      saveCard: planFor(page.org.plan).savedCardsAndAutopay,
      // More invoices than a page, and open ones beyond the ones listed here (the tab's count is all of them).
      thisPageOnly: page.data.total > PAGE_SIZE && page.waiting.invoices > payable.length,
    },
  };
}

/** Starts the one Checkout for the ticked invoices and returns its URL. */
export async function startSplitCheckout(
  link: PortalLinkRef,
  form: { invoice_ids: string[]; tip_choice?: string; tip_amount?: string; save_card?: 'on' },
  req: Request,
): Promise<string> {
  const { url } = await withOrg(link.org_id, async (db) => {
    const lead = await db('leads').where({ id: link.lead_id }).first<{ email: string | null }>('email');
    return createSplitCheckout(
      db,
      {
        invoiceIds: form.invoice_ids,
        tip: form,
        leadId: link.lead_id,
        portalLinkId: link.link_id,
        returnUrl: checkoutReturnUrl,
        customerEmail: lead?.email ?? null,
        saveCard: form.save_card === 'on',
        // i18n-exempt: an audit label stored in the business's records, not a page's words
        actor: { type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null },
      },
      getStripe(),
    );
  });
  return url;
}
