// One error handler: HTML pages for people, JSON for machine endpoints.
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { config } from '../config.js';
import { HttpError, FormError } from '../lib/errors.js';
import { requestLogger } from '../logger.js';
import { fieldErrors } from '../lib/forms.js';
import { browserLanguage, isLanguage, t, translate, type Language } from '../i18n/index.js';
import { pagePath, saveSession } from './page.js';

function wantsJson(req: Request): boolean {
  return req.path.startsWith('/webhooks/') || req.path.startsWith('/api/') || (!req.accepts('html') && !!req.accepts('json'));
}

function layoutFor(req: Request): string {
  // i18n-exempt: a layout's file name
  return req.path.startsWith('/p/') ? 'portal-plain' : req.session?.userId ? 'admin' : 'public';
}

/**
 * The language an error is told in: the dashboard's (the org's, remembered in
 * the session by orgPage) for a signed-in user, else the page's (the portal's
 * or the browser's).
 */
function errorLanguage(req: Request, res: Response): Language {
  const fromSession = req.session?.userId ? req.session.lang : undefined;
  if (isLanguage(fromSession)) return fromSession;
  const fromPage = res.locals.lang as unknown;
  return isLanguage(fromPage) ? fromPage : browserLanguage(req);
}

export const notFoundHandler: RequestHandler = (req, res) => {
  const lang = errorLanguage(req, res);
  res.locals.lang = lang;
  if (wantsJson(req)) return res.status(404).json({ error: 'not_found', message: t(lang, 'common:errors.notFound') });
  res.status(404).render('errors/404', { layout: layoutFor(req), title: t(lang, 'http:title.pageNotFound') });
};

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

/**
 * Where a refused dashboard form goes back to: the page it was on (its `_back` field), for a signed-in
 * user's POST whose orgPage transaction was rolled back; null otherwise (the error page, as for any other).
 */
function pageToReturnTo(req: Request, res: Response): string | null {
  if (req.method !== 'POST' || res.locals.rolledBack !== true || !req.session?.userId) return null;
  return pagePath((req.body as { _back?: unknown } | undefined)?._back);
}

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  let status = 500;
  let id = 'internal';
  let message = 'http:error.internal';
  let fields: Record<string, string> | undefined;

  if (err instanceof HttpError) {
    ({ status, id, message } = err);
  } else if (err instanceof FormError) {
    status = 422;
    id = 'invalid';
    message = err.message;
    fields = err.fields;
  } else if (err instanceof ZodError) {
    status = 400;
    id = 'invalid';
    fields = fieldErrors(err);
    message = 'http:error.invalidInput';
  } else if (typeof (err as BodyParserError)?.status === 'number' && (err as BodyParserError).status! < 500) {
    // body-parser and multer errors: malformed or oversized input.
    status = (err as BodyParserError).status!;
    id = (err as BodyParserError).type ?? 'bad_request';
    message = status === 413 ? 'http:error.tooLarge' : 'http:error.unreadable';
  }

  if (status >= 500) requestLogger(req).error({ err }, 'request failed');
  if (res.headersSent) return;

  // Messages (keys, or msg(key, values)) in the reader's language; other text passes through as it is.
  const lang = errorLanguage(req, res);
  res.locals.lang = lang;
  message = translate(lang, message);
  if (fields) fields = Object.fromEntries(Object.entries(fields).map(([field, text]) => [field, translate(lang, text)]));
  if (err instanceof ZodError && fields) message = Object.entries(fields).map(([k, v]) => `${k}: ${v}`)[0] ?? message;

  if (wantsJson(req)) {
    res.status(status).json({ error: id, message, ...(fields ? { fields } : {}) });
    return;
  }
  const stack = !config.isProduction && status >= 500 && err instanceof Error ? err.stack : undefined;
  const errorPage = () =>
    res.status(status).render(status === 404 ? 'errors/404' : status >= 500 ? 'errors/500' : 'errors/error', {
      layout: layoutFor(req),
      title: t(
        lang,
        status === 404 ? 'http:title.pageNotFound' : status >= 500 ? 'http:title.somethingWentWrong' : 'http:title.requestRefused',
      ),
      status,
      message,
      stack,
    });
  const back = status === 409 ? pageToReturnTo(req, res) : null;
  if (!back) return errorPage();
  // Refused for the state of things (already paid, already decided, changed meanwhile) with nothing kept:
  // back to the page the form was on, which now shows that state, with the reason on top, rather than to a
  // page whose only way on is the start page. If the session can't be saved, the error page after all.
  req.session.flash = { type: 'error', message };
  saveSession(req).then(
    () => res.redirect(303, back),
    () => {
      delete req.session.flash;
      errorPage();
    },
  );
};
