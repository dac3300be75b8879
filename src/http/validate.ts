// Input every route refuses before it runs.
import type { RequestHandler } from 'express';
import { HttpError } from '../lib/errors.js';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => key.includes('\u0000') || containsNul(v, depth + 1));
}

/**
 * Postgres text can't hold U+0000, so a NUL anywhere in a form or query would
 * fail deep in a write as a 500. Refuse it up front for every route.
 */
export const rejectNulCharacters: RequestHandler = (req, _res, next) => {
  if (containsNul(req.body) || containsNul(req.query) || req.path.includes('\u0000')) {
    return next(new HttpError(400, 'invalid', 'The form contained an invalid character (NUL). Remove it and try again.', false));
  }
  next();
};
