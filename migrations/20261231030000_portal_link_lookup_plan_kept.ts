// The portal's token lookup keeps its plan (issue 16). portal_link_by_token_hash()
// was a SQL-language function, and Postgres never inlines a SECURITY DEFINER one: a
// SQL function called that way is parsed, analysed and planned again on every call,
// and every portal request calls it (portal_page() for each view, lookups.ts for the
// portal's forms). perf on the Postgres backends, pgbench calling portal_page() for an
// unchanged page with 10 clients (the scratch database bench/portal.ts seeds): the
// lookup's parse and plan were about a fifth of the backends' time. As PL/pgSQL the
// query's plan is prepared once per connection and kept, as portal_page()'s own are.
// The same pgbench, the two definitions swapped in turn three times: 5,100–5,300 →
// 7,600–8,300 calls/s.
// What it finds is unchanged: a link by its token's hash, not revoked, not expired.
// `create or replace` keeps the owner (the lookup role, whose policy lets it read
// every org's links) and the grants.
import type { Knex } from 'knex';

const HEAD = `create or replace function portal_link_by_token_hash(p_sha256 text)
    returns table (link_id uuid, org_id uuid, lead_id uuid)`;
const LOOKUP = `select l.id, l.org_id, l.lead_id from portal_links l
          where l.token_sha256 = p_sha256 and l.revoked_at is null
            and (l.expires_at is null or l.expires_at > now())`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`${HEAD}
    language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ begin return query ${LOOKUP}; end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`${HEAD}
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ ${LOOKUP} $$`);
}
