// Ids that arrive from URLs and forms: one uuid check for the whole app.
import { z } from 'zod';
import { notFound } from './errors.js';

export const uuidSchema = z.uuid();

export function isUuid(value: unknown): value is string {
  return uuidSchema.safeParse(value).success;
}

/** The id in lower case, or null when it isn't a uuid. */
export function uuidOrNull(value: unknown): string | null {
  return isUuid(value) ? value.toLowerCase() : null;
}

/** An id from a URL: anything that is not a uuid is simply not found (never a 500). */
export function idOrNotFound(value: unknown): string {
  const id = uuidOrNull(value);
  if (!id) throw notFound();
  return id;
}

/** The uuid in a route parameter, or a 404. */
export function routeId(params: Record<string, string | string[] | undefined>, name = 'id'): string {
  return idOrNotFound(params[name]);
}

/** A form field holding an optional id: '' is none. */
export const optionalUuidField = z.preprocess((v) => (v === '' ? undefined : v), uuidSchema.optional());
