// Customer search: the lead_search_page() definer function (under RLS, ILIKE is
// not leakproof and could not use the trigram index) returns one page of ids.
import type { LeadSummary } from '../rows.js';
import type { Db } from '../tenancy.js';

/** Escapes %, _ and \ so user text is matched literally inside LIKE patterns. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface LeadSearch {
  /** ILIKE patterns every row must match (trigram index). */
  contains: string[];
  /** LIKE patterns a first or last name must start with. */
  prefixes: string[];
  stage: string | null;
  /** Keyset position: created_at as Postgres's text and the id. */
  cursor: { ts: string; id: string } | null;
  backward: boolean;
  limit: number;
}

/** One page of customers in keyset order, with each row's cursor text. */
export async function leadSearchPage(db: Db, search: LeadSearch): Promise<(LeadSummary & { cursor_ts: string })[]> {
  const { rows } = await db.raw<{ rows: (LeadSummary & { cursor_ts: string })[] }>(
    `select l.id, l.first_name, l.last_name, l.company, l.email, l.phone, l.stage, l.created_at,
            l.created_at::text as cursor_ts
       from lead_search_page(?::text[], ?::text[], ?, ?::timestamptz, ?::uuid, ?, ?) with ordinality as s(lead_id, ord)
       join leads l on l.id = s.lead_id
      order by s.ord`,
    [search.contains, search.prefixes, search.stage, search.cursor?.ts ?? null, search.cursor?.id ?? null, search.backward, search.limit],
  );
  return rows;
}
