// The portal's Pay buttons (invoice page and invoice list), from facts the page's one query already read.
import type { PortalPageData } from '../db/portal-page.js';
import { isPayable } from '../lib/balance.js';
import { onlinePaymentState, type OnlinePayment } from '../payments/stripe/checkout.js';
import { planFor } from '../plans.js';
import { stripeConfigured } from '../stripe/client.js';

/** The business takes card payments in the portal: its plan allows it and its Stripe account can charge. */
export function takesCardPayments(page: {
  org: Pick<PortalPageData['org'], 'plan' | 'stripe_connected' | 'stripe_charges_enabled'>;
}): boolean {
  return planFor(page.org.plan).onlinePayment && stripeConfigured() && page.org.stripe_connected && page.org.stripe_charges_enabled;
}

/** Whether an invoice in the list gets a Pay button (the same rule as the invoice page's Pay form). */
export function payableFromList(page: Pick<PortalPageData, 'org'>, invoice: Parameters<typeof isPayable>[0]): boolean {
  return takesCardPayments(page) && isPayable(invoice);
}

/**
 * Locals for the invoice page's Pay form (`onlinePay`), or nothing. Costs no
 * query on any plan: the page's one query read the org's Stripe state and the
 * invoice's latest Checkout Session (`pay` in the invoice data).
 */
export function portalPayLocals(page: PortalPageData): { onlinePay?: OnlinePayment; offerSaveCard?: boolean } {
  if (page.tab !== 'invoice' || !page.data) return {};
  const plan = planFor(page.org.plan);
  if (!plan.onlinePayment || !stripeConfigured()) return {};
  const { pay } = page.data;
  // The account id itself never reaches the page; only whether there is one.
  const org = { stripe_account_id: pay.connected ? 'connected' : null, stripe_charges_enabled: pay.charges_enabled };
  return { onlinePay: onlinePaymentState(plan, org, page.data, pay.latest_checkout_status), offerSaveCard: plan.savedCardsAndAutopay };
}
