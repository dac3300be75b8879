// What every customer-facing response shares: the portal headers, the one plain
// 404, and the address Stripe Checkout sends the customer back to.
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { config } from '../config.js';
import { browserLanguage } from '../i18n/index.js';
import { recoveryFormToken } from '../portal-links/token.js';

/**
 * Headers every portal response carries, 404 and 429 included, and the language of
 * pages that know no customer yet (the not-found page, a refused form): the browser's.
 */
export const portalHeaders: RequestHandler = (req, res, next) => {
  res.locals.lang = browserLanguage(req);
  // Node's own calls: Express's res.set() goes through its content-type logic for each (issue 16).
  // i18n-exempt: HTTP header names and values
  res.setHeader('Cache-Control', 'no-store');
  // i18n-exempt: HTTP header names and values
  res.setHeader('Referrer-Policy', 'no-referrer');
  // i18n-exempt: HTTP header names and values
  res.setHeader('X-Robots-Tag', 'noindex, nofollow');
  next();
};

/** The client a portal rate limit or the recovery form is keyed on (IPv6: its /56). */
export function portalClientKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}

/**
 * The one plain 404 for unknown, revoked and expired links alike, with the
 * "Send me my link again" form. `recover` re-renders the form with an error.
 */
export function renderNotFound(res: Response, recover: { status: number; error: string; value: string } | null = null): void {
  // i18n-exempt: a view or layout name
  res.status(recover?.status ?? 404).render('portal/not-found', {
    // i18n-exempt: a view or layout name
    layout: 'portal-plain',
    title: 'portal:notFound.title',
    recoverToken: recoveryFormToken(portalClientKey(res.req)),
    recoverError: recover?.error,
    recoverValue: recover?.value,
  });
}

/** Where Checkout returns to: a one-time code (return-routes.ts), never the portal token. */
export function checkoutReturnUrl(code: string): string {
  return `${config.publicUrl}/return/${code}`;
}
