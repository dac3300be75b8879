// The whole domain schema. Runs in one transaction (knex default).
// Every table with org_id gets forced RLS; child rows reference parents through
// (org_id, id) so a row can never point at another org's row.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { LOOKUP_ROLE, allowLookupRead, ensureRole, ownDefinerFunction, protectTenantTable } from '../src/db/rls.js';

const APP = config.databaseAppRole;

const TENANT_TABLES = [
  'users',
  'invitations',
  'password_resets',
  'org_logos',
  'org_counters',
  'leads',
  'proposals',
  'proposal_items',
  'jobs',
  'invoices',
  'invoice_items',
  'payments',
  'portal_links',
  'message_deliveries',
  'message_templates',
  'stripe_events',
  'audit_events',
];

export async function up(knex: Knex): Promise<void> {
  await ensureRole(knex, APP);
  await ensureRole(knex, LOOKUP_ROLE);
  // Lets the migrating (and, in production, the connecting) user switch to these roles.
  await knex.raw(`
    do $$ begin
      execute format('grant ${APP} to %I', current_user);
      execute format('grant ${LOOKUP_ROLE} to %I', current_user);
    exception when others then null;
    end $$`);
  await knex.raw(`grant usage on schema public to ${APP}, ${LOOKUP_ROLE}`);
  await knex.raw('create extension if not exists pg_trgm');

  await knex.raw(`
    create table organizations (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 200),
      plan text not null default 'free' check (plan in ('free', 'starter', 'pro')),
      time_zone text not null default 'America/New_York',
      currency char(3) not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
      locale text not null default 'en-US',
      brand_color text not null default '#1d4ed8' check (brand_color ~ '^#[0-9a-f]{6}$'),
      logo_id uuid,
      phone text check (phone ~ '^\\+[1-9][0-9]{6,14}$'),
      whatsapp_number text check (whatsapp_number ~ '^\\+[1-9][0-9]{6,14}$'),
      email text,
      address text,
      -- platform billing (the org's subscription to Porchlight)
      stripe_customer_id text unique,
      stripe_subscription_id text unique,
      subscription_status text,
      -- Stripe Connect (the org's own account, where its customers pay)
      stripe_account_id text unique,
      stripe_charges_enabled boolean not null default false,
      stripe_details_submitted boolean not null default false,
      stripe_reconcile_cursor bigint,
      stripe_reconciled_at timestamptz,
      stripe_reconcile_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  // The org row is visible only to itself.
  await protectTenantTable(knex, 'organizations', "id = nullif(current_setting('app.org_id', true), '')::uuid");

  await knex.raw(`
    create table users (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      email text not null unique check (email = lower(email) and email like '%@%'),
      name text not null check (length(name) between 1 and 200),
      password_hash text not null,
      role text not null default 'staff' check (role in ('owner', 'staff')),
      created_at timestamptz not null default now(),
      last_login_at timestamptz,
      unique (org_id, id)
    )`);

  await knex.raw(`
    create table invitations (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      email text not null check (email = lower(email)),
      role text not null default 'staff' check (role in ('owner', 'staff')),
      token_sha256 text not null unique,
      invited_by uuid not null,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (org_id, invited_by) references users(org_id, id) on delete cascade
    )`);
  await knex.raw('create index invitations_org_idx on invitations (org_id, created_at desc)');

  await knex.raw(`
    create table password_resets (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null,
      user_id uuid not null,
      token_sha256 text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (org_id, user_id) references users(org_id, id) on delete cascade
    )`);

  await knex.raw(`
    create table org_logos (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      sha256 text not null unique,
      content_type text not null check (content_type in ('image/png', 'image/jpeg', 'image/webp')),
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      bytes bytea not null,
      created_at timestamptz not null default now(),
      unique (org_id, id)
    )`);
  await knex.raw(`alter table organizations add constraint organizations_logo_fk
    foreign key (id, logo_id) references org_logos(org_id, id) deferrable initially deferred`);

  await knex.raw(`
    create table org_counters (
      org_id uuid not null references organizations(id) on delete cascade,
      name text not null check (name in ('proposal', 'invoice')),
      last_value bigint not null default 0 check (last_value >= 0),
      primary key (org_id, name)
    )`);

  await knex.raw(`
    create table leads (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      first_name text not null check (length(first_name) between 1 and 100),
      last_name text not null default '' check (length(last_name) <= 100),
      company text check (length(company) <= 200),
      email text check (email = lower(email)),
      phone text check (phone ~ '^\\+[1-9][0-9]{6,14}$'),
      address text check (length(address) <= 500),
      stage text not null default 'new' check (stage in ('new', 'contacted', 'proposal_sent', 'won', 'lost')),
      internal_notes text not null default '',
      search_text text generated always as (lower(
        first_name || ' ' || last_name || ' ' || coalesce(company, '') || ' ' ||
        coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(address, '')
      )) stored,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id)
    )`);
  await knex.raw('create index leads_org_created_idx on leads (org_id, created_at desc, id)');
  await knex.raw('create index leads_org_name_idx on leads (org_id, lower(last_name), lower(first_name), id)');
  await knex.raw('create index leads_search_trgm_idx on leads using gin (search_text gin_trgm_ops)');

  await knex.raw(`
    create table proposals (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      number integer not null check (number > 0),
      title text not null check (length(title) between 1 and 200),
      status text not null default 'draft' check (status in ('draft', 'pending', 'approved', 'rejected')),
      tax_rate_bps integer not null default 0 check (tax_rate_bps between 0 and 10000),
      subtotal_cents bigint not null default 0 check (subtotal_cents >= 0),
      tax_cents bigint not null default 0 check (tax_cents >= 0),
      total_cents bigint not null default 0 check (total_cents = subtotal_cents + tax_cents),
      customer_message text not null default '',
      internal_notes text not null default '',
      valid_until date,
      sent_at timestamptz,
      approved_at timestamptz,
      approval_source text check (approval_source in ('portal', 'staff')),
      approved_by_name text,
      approved_by_user_id uuid,
      approved_ip inet,
      approved_user_agent text,
      approved_content_sha256 text,
      rejected_at timestamptz,
      rejection_reason text,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      unique (org_id, number),
      foreign key (org_id, lead_id) references leads(org_id, id),
      check ((status = 'approved') = (approved_at is not null)),
      check ((status = 'rejected') = (rejected_at is not null))
    )`);
  await knex.raw('create index proposals_lead_idx on proposals (org_id, lead_id, created_at desc)');
  await knex.raw('create index proposals_status_idx on proposals (org_id, status, created_at desc)');

  await knex.raw(`
    create table jobs (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      proposal_id uuid,
      service_type text not null check (length(service_type) between 1 and 200),
      scheduled_at timestamptz,
      address text check (length(address) <= 500),
      technician text check (length(technician) <= 200),
      status text not null default 'scheduled' check (status in ('scheduled', 'in_progress', 'completed', 'cancelled')),
      customer_notes text not null default '',
      internal_notes text not null default '',
      completed_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      -- one job per proposal: a double approval can never make two
      unique (org_id, proposal_id),
      foreign key (org_id, lead_id) references leads(org_id, id),
      foreign key (org_id, proposal_id) references proposals(org_id, id)
    )`);
  await knex.raw('create index jobs_lead_idx on jobs (org_id, lead_id, scheduled_at desc)');
  await knex.raw("create index jobs_upcoming_idx on jobs (org_id, scheduled_at) where status in ('scheduled', 'in_progress')");

  await knex.raw(`
    create table invoices (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      number integer not null check (number > 0),
      proposal_id uuid,
      job_id uuid,
      status text not null default 'draft' check (status in ('draft', 'open', 'partially_paid', 'paid', 'void')),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      issue_date date not null,
      due_date date not null,
      tax_rate_bps integer not null default 0 check (tax_rate_bps between 0 and 10000),
      subtotal_cents bigint not null default 0 check (subtotal_cents >= 0),
      tax_cents bigint not null default 0 check (tax_cents >= 0),
      total_cents bigint not null default 0 check (total_cents = subtotal_cents + tax_cents),
      amount_paid_cents bigint not null default 0 check (amount_paid_cents between 0 and total_cents),
      customer_message text not null default '',
      internal_notes text not null default '',
      issued_at timestamptz,
      voided_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      unique (org_id, number),
      check (due_date >= issue_date),
      foreign key (org_id, lead_id) references leads(org_id, id),
      foreign key (org_id, proposal_id) references proposals(org_id, id),
      foreign key (org_id, job_id) references jobs(org_id, id)
    )`);
  await knex.raw('create index invoices_lead_idx on invoices (org_id, lead_id, issue_date desc)');
  await knex.raw('create index invoices_status_idx on invoices (org_id, status, due_date)');
  for (const parent of ['proposal', 'invoice']) {
    await knex.raw(`
      create table ${parent}_items (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null,
        ${parent}_id uuid not null,
        position integer not null check (position >= 0),
        service text not null check (length(service) between 1 and 200),
        description text not null default '' check (length(description) <= 2000),
        quantity numeric(12, 2) not null check (quantity > 0),
        unit_price_cents bigint not null check (unit_price_cents >= 0),
        amount_cents bigint not null check (amount_cents >= 0),
        foreign key (org_id, ${parent}_id) references ${parent}s(org_id, id) on delete cascade
      )`);
  }
  await knex.raw('create index proposal_items_parent_idx on proposal_items (org_id, proposal_id, position)');
  await knex.raw('create index invoice_items_parent_idx on invoice_items (org_id, invoice_id, position)');

  await knex.raw(`
    create table payments (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      invoice_id uuid not null,
      kind text not null default 'payment' check (kind in ('payment', 'refund')),
      refund_of uuid,
      amount_cents bigint not null check (amount_cents > 0),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      method text not null check (method in ('cash', 'check', 'card_in_person', 'bank_transfer', 'other', 'stripe')),
      source text not null default 'manual' check (source in ('manual', 'stripe')),
      status text not null default 'succeeded' check (status in ('pending', 'succeeded', 'failed', 'refunded')),
      reference text check (length(reference) <= 200),
      paid_at timestamptz not null default now(),
      stripe_payment_intent_id text,
      stripe_checkout_session_id text,
      stripe_charge_id text,
      stripe_refund_id text,
      recorded_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      foreign key (org_id, lead_id) references leads(org_id, id),
      foreign key (org_id, invoice_id) references invoices(org_id, id),
      foreign key (org_id, refund_of) references payments(org_id, id),
      check ((source = 'stripe') = (method = 'stripe')),
      check (kind = 'payment' or refund_of is not null or stripe_refund_id is not null)
    )`);
  // A Stripe payment is unique by its PaymentIntent; a refund by its refund id.
  await knex.raw(
    "create unique index payments_payment_intent_uq on payments (stripe_payment_intent_id) where kind = 'payment' and stripe_payment_intent_id is not null",
  );
  await knex.raw('create unique index payments_stripe_refund_uq on payments (stripe_refund_id) where stripe_refund_id is not null');
  await knex.raw('create index payments_invoice_idx on payments (org_id, invoice_id, paid_at desc)');
  await knex.raw('create index payments_lead_idx on payments (org_id, lead_id, paid_at desc)');
  await knex.raw('create index payments_recent_idx on payments (org_id, paid_at desc)');

  await knex.raw(`
    create table portal_links (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      token_sha256 text not null unique check (token_sha256 ~ '^[0-9a-f]{64}$'),
      token_ciphertext text not null,
      created_by uuid,
      created_at timestamptz not null default now(),
      revoked_at timestamptz,
      revoked_by uuid,
      last_viewed_at timestamptz,
      view_count bigint not null default 0 check (view_count >= 0),
      unique (org_id, id),
      foreign key (org_id, lead_id) references leads(org_id, id)
    )`);
  // One active link per customer.
  await knex.raw('create unique index portal_links_active_lead_uq on portal_links (org_id, lead_id) where revoked_at is null');
  await knex.raw('create index portal_links_active_idx on portal_links (org_id, created_at desc) where revoked_at is null');

  await knex.raw(`
    create table message_deliveries (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      portal_link_id uuid,
      channel text not null check (channel in ('sms', 'email')),
      context text not null default 'general' check (context in ('general', 'proposal', 'service', 'invoice')),
      to_address text not null,
      subject text,
      body_text text not null,
      body_html text,
      status text not null default 'pending' check (status in ('pending', 'queued', 'sending', 'sent', 'delivered', 'failed', 'undeliverable')),
      provider_id text,
      attempts integer not null default 0 check (attempts >= 0),
      last_error text,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      sent_at timestamptz,
      delivered_at timestamptz,
      unique (org_id, id),
      foreign key (org_id, lead_id) references leads(org_id, id),
      foreign key (org_id, portal_link_id) references portal_links(org_id, id)
    )`);
  await knex.raw('create index message_deliveries_lead_idx on message_deliveries (org_id, lead_id, created_at desc)');
  await knex.raw('create index message_deliveries_org_idx on message_deliveries (org_id, created_at desc)');
  await knex.raw(
    "create index message_deliveries_unsent_idx on message_deliveries (created_at) where status in ('pending', 'queued', 'sending')",
  );
  await knex.raw(
    'create unique index message_deliveries_provider_uq on message_deliveries (channel, provider_id) where provider_id is not null',
  );

  await knex.raw(`
    create table message_templates (
      org_id uuid not null references organizations(id) on delete cascade,
      channel text not null check (channel in ('sms', 'email')),
      context text not null check (context in ('general', 'proposal', 'service', 'invoice')),
      subject text,
      body text not null check (length(body) <= 5000),
      updated_by uuid,
      updated_at timestamptz not null default now(),
      primary key (org_id, channel, context)
    )`);

  await knex.raw(`
    create table stripe_events (
      id text primary key,
      org_id uuid not null references organizations(id) on delete cascade,
      type text not null,
      account text,
      created bigint not null,
      received_at timestamptz not null default now(),
      processed_at timestamptz
    )`);
  await knex.raw('create index stripe_events_org_idx on stripe_events (org_id, received_at desc)');

  await knex.raw(`
    create table audit_events (
      id bigint generated always as identity primary key,
      org_id uuid not null references organizations(id) on delete cascade,
      actor_type text not null check (actor_type in ('user', 'customer', 'system', 'stripe', 'twilio')),
      actor_user_id uuid,
      actor_label text,
      action text not null check (action ~ '^[a-z_]+\\.[a-z_.]+$'),
      subject_type text,
      subject_id uuid,
      data jsonb not null default '{}'::jsonb,
      ip inet,
      created_at timestamptz not null default now()
    )`);
  await knex.raw('create index audit_events_org_idx on audit_events (org_id, created_at desc)');
  await knex.raw('create index audit_events_subject_idx on audit_events (org_id, subject_type, subject_id, created_at desc)');

  for (const table of TENANT_TABLES) {
    await protectTenantTable(knex, table);
  }
  await knex.raw(`grant usage on all sequences in schema public to ${APP}`);

  // Sessions belong to no org; only the connecting user's session store touches them.
  await knex.raw(`
    create table sessions (
      sid varchar primary key,
      sess json not null,
      expire timestamp(6) not null
    )`);
  await knex.raw('create index sessions_expire_idx on sessions (expire)');

  // --- lookups that run before the org is known (SECURITY DEFINER, narrow) ---
  await allowLookupRead(knex, 'users');
  await knex.raw(`
    create function auth_user_by_email(p_email text)
    returns table (user_id uuid, org_id uuid, password_hash text)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select u.id, u.org_id, u.password_hash from users u where u.email = lower(p_email) $$`);
  await ownDefinerFunction(knex, 'auth_user_by_email(text)');

  await knex.raw(`
    create function auth_email_taken(p_email text) returns boolean
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select exists (select 1 from users u where u.email = lower(p_email)) $$`);
  await ownDefinerFunction(knex, 'auth_email_taken(text)');

  await allowLookupRead(knex, 'portal_links');
  await knex.raw(`
    create function portal_link_by_token_hash(p_sha256 text)
    returns table (link_id uuid, org_id uuid, lead_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
    as $$ select l.id, l.org_id, l.lead_id from portal_links l
          where l.token_sha256 = p_sha256 and l.revoked_at is null $$`);
  await ownDefinerFunction(knex, 'portal_link_by_token_hash(text)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists portal_link_by_token_hash(text), auth_email_taken(text), auth_user_by_email(text)');
  await knex.raw('drop table if exists sessions');
  for (const table of [...TENANT_TABLES].reverse()) {
    await knex.raw('drop table if exists ?? cascade', [table]);
  }
  await knex.raw('drop table if exists organizations cascade');
}
