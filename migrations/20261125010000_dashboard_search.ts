// Customer search that stays fast at 100,000 leads per org.
//
// Why a SECURITY DEFINER function: under forced RLS, Postgres may only use a
// qual as an index condition when its operator is LEAKPROOF, and ILIKE is not.
// As the app role, `search_text ILIKE '%term%'` therefore never reaches the
// pg_trgm GIN index and scans the whole org (measured: ~120 ms at 100k rows).
// This function runs as the lookup role (whose read policy on leads is plain
// `true`, so there is no security barrier), filters explicitly by the
// transaction's app.org_id, and returns only lead ids in page order. Callers
// join the ids back to `leads` under RLS, so it can never reveal another
// org's row even if it were misused.
import type { Knex } from 'knex';
import { allowLookupRead, ownDefinerFunction } from '../src/db/rls.js';

const SIGNATURE = 'lead_search_page(text[], text[], text, timestamptz, uuid, boolean, integer)';

export async function up(knex: Knex): Promise<void> {
  // Prefix search on first names for one- and two-letter queries (C collation: a plain btree serves LIKE 'ab%').
  await knex.raw('create index leads_org_first_name_idx on leads (org_id, lower(first_name))');
  await allowLookupRead(knex, 'leads');
  await knex.raw(`
    create function lead_search_page(
      p_contains text[],      -- ILIKE patterns, already escaped and wrapped in %
      p_name_prefixes text[], -- LIKE patterns matched against lower(first_name) or lower(last_name)
      p_stage text,
      p_cursor_ts timestamptz,
      p_cursor_id uuid,
      p_backward boolean,
      p_limit integer)
    returns table (lead_id uuid)
    language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$
    declare
      q text := 'select l.id from leads l where l.org_id = nullif(current_setting(''app.org_id'', true), '''')::uuid';
      p text;
    begin
      if p_limit is null or p_limit < 1 or p_limit > 201 then
        raise exception 'lead_search_page: limit must be between 1 and 201';
      end if;
      -- Literals, not parameters: EXECUTE plans each call with the real patterns,
      -- so the planner can choose between the trigram index and the date order.
      foreach p in array coalesce(p_contains, '{}'::text[]) loop
        q := q || format(' and l.search_text ilike %L', p);
      end loop;
      foreach p in array coalesce(p_name_prefixes, '{}'::text[]) loop
        q := q || format(' and (lower(l.first_name) like %L or lower(l.last_name) like %L)', p, p);
      end loop;
      if p_stage is not null then
        q := q || format(' and l.stage = %L', p_stage);
      end if;
      if p_cursor_ts is not null then
        if p_backward then
          q := q || format(' and l.created_at >= %L::timestamptz and (l.created_at > %L::timestamptz or l.id < %L::uuid)',
                           p_cursor_ts, p_cursor_ts, p_cursor_id);
        else
          q := q || format(' and l.created_at <= %L::timestamptz and (l.created_at < %L::timestamptz or l.id > %L::uuid)',
                           p_cursor_ts, p_cursor_ts, p_cursor_id);
        end if;
      end if;
      if p_backward then
        q := q || ' order by l.created_at asc, l.id desc';
      else
        q := q || ' order by l.created_at desc, l.id asc';
      end if;
      q := q || format(' limit %s', p_limit);
      return query execute q;
    end $$`);
  await ownDefinerFunction(knex, SIGNATURE);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function if exists ${SIGNATURE}`);
  await knex.raw('drop policy if exists lookup_read on leads');
  await knex.raw('revoke select on leads from porchlight_lookup');
  await knex.raw('drop index if exists leads_org_first_name_idx');
}
