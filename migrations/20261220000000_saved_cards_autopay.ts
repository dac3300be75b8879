// Saved cards and autopay (issue 15 point 3, Pro):
//
// - stripe_customers: the one Stripe Customer a portal customer has on the
//   org's connected account (unique per org, customer and account, so two
//   concurrent "save my card" payments can't keep two), with the card saved on
//   it (brand, last four digits and expiry only) and whether autopay is on —
//   and through which portal link it was turned on: revoking that link stops it.
// - autopay_attempts: one row per invoice per day (the org's local day), each
//   with its own Stripe idempotency key, so a run that dies between claiming
//   and charging retries the very same charge and never a second one.
// - claim_autopay_attempts(): the worker's one cross-org statement. It stores
//   today's attempt for every due invoice whose customer has autopay on (plan,
//   account, card and link all still allowing it) and returns the claimed rows.
//   Owned by its own role that may read only what it needs (like the follow-up
//   scheduler in 20261206000000).
// - message_deliveries.purpose gains 'autopay' (the "your automatic payment
//   failed" message). Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { ensureRole, protectTenantTable } from '../src/db/rls.js';

const AUTOPAY_ROLE = 'porchlight_autopay';

const AUTOPAY_GRANTS: Array<[table: string, privileges: string, policy: 'select' | 'all']> = [
  ['organizations', 'select', 'select'],
  ['invoices', 'select', 'select'],
  ['portal_links', 'select', 'select'],
  ['stripe_customers', 'select', 'select'],
  ['autopay_attempts', 'select, insert, update', 'all'],
];

