// What every customer-facing response shares: the portal headers, the one plain
// 404, and the address Stripe Checkout sends the customer back to.
import type { RequestHandler, Response } from 'express';
import { config } from '../config.js';

/** Headers every portal response carries, 404 and 429 included. */
export const portalHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow',
  });
  next();
};

export function renderNotFound(res: Response): void {
  res.status(404).render('portal/not-found', { layout: 'portal-plain', title: 'Link not available' });
}

/** Where Checkout returns to: a one-time code (return-routes.ts), never the portal token. */
export function checkoutReturnUrl(code: string): string {
  return `${config.publicUrl}/return/${code}`;
}
