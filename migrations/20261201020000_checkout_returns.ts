// One-time codes that bring a customer back from Stripe Checkout to their
// invoice page, so the Checkout Session's return URLs never hold the portal
// token. Each code belongs to one Checkout attempt and one portal link, works
// once, for a day, and only while that link is active. Runs in one transaction.
import type { Knex } from 'knex';
import { allowLookupRead, ownDefinerFunction, protectTenantTable } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table checkout_returns (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      checkout_session_id uuid not null,
      portal_link_id uuid not null,
      invoice_id uuid not null,
      outcome text not null check (outcome in ('completed', 'cancelled')),
      code_sha256 text not null unique check (code_sha256 ~ '^[0-9a-f]{64}$'),
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      unique (checkout_session_id, outcome),
      foreign key (org_id, checkout_session_id) references checkout_sessions(org_id, id) on delete cascade,
      foreign key (org_id, portal_link_id) references portal_links(org_id, id) on delete cascade,
      foreign key (org_id, invoice_id) references invoices(org_id, id) on delete cascade
    )`);
  await protectTenantTable(knex, 'checkout_returns');

  // Back from Stripe there is no token and no session yet: the code finds its org.
  await allowLookupRead(knex, 'checkout_returns');
  await knex.raw(`
    create function checkout_return_by_code_hash(p_sha256 text)
    returns table (return_id uuid, org_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select r.id, r.org_id from checkout_returns r where r.code_sha256 = p_sha256 $$`);
  await ownDefinerFunction(knex, 'checkout_return_by_code_hash(text)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists checkout_return_by_code_hash(text)');
  await knex.raw('drop table if exists checkout_returns');
}
