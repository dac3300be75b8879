// A portal view no longer rewrites its link's row (issue 16). portal_page() bumped
// portal_links.view_count and last_viewed_at on every view, and every update left a
// dead version of the link's row behind. Under load the token lookup, the visit's
// foreign-key check and the next update all walked those versions: after 10 s of
// views of one link (about 1,000 a second) the table held 2 live rows in 425 KB and
// the function took 1.10 ms instead of 0.59 ms (pgbench, one client, before and after).
//
// Every view already writes a row of the visit log (portal_visits), so a link's views
// are read from it: views = portal_links.view_count + the link's visits, last viewed =
// the later of portal_links.last_viewed_at and its latest visit
// (src/portal-links/queries.ts). The two columns now hold what the log no longer
// does: portal_visits_prune() adds the visits it deletes (older than 90 days) to them.
// Existing counters give up the visits still in the log, which count them now.
import type { Knex } from 'knex';
import { LOOKUP_ROLE } from '../src/db/rls.js';
import { expectOnce, redefineFunction } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const COUNTER = 'update portal_links l set view_count = l.view_count + 1, last_viewed_at = now() where l.id = v_link.link_id;';
const LAST = 'return json_build_object(';
const OLD_NOTE = `-- The only write is the view counter: losing its last few increments in a
      -- database crash is harmless, so this commit needn't wait for the WAL flush.`;
const NEW_NOTE = `-- The writes are the visit log and the first-view stamps: losing the last few in a
      -- database crash is harmless, so this commit needn't wait for the WAL flush.`;
const WHAT = 'portal_page()';

const PRUNE = (folded: boolean) => `
  create or replace function portal_visits_prune(p_limit integer) returns integer
  language sql volatile security definer set search_path = pg_catalog, public, pg_temp
  as $$ with gone as (
          delete from portal_visits where id in (
            select id from portal_visits where viewed_at < now() - interval '90 days' order by viewed_at limit p_limit)
          returning ${folded ? 'link_id, viewed_at' : '1'})${
            folded
              ? `,
        -- What leaves the log stays in its link's totals (runs whether or not the select reads it).
        folded as (
          update portal_links l set view_count = l.view_count + g.n, last_viewed_at = greatest(l.last_viewed_at, g.last)
            from (select link_id, count(*) as n, max(viewed_at) as last from gone group by link_id) g
           where l.id = g.link_id)`
              : ''
          }
        select count(*)::integer from gone $$`;

export async function up(knex: Knex): Promise<void> {
  // A link's visits, counted and their latest found per link (the contractor's link lists).
  await knex.raw('create index portal_visits_link_idx on portal_visits (link_id, viewed_at desc)');
  await knex.raw(`
    update portal_links l set view_count = greatest(l.view_count - v.n, 0)
      from (select link_id, count(*) as n from portal_visits group by link_id) v
     where v.link_id = l.id`);
  await redefineFunction(knex, SIGNATURE, (definition) => {
    expectOnce(definition, COUNTER, WHAT);
    expectOnce(definition, OLD_NOTE, WHAT);
    return definition.replace(COUNTER, '').replace(OLD_NOTE, NEW_NOTE);
  });
  // The retention job's role may move pruned visits into these two columns, and nothing else.
  await knex.raw(`grant update (view_count, last_viewed_at) on portal_links to ${LOOKUP_ROLE}`);
  await knex.raw(`create policy retention_fold on portal_links for update to ${LOOKUP_ROLE} using (true) with check (true)`);
  await knex.raw(PRUNE(true));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(PRUNE(false));
  await knex.raw(`drop policy retention_fold on portal_links`);
  await knex.raw(`revoke update (view_count, last_viewed_at) on portal_links from ${LOOKUP_ROLE}`);
  await redefineFunction(knex, SIGNATURE, (definition) => {
    expectOnce(definition, LAST, WHAT);
    expectOnce(definition, NEW_NOTE, WHAT);
    return definition.replace(LAST, `${COUNTER}\n      ${LAST}`).replace(NEW_NOTE, OLD_NOTE);
  });
  await knex.raw(`
    update portal_links l set view_count = l.view_count + v.n, last_viewed_at = greatest(l.last_viewed_at, v.last)
      from (select link_id, count(*) as n, max(viewed_at) as last from portal_visits group by link_id) v
     where v.link_id = l.id`);
  await knex.raw('drop index portal_visits_link_idx');
}
