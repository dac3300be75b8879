// Settings: lookups that run before the org is known (logos, invitations,
// password resets, Stripe customers), and logo hashes unique per org.
// Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { LOOKUP_ROLE, allowLookupRead, ownDefinerFunction } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  // Two orgs may upload the same picture: a global unique hash would let one
  // org's upload fail because of a row it cannot see. Unique per org instead.
  await knex.raw('alter table org_logos drop constraint org_logos_sha256_key');
  await knex.raw('alter table org_logos add constraint org_logos_org_sha256_key unique (org_id, sha256)');
  await knex.raw('create index org_logos_sha256_idx on org_logos (sha256)');

  // Public logo URL /logos/<sha256>: only the type and the bytes.
  await allowLookupRead(knex, 'org_logos');
  await knex.raw(`
    create function org_logo_by_sha256(p_sha256 text)
    returns table (content_type text, bytes bytea)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select g.content_type, g.bytes from org_logos g where g.sha256 = p_sha256 limit 1 $$`);
  await ownDefinerFunction(knex, 'org_logo_by_sha256(text)');

  // Invitation link → which org and which invitation (the page then works inside withOrg).
  await allowLookupRead(knex, 'invitations');
  await knex.raw(`
    create function invitation_by_token_hash(p_sha256 text)
    returns table (invitation_id uuid, org_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select i.id, i.org_id from invitations i where i.token_sha256 = p_sha256 $$`);
  await ownDefinerFunction(knex, 'invitation_by_token_hash(text)');

  // Password reset link → which org and which reset row.
  await allowLookupRead(knex, 'password_resets');
  await knex.raw(`
    create function password_reset_by_token_hash(p_sha256 text)
    returns table (reset_id uuid, org_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select r.id, r.org_id from password_resets r where r.token_sha256 = p_sha256 $$`);
  await ownDefinerFunction(knex, 'password_reset_by_token_hash(text)');

  // Platform subscription events name a Stripe customer: which org is it?
  // Not allowLookupRead(): another area may add its own organizations lookup,
  // and the policy name must not collide.
  await knex.raw(`grant select on organizations to ${LOOKUP_ROLE}`);
  await knex.raw(`create policy lookup_read_billing on organizations for select to ${LOOKUP_ROLE} using (true)`);
  await knex.raw(`
    create function org_by_stripe_customer(p_customer text) returns uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select o.id from organizations o where o.stripe_customer_id = p_customer $$`);
  await ownDefinerFunction(knex, 'org_by_stripe_customer(text)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'drop function if exists org_by_stripe_customer(text), password_reset_by_token_hash(text), invitation_by_token_hash(text), org_logo_by_sha256(text)',
  );
  await knex.raw('drop policy if exists lookup_read_billing on organizations');
  for (const table of ['password_resets', 'invitations', 'org_logos']) {
    await knex.raw('drop policy if exists lookup_read on ??', [table]);
    await knex.raw(`revoke select on ?? from ${LOOKUP_ROLE}`, [table]);
  }
  await knex.raw('drop index if exists org_logos_sha256_idx');
  await knex.raw('alter table org_logos drop constraint org_logos_org_sha256_key');
  await knex.raw('alter table org_logos add constraint org_logos_sha256_key unique (sha256)');
}
