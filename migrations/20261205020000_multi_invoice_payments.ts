// Paying several invoices at once (issue 15): one Checkout Session for the
// invoices the customer ticked, split across them when the session is made
// (checkout_session_invoices: each invoice's balance then, in invoice-number
// order). The PaymentIntent is recorded as one payments row per invoice, told
// apart by split_index, so a Stripe payment is now unique by (PaymentIntent,
// split_index) instead of PaymentIntent alone; a single-invoice payment or a
// deposit keeps split_index 0. A multi-invoice attempt names neither one invoice
// nor a proposal. Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { protectTenantTable } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table checkout_session_invoices (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      checkout_session_id uuid not null,
      invoice_id uuid not null,
      position smallint not null check (position >= 0),
      amount_cents bigint not null check (amount_cents > 0),
      unique (checkout_session_id, invoice_id),
      unique (checkout_session_id, position),
      foreign key (org_id, checkout_session_id) references checkout_sessions(org_id, id) on delete cascade,
      foreign key (org_id, invoice_id) references invoices(org_id, id) on delete cascade
    )`);
  await protectTenantTable(knex, 'checkout_session_invoices');

  await knex.raw(`alter table checkout_sessions drop constraint checkout_sessions_one_target,
    add constraint checkout_sessions_one_target check (invoice_id is null or proposal_id is null)`);
  await knex.raw(`alter table checkout_returns drop constraint checkout_returns_one_target,
    add constraint checkout_returns_one_target check (invoice_id is null or proposal_id is null)`);

  await knex.raw('alter table payments add column split_index smallint not null default 0 check (split_index >= 0)');
  await knex.raw('drop index payments_payment_intent_uq');
  await knex.raw(
    "create unique index payments_payment_intent_uq on payments (stripe_payment_intent_id, split_index) where kind = 'payment' and stripe_payment_intent_id is not null",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('delete from payments where split_index > 0');
  await knex.raw('drop index payments_payment_intent_uq');
  await knex.raw(
    "create unique index payments_payment_intent_uq on payments (stripe_payment_intent_id) where kind = 'payment' and stripe_payment_intent_id is not null",
  );
  await knex.raw('alter table payments drop column split_index');
  await knex.raw('delete from checkout_returns where invoice_id is null and proposal_id is null');
  await knex.raw('delete from checkout_sessions where invoice_id is null and proposal_id is null');
  await knex.raw(`alter table checkout_returns drop constraint checkout_returns_one_target,
    add constraint checkout_returns_one_target check ((invoice_id is null) <> (proposal_id is null))`);
  await knex.raw(`alter table checkout_sessions drop constraint checkout_sessions_one_target,
    add constraint checkout_sessions_one_target check ((invoice_id is null) <> (proposal_id is null))`);
  await knex.raw('drop table if exists checkout_session_invoices');
}
