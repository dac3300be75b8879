// Stripe Connect: online invoice payments on each org's own Stripe account.
// - checkout_sessions: each Checkout attempt from the portal, so the portal can
//   show "payment processing" after the customer returns, before the webhook.
// - org_by_stripe_account(): a Connect event names an account, not an org.
// - stripe_connected_orgs(): the reconciliation worker's list (ids, account
//   ids and cursors only).
// Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { LOOKUP_ROLE, ownDefinerFunction, protectTenantTable } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table checkout_sessions (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      invoice_id uuid not null,
      lead_id uuid not null,
      stripe_checkout_session_id text unique,
      stripe_payment_intent_id text,
      url text,
      amount_cents bigint not null check (amount_cents > 0),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      application_fee_cents bigint not null default 0 check (application_fee_cents >= 0),
      status text not null default 'open' check (status in ('open', 'processing', 'paid', 'failed', 'expired')),
      returned_at timestamptz,
      expires_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      foreign key (org_id, invoice_id) references invoices(org_id, id) on delete cascade,
      foreign key (org_id, lead_id) references leads(org_id, id)
    )`);
  await knex.raw('create index checkout_sessions_invoice_idx on checkout_sessions (org_id, invoice_id, created_at desc)');
  await protectTenantTable(knex, 'checkout_sessions');

  // The lookup role reads organizations through its own narrowly named policy
  // (other areas add theirs; policy names must differ).
  await knex.raw(`grant select on organizations to ${LOOKUP_ROLE}`);
  await knex.raw(`create policy lookup_read_connect on organizations for select to ${LOOKUP_ROLE} using (true)`);

  await knex.raw(`
    create function org_by_stripe_account(p_account text) returns uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select o.id from organizations o where o.stripe_account_id = p_account $$`);
  await ownDefinerFunction(knex, 'org_by_stripe_account(text)');

  await knex.raw(`
    create function stripe_connected_orgs()
    returns table (org_id uuid, stripe_account_id text, reconcile_cursor bigint)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select o.id, o.stripe_account_id, o.stripe_reconcile_cursor from organizations o
          where o.stripe_account_id is not null
          order by o.stripe_reconciled_at nulls first, o.id $$`);
  await ownDefinerFunction(knex, 'stripe_connected_orgs()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists stripe_connected_orgs()');
  await knex.raw('drop function if exists org_by_stripe_account(text)');
  await knex.raw('drop policy if exists lookup_read_connect on organizations');
  await knex.raw('drop table if exists checkout_sessions');
}