const SIGNATURE = 'claim_autopay_attempts(text[], timestamptz, integer, interval, integer)';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table stripe_customers (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      stripe_account_id text not null,
      stripe_customer_id text not null,
      payment_method_id text,
      card_brand text,
      card_last4 text check (card_last4 ~ '^[0-9]{4}$'),
      card_exp_month smallint check (card_exp_month between 1 and 12),
      card_exp_year smallint,
      card_saved_at timestamptz,
      autopay_enabled_at timestamptz,
      autopay_link_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, lead_id, stripe_account_id),
      unique (stripe_account_id, stripe_customer_id),
      foreign key (org_id, lead_id) references leads(org_id, id) on delete cascade,
      constraint stripe_customers_card check ((payment_method_id is null) = (card_last4 is null)),
      constraint stripe_customers_autopay check (
        (autopay_enabled_at is null and autopay_link_id is null)
        or (autopay_enabled_at is not null and autopay_link_id is not null and payment_method_id is not null))
    )`);
  await protectTenantTable(knex, 'stripe_customers');

  await knex.raw(`
    create table autopay_attempts (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      invoice_id uuid not null,
      lead_id uuid not null,
      attempt_day date not null,
      idempotency_key text not null unique,
      stripe_account_id text not null,
      stripe_customer_id text not null,
      payment_method_id text not null,
      amount_cents bigint not null check (amount_cents > 0),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      stripe_payment_intent_id text,
      failure_code text,
      failure_message text,
      claimed_at timestamptz not null default now(),
      finished_at timestamptz,
      created_at timestamptz not null default now(),
      -- one attempt per invoice per day
      unique (org_id, invoice_id, attempt_day),
      foreign key (org_id, invoice_id) references invoices(org_id, id) on delete cascade
    )`);
  await protectTenantTable(knex, 'autopay_attempts');
  await knex.raw("create index autopay_attempts_pending_idx on autopay_attempts (claimed_at) where status = 'pending'");

  await knex.raw('alter table message_deliveries drop constraint message_deliveries_purpose_check');
  await knex.raw(
    "alter table message_deliveries add constraint message_deliveries_purpose_check check (purpose in ('manual', 'receipt', 'followup', 'autopay'))",
  );

  await knex.raw(`
    create function claim_autopay_attempts(p_plans text[], p_now timestamptz, p_max_attempts integer, p_retry_after interval, p_limit integer)
    returns table (attempt_id uuid, org_id uuid, invoice_id uuid, lead_id uuid, idempotency_key text, stripe_account_id text,
                   stripe_customer_id text, payment_method_id text, amount_cents bigint, currency text)
    language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp as $$
    #variable_conflict use_column
    begin
      return query
      with due as (
        select v.org_id, v.id as invoice_id, v.lead_id, (p_now at time zone o.time_zone)::date as local_day,
               o.stripe_account_id, c.stripe_customer_id, c.payment_method_id,
               v.total_cents - v.amount_paid_cents as amount_cents, v.currency
          from invoices v
          join organizations o on o.id = v.org_id and o.plan = any(p_plans)
                              and o.stripe_account_id is not null and o.stripe_charges_enabled
          join stripe_customers c on c.org_id = v.org_id and c.lead_id = v.lead_id and c.stripe_account_id = o.stripe_account_id
                                 and c.autopay_enabled_at is not null and c.payment_method_id is not null
          -- the link autopay was turned on through: revoking it stops every later charge
          join portal_links pl on pl.org_id = c.org_id and pl.id = c.autopay_link_id and pl.revoked_at is null
         where v.status in ('open', 'partially_paid') and v.total_cents > v.amount_paid_cents
           and v.due_date is not null
           -- due today or earlier, but not invoices already overdue before autopay was turned on
           and v.due_date <= (p_now at time zone o.time_zone)::date
           and v.due_date >= (c.autopay_enabled_at at time zone o.time_zone)::date
           and (select count(*) from autopay_attempts a where a.org_id = v.org_id and a.invoice_id = v.id) < p_max_attempts
         order by v.due_date, v.id
         limit p_limit
      ),
      claimed as (
        insert into autopay_attempts (org_id, invoice_id, lead_id, attempt_day, idempotency_key, stripe_account_id,
                                      stripe_customer_id, payment_method_id, amount_cents, currency, claimed_at)
        select d.org_id, d.invoice_id, d.lead_id, d.local_day,
               'autopay-' || d.invoice_id || '-' || to_char(d.local_day, 'YYYYMMDD'),
               d.stripe_account_id, d.stripe_customer_id, d.payment_method_id, d.amount_cents, d.currency, p_now
          from due d
        on conflict do nothing
        returning autopay_attempts.id, autopay_attempts.org_id, autopay_attempts.invoice_id, autopay_attempts.lead_id,
                  autopay_attempts.idempotency_key, autopay_attempts.stripe_account_id, autopay_attempts.stripe_customer_id,
                  autopay_attempts.payment_method_id, autopay_attempts.amount_cents, autopay_attempts.currency::text
      ),
      -- attempts a run claimed and never finished (it died, or Stripe didn't answer): the same charge again,
      -- with the same idempotency key, while autopay still allows it
      stale as (
        update autopay_attempts a set claimed_at = p_now
          from organizations o, stripe_customers c, portal_links pl
         where a.status = 'pending' and a.claimed_at <= p_now - p_retry_after
           and o.id = a.org_id and o.plan = any(p_plans) and o.stripe_account_id = a.stripe_account_id and o.stripe_charges_enabled
           and c.org_id = a.org_id and c.lead_id = a.lead_id and c.stripe_account_id = a.stripe_account_id
           and c.autopay_enabled_at is not null and c.payment_method_id = a.payment_method_id
           and pl.org_id = c.org_id and pl.id = c.autopay_link_id and pl.revoked_at is null
           -- not if the invoice got paid meanwhile (by this charge through a webhook, or otherwise)
           and exists (select 1 from invoices v where v.org_id = a.org_id and v.id = a.invoice_id
                         and v.status in ('open', 'partially_paid') and v.total_cents > v.amount_paid_cents)
        returning a.id, a.org_id, a.invoice_id, a.lead_id, a.idempotency_key, a.stripe_account_id, a.stripe_customer_id,
                  a.payment_method_id, a.amount_cents, a.currency::text
      )
      select * from claimed union all select * from stale;
    end $$`);

  await ensureRole(knex, AUTOPAY_ROLE);
  await knex.raw(`
    do $$ begin
      execute format('grant ${AUTOPAY_ROLE} to %I', current_user);
    exception when others then null;
    end $$`);
  await knex.raw(`grant usage on schema public to ${AUTOPAY_ROLE}`);
  for (const [table, privileges, policy] of AUTOPAY_GRANTS) {
    await knex.raw(`grant ${privileges} on ?? to ${AUTOPAY_ROLE}`, [table]);
    const clause = policy === 'all' ? 'using (true) with check (true)' : 'using (true)';
    await knex.raw(`create policy autopay_claim on ?? for ${policy} to ${AUTOPAY_ROLE} ${clause}`, [table]);
  }
  // A non-superuser owner may hand a function to a role only while that role may create in the schema.
  await knex.raw(`grant create on schema public to ${AUTOPAY_ROLE}`);
  await knex.raw(`alter function ${SIGNATURE} owner to ${AUTOPAY_ROLE}`);
  await knex.raw(`revoke create on schema public from ${AUTOPAY_ROLE}`);
  await knex.raw(`revoke execute on function ${SIGNATURE} from public`);
  await knex.raw(`grant execute on function ${SIGNATURE} to ??`, [config.databaseAppRole]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function if exists ${SIGNATURE}`);
  for (const [table] of AUTOPAY_GRANTS) {
    if (table === 'stripe_customers' || table === 'autopay_attempts') continue;
    await knex.raw('drop policy if exists autopay_claim on ??', [table]);
    await knex.raw(`revoke all on ?? from ${AUTOPAY_ROLE}`, [table]);
  }
  await knex.raw("delete from message_deliveries where purpose = 'autopay'");
  await knex.raw('alter table message_deliveries drop constraint message_deliveries_purpose_check');
  await knex.raw(
    "alter table message_deliveries add constraint message_deliveries_purpose_check check (purpose in ('manual', 'receipt', 'followup'))",
  );
  await knex.raw('drop table if exists autopay_attempts');
  await knex.raw('drop table if exists stripe_customers');
}
