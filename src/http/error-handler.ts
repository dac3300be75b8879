// One error handler: HTML pages for people, JSON for machine endpoints.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { config } from '../config.js';
import { HttpError, FormError } from '../lib/errors.js';
import { fieldErrors } from '../lib/forms.js';

function wantsJson(req: Request): boolean {
  return req.path.startsWith('/webhooks/') || req.path.startsWith('/api/') || (!req.accepts('html') && !!req.accepts('json'));
}

function layoutFor(req: Request): string {
  return req.path.startsWith('/p/') ? 'portal-plain' : req.session?.userId ? 'admin' : 'public';
}

export const notFoundHandler: RequestHandler = (req, res) => {
  if (wantsJson(req)) return res.status(404).json({ error: 'not_found', message: 'Not found' });
  res.status(404).render('errors/404', { layout: layoutFor(req), title: 'Page not found' });
};

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  let status = 500;
  let id = 'internal';
  let message = 'Something went wrong on our side. Please try again in a moment.';
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
    message = Object.entries(fields).map(([k, v]) => `${k}: ${v}`)[0] ?? 'Invalid input';
  } else if (typeof (err as BodyParserError)?.status === 'number' && (err as BodyParserError).status! < 500) {
    // body-parser and multer errors: malformed or oversized input.
    status = (err as BodyParserError).status!;
    id = (err as BodyParserError).type ?? 'bad_request';
    message = status === 413 ? 'That upload or form is too large.' : 'The request could not be read.';
  }

  if (status >= 500) req.log?.error({ err }, 'request failed');
  if (res.headersSent) return;

  if (wantsJson(req)) {
    res.status(status).json({ error: id, message, ...(fields ? { fields } : {}) });
    return;
  }
  const stack = !config.isProduction && status >= 500 && err instanceof Error ? err.stack : undefined;
  res.status(status).render(status === 404 ? 'errors/404' : status >= 500 ? 'errors/500' : 'errors/error', {
    layout: layoutFor(req),
    title: status === 404 ? 'Page not found' : status >= 500 ? 'Something went wrong' : 'Request refused',
    status,
    message,
    stack,
  });
};
