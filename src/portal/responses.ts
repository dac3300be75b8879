// What every customer-facing response shares: the portal headers, the one plain
// 404, and the address Stripe Checkout sends the customer back to.
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { config } from '../config.js';
import { recoveryFormToken } from '../portal-links/token.js';

/** Headers every portal response carries, 404 and 429 included. */
export const portalHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow',
  });
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
  res.status(recover?.status ?? 404).render('portal/not-found', {
    layout: 'portal-plain',
    title: 'Link not available',
    recoverToken: recoveryFormToken(portalClientKey(res.req)),
    recoverError: recover?.error,
    recoverValue: recover?.value,
  });
}

/** Where Checkout returns to: a one-time code (return-routes.ts), never the portal token. */
export function checkoutReturnUrl(code: string): string {
  return `${config.publicUrl}/return/${code}`;
}
