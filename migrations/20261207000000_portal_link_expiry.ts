// Portal links can expire (issue #14, "Reach"): an org picks a default lifetime
// (never, 30, 90 or 365 days) and a link can carry its own expires_at. An expired
// link answers like an unknown one: portal_link_by_token_hash() stops finding it, so
// every portal route (and portal_page(), which calls it) treats it as a miss.
// Recovery ("Send me my link again") finds customers of every org by their exact
// email or phone number through a narrow SECURITY DEFINER lookup. Runs in one transaction.
import type { Knex } from 'knex';
import { ownDefinerFunction } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  // null = links never expire (the behaviour before this migration).
  await knex.raw(`alter table organizations add column portal_link_lifetime_days integer
    check (portal_link_lifetime_days in (30, 90, 365))`);
  await knex.raw('alter table portal_links add column expires_at timestamptz');

  // `create or replace` keeps the owner (the lookup role) and the grants.
  await knex.raw(`
    create or replace function portal_link_by_token_hash(p_sha256 text)
    returns table (link_id uuid, org_id uuid, lead_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select l.id, l.org_id, l.lead_id from portal_links l
          where l.token_sha256 = p_sha256 and l.revoked_at is null
            and (l.expires_at is null or l.expires_at > now()) $$`);

  // Recovery: customers with this exact (normalised) email or phone and a link that is
  // not revoked, in any org. Returns ids only; the worker does the rest under withOrg().
  await knex.raw("create index leads_email_lookup_idx on leads (email) where email is not null and email <> ''");
  await knex.raw("create index leads_phone_lookup_idx on leads (phone) where phone is not null and phone <> ''");
  await knex.raw(`
    create function portal_recovery_matches(p_email text, p_phone text)
    returns table (org_id uuid, lead_id uuid, link_id uuid, expired boolean)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select c.org_id, c.id, l.id, (l.expires_at is not null and l.expires_at <= now())
            from leads c
            join portal_links l on l.org_id = c.org_id and l.lead_id = c.id and l.revoked_at is null
           where (p_email is not null and c.email = lower(p_email))
              or (p_phone is not null and c.phone = p_phone) $$`);
  await ownDefinerFunction(knex, 'portal_recovery_matches(text, text)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists portal_recovery_matches(text, text)');
  await knex.raw('drop index if exists leads_email_lookup_idx');
  await knex.raw('drop index if exists leads_phone_lookup_idx');
  await knex.raw(`
    create or replace function portal_link_by_token_hash(p_sha256 text)
    returns table (link_id uuid, org_id uuid, lead_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select l.id, l.org_id, l.lead_id from portal_links l
          where l.token_sha256 = p_sha256 and l.revoked_at is null $$`);
  await knex.raw('alter table portal_links drop column expires_at');
  await knex.raw('alter table organizations drop column portal_link_lifetime_days');
}
