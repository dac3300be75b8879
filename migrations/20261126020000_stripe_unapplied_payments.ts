// Stripe payments that reached a connected account but could not be applied to
// their invoice (void or draft invoice, another currency, more than the balance).
// One row per PaymentIntent, so webhooks and every reconciliation run that sees
// the same PaymentIntent converge on it (and on one audit event), and the
// contractor can list them on Settings → Payments and refund them at Stripe.
// Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { protectTenantTable } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table stripe_unapplied_payments (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      stripe_payment_intent_id text not null,
      stripe_checkout_session_id text,
      stripe_charge_id text,
      -- No foreign key: the note must outlive the invoice it names.
      invoice_id uuid,
      invoice_number integer,
      amount_cents bigint not null check (amount_cents > 0),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      reason text not null check (reason in ('void', 'draft', 'currency', 'overpayment')),
      paid_at timestamptz not null,
      created_at timestamptz not null default now(),
      unique (org_id, stripe_payment_intent_id)
    )`);
  await knex.raw('create index stripe_unapplied_payments_paid_idx on stripe_unapplied_payments (org_id, paid_at desc)');
  await protectTenantTable(knex, 'stripe_unapplied_payments');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists stripe_unapplied_payments');
}
