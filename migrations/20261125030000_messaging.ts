// Messaging lookups that run before the org is known: the outbox sweeper
// (stale unsent deliveries across every org) and Twilio status callbacks
// (a delivery by its provider id). Both are narrow SECURITY DEFINER functions
// that return ids only. Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { allowLookupRead, ownDefinerFunction } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await allowLookupRead(knex, 'message_deliveries');

  // Only unsent states can be asked for, whatever the caller passes.
  await knex.raw(`
    create function message_deliveries_unsent(p_statuses text[], p_older_than interval, p_limit integer)
    returns table (delivery_id uuid, org_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select d.id, d.org_id from message_deliveries d
          where d.status = any(p_statuses)
            and d.status in ('pending', 'queued', 'sending')
            and d.updated_at < now() - p_older_than
          order by d.updated_at
          limit least(greatest(p_limit, 0), 10000) $$`);
  await ownDefinerFunction(knex, 'message_deliveries_unsent(text[], interval, integer)');

  await knex.raw(`
    create function message_delivery_by_provider_id(p_channel text, p_provider_id text)
    returns table (delivery_id uuid, org_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select d.id, d.org_id from message_deliveries d
          where d.channel = p_channel and d.provider_id = p_provider_id $$`);
  await ownDefinerFunction(knex, 'message_delivery_by_provider_id(text, text)');

  // The sweeper's scan: unsent rows by age.
  await knex.raw(
    "create index message_deliveries_unsent_updated_idx on message_deliveries (updated_at) where status in ('pending', 'queued', 'sending')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists message_deliveries_unsent_updated_idx');
  await knex.raw('drop function if exists message_delivery_by_provider_id(text, text)');
  await knex.raw('drop function if exists message_deliveries_unsent(text[], interval, integer)');
  await knex.raw('drop policy if exists lookup_read on message_deliveries');
  await knex.raw('revoke select on message_deliveries from porchlight_lookup');
}
