// One place that turns zod issues into per-field messages for forms and JSON.
import type { z } from 'zod';
import type { RequestHandler } from 'express';
import { FormError, HttpError } from './errors.js';

export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_form';
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Parses input or throws a FormError naming the first problem of each field. */
export function parseForm<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new FormError(fieldErrors(result.error));
  return result.data;
}

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
