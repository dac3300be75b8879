// Signed approvals and revisions (issue #13, points 2 and 5).
// - proposal_signatures: what a customer signed in the portal — the drawn image
//   (a re-encoded PNG) or the typed name, when, from where, and the exact JSON of
//   what they approved with its SHA-256. Immutable: the signed PDF is drawn from it,
//   so a later change to the proposal never changes what was signed.
// - proposal_versions: a version the customer asked to change, frozen with their
//   message; superseded once the revision is sent. proposals.version counts them.
// - proposals.status gains 'changes_requested' (between the ask and the resend).
// portal_page() is redefined (copied from 20261202010000_portal_arrival_window.ts)
// with ONE change: the proposal detail also returns version, versions and signature.
// Runs in one transaction.
import type { Knex } from 'knex';
import { protectTenantTable } from '../src/db/rls.js';
import { down as previousDown, up as previousUp } from './20261202010000_portal_arrival_window.js';

const HEADER = `language plpgsql volatile security definer
    set search_path = pg_catalog, public, pg_temp
    set app.org_id = ''`;

// Fields of a proposal, an invoice and a payment in the portal's JSON (src/db/portal-page.ts).
const PROPOSAL_FIELDS = `'id', p.id, 'number', p.number, 'title', p.title, 'status', p.status, 'total_cents', p.total_cents,
        'sent_at', p.sent_at, 'created_at', p.created_at, 'valid_until', p.valid_until`;
const INVOICE_FIELDS = `'id', v.id, 'number', v.number, 'status', v.status, 'currency', v.currency, 'issue_date', v.issue_date,
        'due_date', v.due_date, 'total_cents', v.total_cents, 'amount_paid_cents', v.amount_paid_cents`;
const PAYMENT_FIELDS = `'id', y.id, 'paid_at', y.paid_at, 'amount_cents', y.amount_cents, 'currency', y.currency,
        'method', y.method, 'status', y.status, 'kind', y.kind, 'invoice_id', y.invoice_id, 'invoice_number', v.number`;
