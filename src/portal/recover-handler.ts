// The POST behind "Send me my link again": the form's token, the address parsed,
// the per-address limit, then a job. The answer never depends on what matched.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../lib/errors.js';
import { normalizePhone, phoneCountriesFor } from '../lib/phone.js';
import { sha256Hex } from '../lib/tokens.js';
import { emailSchema } from '../messaging/schema.js';
import { isValidRecoveryFormToken } from '../portal-links/token.js';
import type { RecoveryJobData } from '../queue/queues.js';
import { requestRecovery } from './recovery.js';
import { portalClientKey, renderNotFound } from './responses.js';

const ADDRESS_HELP = 'portal:notFound.addressHelp';

/** The typed address as what leads store: a lowercase email or an E.164 number; null when it is neither. */
export function parseRecoveryAddress(input: unknown, languages: string[]): RecoveryJobData | null {
  if (typeof input !== 'string') return null;
  const text = input.trim();
  if (!text || text.length > 320) return null;
  if (text.includes('@')) {
    const email = emailSchema.safeParse(text);
    return email.success ? { email: email.data, phone: null } : null;
  }
  // The first country whose numbering plan the number is valid in (a number written with + names its own).
  for (const country of phoneCountriesFor(languages)) {
    const phone = normalizePhone(text, country);
    if (phone) return { email: null, phone };
  }
  return null;
}

/** The per-address limiter's key: a hash, so Redis never holds the address itself. */
export function recoveryAddressKey(_req: Request, res: Response): string {
  return `addr:${sha256Hex(String(res.locals.recoveryAddress))}`;
}

export function recoveryPost(addressLimiter: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidRecoveryFormToken(portalClientKey(req), body._csrf)) {
      return next(new HttpError(403, 'csrf', 'portal:errors.formExpired'));
    }
    const address = parseRecoveryAddress(body.address, req.acceptsLanguages());
    if (!address) {
      const value = typeof body.address === 'string' ? body.address.slice(0, 320) : '';
      return renderNotFound(res, { status: 422, error: ADDRESS_HELP, value });
    }
    res.locals.recoveryAddress = address.email ?? address.phone;
    addressLimiter(req, res, (err?: unknown) => {
      if (err) return next(err);
      // i18n-exempt: a view or layout name
      const sent = { layout: 'portal-plain', title: 'portal:recoverSent.title', email: !!address.email };
      requestRecovery(address).then(
        // i18n-exempt: a view or layout name
        () => res.status(200).render('portal/recover-sent', sent),
        next,
      );
    });
  };
}
