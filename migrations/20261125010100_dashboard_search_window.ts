// Customer search, second pass: measured at 100k customers, the planner's own
// choice between the trigram index and the date-ordered scan was often wrong
// (a no-match search walked the whole org: ~300 ms). The function now decides
// by evidence: it first scans a bounded window of the newest rows in page
// order; if that window already fills the page, those rows are the answer
// (common terms: a few hundred rows read). Otherwise matches are sparse and
// the trigram / name-prefix indexes are used through bitmap scans, which stay
// small precisely because matches are few.
import type { Knex } from 'knex';

const SIGNATURE = 'lead_search_page(text[], text[], text, timestamptz, uuid, boolean, integer)';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function lead_search_page(
      p_contains text[],
      p_name_prefixes text[],
      p_stage text,
      p_cursor_ts timestamptz,
      p_cursor_id uuid,
      p_backward boolean,
      p_limit integer)
    returns table (lead_id uuid)
    language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
    as $$
    declare
      base text := 'l.org_id = nullif(current_setting(''app.org_id'', true), '''')::uuid';
      match text := 'true';
      ordering text;
      p text;
      found_in_window integer;
      previous_indexscan text;
    begin
      if p_limit is null or p_limit < 1 or p_limit > 201 then
        raise exception 'lead_search_page: limit must be between 1 and 201';
      end if;
      foreach p in array coalesce(p_contains, '{}'::text[]) loop
        match := match || format(' and l.search_text ilike %L', p);
      end loop;
      foreach p in array coalesce(p_name_prefixes, '{}'::text[]) loop
        match := match || format(' and (lower(l.first_name) like %L or lower(l.last_name) like %L)', p, p);
      end loop;
      if p_stage is not null then
        base := base || format(' and l.stage = %L', p_stage);
      end if;
      if p_cursor_ts is not null then
        if p_backward then
          base := base || format(' and l.created_at >= %L::timestamptz and (l.created_at > %L::timestamptz or l.id < %L::uuid)',
                                 p_cursor_ts, p_cursor_ts, p_cursor_id);
        else
          base := base || format(' and l.created_at <= %L::timestamptz and (l.created_at < %L::timestamptz or l.id > %L::uuid)',
                                 p_cursor_ts, p_cursor_ts, p_cursor_id);
        end if;
      end if;
      ordering := case when p_backward then ' order by l.created_at asc, l.id desc' else ' order by l.created_at desc, l.id asc' end;

      if match = 'true' then
        return query execute 'select l.id from leads l where ' || base || ordering || format(' limit %s', p_limit);
        return;
      end if;

      -- 1. A bounded window of the newest rows, in page order.
      execute format('select count(*) from (select l.* from leads l where %s %s limit 2000) l where %s',
                     base, ordering, match) into found_in_window;
      if found_in_window >= p_limit then
        return query execute format(
          'select l.id from (select l.* from leads l where %s %s limit 2000) l where %s %s limit %s',
          base, ordering, match, ordering, p_limit);
        return;
      end if;

      -- 2. Sparse matches: let the indexes find them (bitmap scans only).
      previous_indexscan := current_setting('enable_indexscan');
      perform set_config('enable_indexscan', 'off', true);
      return query execute 'select l.id from leads l where ' || base || ' and ' || match || ordering || format(' limit %s', p_limit);
      perform set_config('enable_indexscan', previous_indexscan, true);
    end $$`);
}

export function down(): Promise<void> {
  // The previous definition lives in 20261125010000_dashboard_search.ts; rolling back both restores it.
  void SIGNATURE;
  return Promise.resolve();
}
