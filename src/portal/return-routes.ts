// Back from Stripe Checkout: /return/<one-time code> → the customer's invoice page
// (or, for a deposit, the proposal page).
// Stripe keeps a session's return URLs, so they hold a code that works once, for
// a day, while the portal link is active — never the portal token itself.
import { Router, type Request, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { withOrg } from '../db/tenancy.js';
import { createRateLimiter } from '../http/security.js';
import { markCheckoutReturned } from '../payments/stripe/checkout.js';
import { checkoutReturnOrg, useCheckoutReturn } from '../payments/stripe/checkout-returns.js';
import { markDepositCheckoutReturned } from '../payments/stripe/deposit-checkout.js';
import { markSplitCheckoutReturned } from '../payments/stripe/split-checkout.js';
import { activePortalLink } from '../portal-links/queries.js';
import { renderNotFound } from './responses.js';

// The portal's headers are set for all of /return in src/app.ts (CUSTOMER_PATHS).
export const checkoutReturnRouter = Router();

const PROBLEMS = {
  used: 'portal:return.used',
  expired: 'portal:return.expired',
  revoked: 'portal:return.revoked',
} as const;

// A customer comes back once per payment attempt; a stranger trying codes is slowed down.
const returnLimiter = createRateLimiter({
  // i18n-exempt: a rate limiter name
  name: 'checkout-return',
  windowMs: 10 * 60_000,
  limit: 30,
  keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  message: 'portal:limits.return',
});

checkoutReturnRouter.get('/:code', returnLimiter, async (req: Request, res: Response) => {
  const found = await checkoutReturnOrg(String(req.params.code));
  if (!found) return renderNotFound(res);
  const back = await withOrg(found.orgId, async (db) => {
    const used = await useCheckoutReturn(db, found.returnId);
    if (!used.ok) return used;
    // Paid (or paying): the invoice page says "processing" until the payment is recorded.
    if (used.outcome === 'completed' && used.stripeCheckoutSessionId) {
      if (used.invoiceId) await markCheckoutReturned(db, used.invoiceId, used.leadId, used.stripeCheckoutSessionId);
      else if (used.proposalId) await markDepositCheckoutReturned(db, used.proposalId, used.stripeCheckoutSessionId);
      else await markSplitCheckoutReturned(db, used.leadId, used.stripeCheckoutSessionId);
    }
    const link = await activePortalLink(db, used.leadId);
    return { ...used, url: link?.id === used.portalLinkId ? link.url : null };
  });
  if (!back.ok || !back.url) {
    const problem = back.ok ? PROBLEMS.revoked : PROBLEMS[back.problem];
    return res.status(410).render('portal/error', {
      // i18n-exempt: a view or layout name
      layout: 'portal-plain',
      title: 'portal:return.title',
      message: problem,
      detail: 'portal:return.recorded',
    });
  }
  // A deposit leads back to its proposal, an invoice payment to the invoice (saying it was received once it
  // is recorded, or that nothing was charged when the customer cancelled), several invoices to the list.
  res.redirect(
    303,
    back.invoiceId
      ? `${back.url}/invoices/${back.invoiceId}?result=${back.outcome === 'completed' ? 'paid' : 'cancelled'}`
      : back.proposalId
        ? `${back.url}/proposals/${back.proposalId}`
        : // i18n-exempt: a route path
          `${back.url}/invoices?paid=several`,
  );
});