const ITEM_FIELDS = `'position', i.position, 'service', i.service, 'description', i.description, 'quantity', i.quantity,
        'unit_price_cents', i.unit_price_cents, 'amount_cents', i.amount_cents`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table proposals drop constraint proposals_status_check');
  await knex.raw(`alter table proposals add constraint proposals_status_check
    check (status in ('draft', 'pending', 'changes_requested', 'approved', 'rejected'))`);
  await knex.raw('alter table proposals add column version integer not null default 1 check (version >= 1)');

  await knex.raw(`
    create table proposal_signatures (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      proposal_id uuid not null,
      version integer not null check (version >= 1),
      signer_name text not null check (length(signer_name) between 1 and 200),
      method text not null check (method in ('drawn', 'typed')),
      image_png bytea check (octet_length(image_png) <= 262144),
      signed_at timestamptz not null default now(),
      ip inet,
      user_agent text check (length(user_agent) <= 500),
      content_json text not null,
      content_sha256 text not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
      unique (org_id, proposal_id),
      foreign key (org_id, proposal_id) references proposals(org_id, id) on delete cascade,
      check ((method = 'drawn') = (image_png is not null))
    )`);
  await protectTenantTable(knex, 'proposal_signatures');

  await knex.raw(`
    create table proposal_versions (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      proposal_id uuid not null,
      version integer not null check (version >= 1),
      content_json text not null,
      content_sha256 text not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
      change_message text not null check (length(change_message) between 1 and 2000),
      requested_at timestamptz not null default now(),
      requested_ip inet,
      requested_user_agent text check (length(requested_user_agent) <= 500),
      superseded_at timestamptz,
      unique (org_id, proposal_id, version),
      foreign key (org_id, proposal_id) references proposals(org_id, id) on delete cascade
    )`);
  await protectTenantTable(knex, 'proposal_versions');

  await knex.raw(`
    create or replace function portal_page(p_token_sha256 text, p_view text, p_id uuid, p_page integer, p_page_size integer, p_payable text[])
    returns json
    ${HEADER}
    as $$
    #variable_conflict use_column
    declare
      v_link record;
      v_tab text := p_view;
      v_offset integer := (greatest(coalesce(p_page, 1), 1) - 1) * p_page_size;
      v_data json;
    begin
      if p_view not in ('home', 'proposals', 'invoices', 'payments', 'history', 'proposal', 'invoice') then
        raise exception 'portal_page: unknown view %', p_view;
      end if;
      select t.link_id, t.org_id, t.lead_id into v_link from portal_link_by_token_hash(p_token_sha256) t;
      if not found then
        return null;
      end if;
      perform set_config('app.org_id', v_link.org_id::text, true);
      -- The only write is the view counter: losing its last few increments in a
      -- database crash is harmless, so this commit needn't wait for the WAL flush.
      perform set_config('synchronous_commit', 'off', true);
      update portal_links l set view_count = l.view_count + 1, last_viewed_at = now() where l.id = v_link.link_id;

      if v_tab = 'home' then
        v_tab := case
          when exists (select 1 from proposals p where p.lead_id = v_link.lead_id and p.status = 'pending') then 'proposals'
          when exists (select 1 from invoices v where v.lead_id = v_link.lead_id and v.status = any(p_payable)) then 'invoices'
          else 'history' end;
        v_offset := 0;
      end if;

      if v_tab = 'proposals' then
        select json_build_object(
          'total', (select count(*) from proposals p where p.lead_id = v_link.lead_id and p.status <> 'draft'),
          'rows', coalesce((select json_agg(json_build_object(${PROPOSAL_FIELDS}) order by p.status = 'pending' desc, p.created_at desc, p.number desc)
            from (select * from proposals p where p.lead_id = v_link.lead_id and p.status <> 'draft'
                   order by p.status = 'pending' desc, p.created_at desc, p.number desc limit p_page_size offset v_offset) p), '[]'::json))
          into v_data;
      elsif v_tab = 'invoices' then
        select json_build_object(
          'total', (select count(*) from invoices v where v.lead_id = v_link.lead_id and v.status <> 'draft'),
          'rows', coalesce((select json_agg(json_build_object(${INVOICE_FIELDS}) order by v.issue_date desc, v.number desc)
            from (select * from invoices v where v.lead_id = v_link.lead_id and v.status <> 'draft'
                   order by v.issue_date desc, v.number desc limit p_page_size offset v_offset) v), '[]'::json))
          into v_data;
      elsif v_tab = 'payments' then
        select json_build_object(
          'balance_cents', (select coalesce(sum(v.total_cents - v.amount_paid_cents), 0) from invoices v
                             where v.lead_id = v_link.lead_id and v.status = any(p_payable)),
          'total', (select count(*) from payments y join invoices v on v.id = y.invoice_id
                     where y.lead_id = v_link.lead_id and v.status <> 'draft'),
          'rows', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}) order by y.paid_at desc, y.id)
            from (select y.* from payments y join invoices v on v.id = y.invoice_id
                   where y.lead_id = v_link.lead_id and v.status <> 'draft'
                   order by y.paid_at desc, y.id limit p_page_size offset v_offset) y
            join invoices v on v.id = y.invoice_id), '[]'::json))
          into v_data;
      elsif v_tab = 'history' then
        -- Upcoming visits first (soonest first), then completed ones (latest first).
        select json_build_object(
          'total', (select count(*) from jobs j where j.lead_id = v_link.lead_id and j.status <> 'cancelled'),
          'rows', coalesce((select json_agg(json_build_object('id', j.id, 'service_type', j.service_type, 'status', j.status,
                     'scheduled_at', j.scheduled_at, 'completed_at', j.completed_at, 'technician', j.technician,
                     'address', coalesce(j.address, (select c.address from leads c where c.id = v_link.lead_id)),
                     'customer_notes', j.customer_notes, 'arrival_window_minutes', j.arrival_window_minutes) order by j.ord)
            from (select j.*, row_number() over (order by j.status <> 'completed' desc,
                           case when j.status <> 'completed' then j.scheduled_at end asc nulls last,
                           coalesce(j.completed_at, j.scheduled_at) desc nulls last, j.id) as ord
                    from jobs j where j.lead_id = v_link.lead_id and j.status <> 'cancelled'
                   order by ord limit p_page_size offset v_offset) j), '[]'::json))
          into v_data;
      elsif v_tab = 'proposal' then
        select json_build_object(${PROPOSAL_FIELDS}, 'customer_message', p.customer_message,
            'subtotal_cents', p.subtotal_cents, 'tax_cents', p.tax_cents, 'tax_rate_bps', p.tax_rate_bps,
            'approved_at', p.approved_at, 'approved_by_name', p.approved_by_name, 'rejected_at', p.rejected_at,
            'rejection_reason', p.rejection_reason,
            -- sign: the version on show, the earlier versions (superseded, each with the change asked for) and the signature.
            'version', p.version,
            'versions', coalesce((select json_agg(json_build_object('version', pv.version, 'content_json', pv.content_json,
                                   'change_message', pv.change_message, 'requested_at', pv.requested_at, 'superseded_at', pv.superseded_at)
                                   order by pv.version desc)
                                 from proposal_versions pv where pv.proposal_id = p.id), '[]'::json),
            'signature', (select json_build_object('signer_name', s.signer_name, 'method', s.method, 'signed_at', s.signed_at)
                          from proposal_signatures s where s.proposal_id = p.id),
            'items', coalesce((select json_agg(json_build_object(${ITEM_FIELDS}) order by i.position, i.id)
                                 from proposal_items i where i.proposal_id = p.id), '[]'::json),
            'job', (select json_build_object('scheduled_at', j.scheduled_at, 'status', j.status, 'technician', j.technician,
                     'arrival_window_minutes', j.arrival_window_minutes) from jobs j where j.proposal_id = p.id))
          into v_data
          from proposals p where p.id = p_id and p.lead_id = v_link.lead_id and p.status <> 'draft';
      else
        select json_build_object(${INVOICE_FIELDS}, 'customer_message', v.customer_message,
            'subtotal_cents', v.subtotal_cents, 'tax_cents', v.tax_cents, 'tax_rate_bps', v.tax_rate_bps,
            'items', coalesce((select json_agg(json_build_object(${ITEM_FIELDS}) order by i.position, i.id)
                                 from invoice_items i where i.invoice_id = v.id), '[]'::json),
            'payments', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}) order by y.paid_at desc, y.id)
                                    from payments y where y.invoice_id = v.id), '[]'::json),
            'pay', (select json_build_object('connected', o.stripe_account_id is not null, 'charges_enabled', o.stripe_charges_enabled,
                      'latest_checkout_status', (select c.status from checkout_sessions c
                                                  where c.invoice_id = v.id and c.returned_at is not null
                                                  order by c.returned_at desc limit 1))
                    from organizations o where o.id = v_link.org_id))
          into v_data
          from invoices v where v.id = p_id and v.lead_id = v_link.lead_id and v.status <> 'draft';
      end if;

      return json_build_object(
        'link_id', v_link.link_id,
        'tab', v_tab,
        'org', (select json_build_object('name', o.name, 'plan', o.plan, 'brand_color', o.brand_color, 'logo_sha256', g.sha256,
                  'phone', o.phone, 'email', o.email, 'whatsapp_number', o.whatsapp_number, 'currency', o.currency,
                  'locale', o.locale, 'time_zone', o.time_zone, 'address', o.address,
                  'stripe_connected', o.stripe_account_id is not null, 'stripe_charges_enabled', o.stripe_charges_enabled)
                from organizations o left join org_logos g on g.org_id = o.id and g.id = o.logo_id where o.id = v_link.org_id),
        'lead', (select json_build_object('first_name', c.first_name, 'last_name', c.last_name, 'company', c.company)
                 from leads c where c.id = v_link.lead_id),
        -- What waits for the customer (tab badges) and whether there is anything at all (the welcome).
        'waiting', json_build_object(
          'proposals', (select count(*) from proposals p where p.lead_id = v_link.lead_id and p.status = 'pending'),
          'invoices', (select count(*) from invoices v where v.lead_id = v_link.lead_id and v.status = any(p_payable)),
          'records', (select count(*) from proposals p where p.lead_id = v_link.lead_id and p.status <> 'draft')
                   + (select count(*) from invoices v where v.lead_id = v_link.lead_id and v.status <> 'draft')
                   + (select count(*) from jobs j where j.lead_id = v_link.lead_id and j.status <> 'cancelled')),
        'data', v_data);
    end
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  // The previous portal_page() (and its column), then this migration's tables and columns.
  await previousDown(knex);
  await previousUp(knex);
  await knex.raw('drop table proposal_versions');
  await knex.raw('drop table proposal_signatures');
  await knex.raw("update proposals set status = 'pending' where status = 'changes_requested'");
  await knex.raw('alter table proposals drop column version');
  await knex.raw('alter table proposals drop constraint proposals_status_check');
  await knex.raw(`alter table proposals add constraint proposals_status_check
    check (status in ('draft', 'pending', 'approved', 'rejected'))`);
}
