// The portal side of online payment: the Pay form's data on the invoice page,
// POST …/pay (→ Stripe Checkout) and the return from Checkout. The portal router
// mounts these with mountPortalPayments() and reuses its own token checks.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { z } from 'zod';
import { config } from '../config.js';
import { withOrg, withoutOrg } from '../db/tenancy.js';
import { FormError, HttpError } from '../http/errors.js';
import { createRateLimiter } from '../http/security.js';
import { parseForm } from '../http/validate.js';
import { planFor } from '../plans.js';
import { getStripe, stripeConfigured } from '../stripe/client.js';
import type { PortalPageData, PortalView } from '../portal/page-data.js';
import type { ViewExtras } from '../portal/view-model.js';
import { hashPortalToken, isValidPortalFormToken, isWellFormedToken } from '../portal/token.js';
import { createInvoiceCheckout, markCheckoutReturned, onlinePaymentState, payForm, type OnlinePayment } from './stripe-checkout.js';

interface LinkRow {
  link_id: string;
  org_id: string;
  lead_id: string;
}

async function linkFor(token: string): Promise<LinkRow | null> {
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: LinkRow[] }>('select link_id, org_id, lead_id from portal_link_by_token_hash(?)', [hashPortalToken(token)]);
    return rows[0] ?? null;
  });
}

/**
 * Locals for the invoice page's Pay form (`onlinePay`), or nothing. Costs no
 * query on any plan: the page's one query already read the org's Stripe state
 * and the invoice's latest Checkout Session (`pay` in the invoice data).
 */
export async function portalPayLocals(_token: string, page: PortalPageData): Promise<{ onlinePay?: OnlinePayment }> {
  if (page.tab !== 'invoice' || !page.data?.pay) return {};
  const plan = planFor(page.org.plan);
  if (!plan.onlinePayment || !stripeConfigured()) return {};
  const { pay } = page.data;
  // The account id itself never reaches the page; only whether there is one.
  const org = { stripe_account_id: pay.connected ? 'connected' : null, stripe_charges_enabled: pay.charges_enabled };
  return { onlinePay: onlinePaymentState(plan, org, page.data, pay.latest_checkout_status) };
}

type Show = (req: Request, res: Response, next: NextFunction, view: PortalView, extras?: ViewExtras, status?: number) => Promise<void>;

export interface PortalPayDeps {
  /** The portal's plain 404 (counted against the client). */
  miss: (req: Request, res: Response, next: NextFunction) => void;
  /** True when the client is over the portal's miss limit. */
  blocked: (req: Request) => Promise<boolean>;
  /** Renders a portal page (the invoice, with errors on a 422). */
  show: Show;
  payLimiter?: RequestHandler;
}

const uuid = z.uuid();
const sessionIdPattern = /^cs_[A-Za-z0-9_]{1,200}$/;

export const PORTAL_PAY_LIMIT = 20;

/** Adds POST /:token/invoices/:id/pay and GET /:token/invoices/:id/pay/return to the portal router. */
export function mountPortalPayments(router: Router, deps: PortalPayDeps): void {
  const payLimiter =
    deps.payLimiter ??
    createRateLimiter({
      name: 'portal-pay',
      windowMs: 10 * 60_000,
      limit: PORTAL_PAY_LIMIT,
      keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
      message: 'Too many payment attempts. Please wait a few minutes and try again.',
    });

  async function resolve(req: Request): Promise<{ token: string; invoiceId: string; link: LinkRow } | null> {
    const token = String(req.params.token);
    const invoiceId = uuid.safeParse(req.params.id);
    if (!isWellFormedToken(token) || !invoiceId.success) return null;
    if (await deps.blocked(req)) return null;
    const link = await linkFor(token);
    return link ? { token, invoiceId: invoiceId.data.toLowerCase(), link } : null;
  }

  router.post('/:token/invoices/:id/pay', payLimiter, async (req, res, next) => {
    try {
      const found = await resolve(req);
      if (!found) return deps.miss(req, res, next);
      const { token, invoiceId, link } = found;
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (!isValidPortalFormToken(link.link_id, body._csrf)) {
        return next(new HttpError(403, 'csrf', 'This form has expired. Go back, reload the page and try again.', false));
      }
      const invoiceUrl = `${config.publicUrl}/p/${token}/invoices/${invoiceId}`;
      let url: string;
      try {
        const form = parseForm(payForm, body);
        ({ url } = await withOrg(link.org_id, async (db) => {
          const lead = await db('leads').where({ id: link.lead_id }).first<{ email: string | null }>('email');
          return createInvoiceCheckout(
            db,
            {
              invoiceId,
              leadId: link.lead_id,
              amountInput: form.amount,
              invoiceUrl,
              returnUrl: `${invoiceUrl}/pay/return?session_id={CHECKOUT_SESSION_ID}`,
              customerEmail: lead?.email ?? null,
              actor: { type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null },
            },
            getStripe(),
          );
        }));
      } catch (err) {
        if (err instanceof FormError) {
          return deps.show(req, res, next, { kind: 'invoice', id: invoiceId }, { errors: err.fields, formError: err.message, values: body }, 422);
        }
        if (err instanceof HttpError && err.status === 404) return deps.miss(req, res, next);
        throw err;
      }
      res.redirect(303, url);
    } catch (err) {
      next(err);
    }
  });

  router.get('/:token/invoices/:id/pay/return', async (req, res, next) => {
    try {
      const found = await resolve(req);
      if (!found) return deps.miss(req, res, next);
      const { token, invoiceId, link } = found;
      const sessionId = typeof req.query.session_id === 'string' && sessionIdPattern.test(req.query.session_id) ? req.query.session_id : null;
      if (sessionId) await withOrg(link.org_id, (db) => markCheckoutReturned(db, invoiceId, link.lead_id, sessionId));
      res.redirect(303, `/p/${token}/invoices/${invoiceId}`);
    } catch (err) {
      next(err);
    }
  });
}
