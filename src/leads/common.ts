// Small helpers the dashboard services share: ids from URLs and the current org.
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Db } from '../db/tenancy.js';
import { notFound } from '../http/errors.js';

const uuid = z.uuid();

/** An id from a URL: anything that is not a uuid is simply not found (never a 500). */
export function idOrNotFound(value: unknown): string {
  const parsed = uuid.safeParse(value);
  if (!parsed.success) throw notFound();
  return parsed.data;
}

/** The org of the current withOrg transaction, for inserts (RLS checks it again). */
export function currentOrgId(db: Db): Knex.Raw {
  return db.raw("nullif(current_setting('app.org_id', true), '')::uuid");
}

/** Escapes %, _ and \ so user text is matched literally inside LIKE patterns. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The uuid in a route parameter, or a 404. */
export function routeId(params: Record<string, string | string[] | undefined>, name = 'id'): string {
  return idOrNotFound(params[name]);
}
