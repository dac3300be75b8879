// Input every route refuses before it runs.
import type { RequestHandler } from 'express';
import { msg } from '../i18n/index.js';
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
    return next(new HttpError(400, 'invalid', 'http:error.nulCharacter'));
  }
  next();
};

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

/**
 * The extended form parser turns `email[toString]=x` into an object whose
 * toString is a string, which throws wherever the value meets a string (a
 * re-rendered form, a rate limiter's key). Refuse such input up front for every
 * route; other object-shaped fields are refused by each form's zod schema.
 */
export const rejectPrototypeMemberKeys: RequestHandler = (req, _res, next) => {
  const field = prototypeMemberKey(req.body) ?? prototypeMemberKey(req.query);
  if (field) {
    const shown = field.length > 80 ? `${field.slice(0, 80)}…` : field;
    return next(new HttpError(400, 'invalid', msg('http:error.unknownField', { field: shown })));
  }
  next();
};
