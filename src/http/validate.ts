// Input every route refuses before it runs.
import type { RequestHandler } from 'express';
import { msg } from '../i18n/index.js';
import { HttpError } from '../lib/errors.js';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => key.includes('\u0000') || containsNul(v, depth + 1));
}

/** Names of Object.prototype members: no form field of ours uses one, and as a key it shadows a method (`email[toString]=x`). */
const PROTOTYPE_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The first field path (`email[toString]`) whose key names an Object.prototype member, or null. */
function prototypeMemberKey(value: unknown, path = '', depth = 0): string | null {
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [key, v] of Object.entries(value)) {
    const here = path ? `${path}[${key}]` : key;
    if (PROTOTYPE_MEMBERS.has(key)) return here;
    const found = prototypeMemberKey(v, here, depth + 1);
    if (found) return found;
  }
  return null;
}

const nulError = () => new HttpError(400, 'invalid', 'http:error.nulCharacter');

/**
 * Input every route refuses before it runs, body and query alike (the query read
 * once: Express parses it again on every read):
 * - a NUL anywhere: Postgres text can't hold U+0000, so it would fail deep in a
 *   write as a 500;
 * - a key naming an Object.prototype member: the extended form parser turns
 *   `email[toString]=x` into an object whose toString is a string, which throws
 *   wherever the value meets a string (a re-rendered form, a rate limiter's key).
 *   Other object-shaped fields are refused by each form's zod schema.
 */
export const rejectUnsafeInput: RequestHandler = (req, _res, next) => {
  // No body and no query string (a page opened from a link, most requests): nothing to parse.
  // A NUL in the raw path would be refused here, but Node's HTTP parser already refuses one.
  if (req.body === undefined && !req.url.includes('?')) return req.url.includes('\u0000') ? next(nulError()) : next();
  const { body, query } = req as { body: unknown; query: unknown };
  if (containsNul(body) || containsNul(query) || req.path.includes('\u0000')) return next(nulError());
  const field = prototypeMemberKey(body) ?? prototypeMemberKey(query);
  if (field) {
    const shown = field.length > 80 ? `${field.slice(0, 80)}…` : field;
    return next(new HttpError(400, 'invalid', msg('http:error.unknownField', { field: shown })));
  }
  next();
};
