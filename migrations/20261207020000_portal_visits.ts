// A visit log per portal link (issue #14, point 3). portal_page() records each page
// it serves (when, which tab or document, the device family parsed in Node, a hash of
// the truncated IP) in the same single round trip, and stamps the first time the
// customer opened each proposal and invoice (proposals/invoices.first_viewed_at:
// indexed, for the contractor's "viewed" mark and follow-up rules). A scheduled job
// deletes visits older than 90 days through portal_visits_prune(), which may delete
// nothing younger.
//
// portal_page() gets two parameters, so it is dropped and created again (owner and
// grants as in 20261129000000_one_round_trip_functions.ts). Its body is the one from
// 20261204000000_proposal_options.ts (itself 20261202010000's plus the proposal's
// versions, signature and item choices) VERBATIM except: the signature (p_device,
// p_ip_hash) and the block marked [reach] before the final return. Runs in one transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { LOOKUP_ROLE, allowLookupRead, ownDefinerFunction, protectTenantTable } from '../src/db/rls.js';

const OLD_SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[])';
const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text)';

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
// The proposal page's items also carry the customer's choice (20261204000000_proposal_options.ts).
const PROPOSAL_ITEM_FIELDS = `${ITEM_FIELDS}, 'id', i.id, 'optional', i.optional, 'group_label', i.group_label, 'selected', i.selected`;

/** What a later migration adds to the page's JSON: fields of the proposal view, of the org and of each payment. */
export interface PortalPageExtra {
  proposal?: string;
  org?: string;
  payment?: string;
}

/**
 * This migration's portal_page() (create or replace, same signature), with a later
 * migration's extra fields spliced in: the body is written once, here.
 */
export function portalPageDefinition(extra: PortalPageExtra = {}): string {
  return `
    create or replace function portal_page(p_token_sha256 text, p_view text, p_id uuid, p_page integer, p_page_size integer, p_payable text[],
                                p_device text, p_ip_hash text)
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
          'rows', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}${extra.payment ? `, ${extra.payment}` : ''}) order by y.paid_at desc, y.id)
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
            'items', coalesce((select json_agg(json_build_object(${PROPOSAL_ITEM_FIELDS}) order by i.position, i.id)
                                 from proposal_items i where i.proposal_id = p.id), '[]'::json),
            'job', (select json_build_object('scheduled_at', j.scheduled_at, 'status', j.status, 'technician', j.technician,
                     'arrival_window_minutes', j.arrival_window_minutes) from jobs j where j.proposal_id = p.id)${
                       extra.proposal
                         ? `,
            ${extra.proposal}`
                         : ''
                     })
          into v_data
          from proposals p where p.id = p_id and p.lead_id = v_link.lead_id and p.status <> 'draft';
      else
        select json_build_object(${INVOICE_FIELDS}, 'customer_message', v.customer_message,
            'subtotal_cents', v.subtotal_cents, 'tax_cents', v.tax_cents, 'tax_rate_bps', v.tax_rate_bps,
            'items', coalesce((select json_agg(json_build_object(${ITEM_FIELDS}) order by i.position, i.id)
                                 from invoice_items i where i.invoice_id = v.id), '[]'::json),
            'payments', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}${extra.payment ? `, ${extra.payment}` : ''}) order by y.paid_at desc, y.id)
                                    from payments y where y.invoice_id = v.id), '[]'::json),
            'pay', (select json_build_object('connected', o.stripe_account_id is not null, 'charges_enabled', o.stripe_charges_enabled,
                      'latest_checkout_status', (select c.status from checkout_sessions c
                                                  where c.invoice_id = v.id and c.returned_at is not null
                                                  order by c.returned_at desc limit 1))
                    from organizations o where o.id = v_link.org_id))
          into v_data
          from invoices v where v.id = p_id and v.lead_id = v_link.lead_id and v.status <> 'draft';
      end if;

      -- [reach] The visit log: one row per page served (a document that isn't there is a miss,
      -- not a visit), and the first time the customer opened each proposal and invoice.
      if v_data is not null or v_tab not in ('proposal', 'invoice') then
        insert into portal_visits (org_id, link_id, lead_id, view, document_id, device, ip_hash)
        values (v_link.org_id, v_link.link_id, v_link.lead_id, v_tab,
                case when v_tab in ('proposal', 'invoice') then p_id end, left(p_device, 60), left(p_ip_hash, 64));
        if v_tab = 'proposal' then
          update proposals p set first_viewed_at = now() where p.id = p_id and p.first_viewed_at is null;
        elsif v_tab = 'invoice' then
          update invoices v set first_viewed_at = now() where v.id = p_id and v.first_viewed_at is null;
        end if;
      end if;

      return json_build_object(
        'link_id', v_link.link_id,
        'tab', v_tab,
        'org', (select json_build_object('name', o.name, 'plan', o.plan, 'brand_color', o.brand_color, 'logo_sha256', g.sha256,
                  'phone', o.phone, 'email', o.email, 'whatsapp_number', o.whatsapp_number, 'currency', o.currency,
                  'locale', o.locale, 'time_zone', o.time_zone, 'address', o.address,
                  'stripe_connected', o.stripe_account_id is not null, 'stripe_charges_enabled', o.stripe_charges_enabled${extra.org ? `, ${extra.org}` : ''})
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
    $$`;
}

async function ownByApp(knex: Knex, signature: string): Promise<void> {
  await knex.raw(`alter function ${signature} owner to ??`, [config.databaseAppRole]);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table portal_visits (
      id bigint generated always as identity primary key,
      org_id uuid not null references organizations(id) on delete cascade,
      link_id uuid not null,
      lead_id uuid not null,
      viewed_at timestamptz not null default now(),
      view text not null check (view in ('proposals', 'invoices', 'payments', 'history', 'proposal', 'invoice')),
      document_id uuid,
      device text check (length(device) <= 60),
      -- HMAC of the truncated address (IPv4 /24, IPv6 /48): never the address itself.
      ip_hash text check (length(ip_hash) <= 64),
      foreign key (org_id, link_id) references portal_links(org_id, id) on delete cascade,
      foreign key (org_id, lead_id) references leads(org_id, id) on delete cascade
    )`);
  await knex.raw('create index portal_visits_lead_idx on portal_visits (org_id, lead_id, viewed_at desc)');
  await knex.raw('create index portal_visits_document_idx on portal_visits (org_id, document_id) where document_id is not null');
  await knex.raw('create index portal_visits_age_idx on portal_visits (viewed_at)');
  await protectTenantTable(knex, 'portal_visits');

  await knex.raw('alter table proposals add column first_viewed_at timestamptz');
  await knex.raw('alter table invoices add column first_viewed_at timestamptz');
  await knex.raw('create index proposals_first_viewed_idx on proposals (org_id, first_viewed_at) where first_viewed_at is not null');
  await knex.raw('create index invoices_first_viewed_idx on invoices (org_id, first_viewed_at) where first_viewed_at is not null');

  // Retention: the lookup role may delete visits, but only those older than 90 days.
  await allowLookupRead(knex, 'portal_visits');
  await knex.raw(`grant delete on portal_visits to ${LOOKUP_ROLE}`);
  await knex.raw(`create policy retention_delete on portal_visits for delete to ${LOOKUP_ROLE}
    using (viewed_at < now() - interval '90 days')`);
  await knex.raw(`
    create function portal_visits_prune(p_limit integer) returns integer
    language sql volatile security definer set search_path = pg_catalog, public, pg_temp
    as $$ with gone as (
            delete from portal_visits where id in (
              select id from portal_visits where viewed_at < now() - interval '90 days' order by viewed_at limit p_limit)
            returning 1)
          select count(*)::integer from gone $$`);
  await ownDefinerFunction(knex, 'portal_visits_prune(integer)');

  await knex.raw(`drop function ${OLD_SIGNATURE}`);
  await knex.raw(portalPageDefinition());
  await ownByApp(knex, SIGNATURE);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function ${SIGNATURE}`);
  await knex.raw(`
    create function portal_page(p_token_sha256 text, p_view text, p_id uuid, p_page integer, p_page_size integer, p_payable text[])
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
            'items', coalesce((select json_agg(json_build_object(${PROPOSAL_ITEM_FIELDS}) order by i.position, i.id)
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
  await ownByApp(knex, OLD_SIGNATURE);
  await knex.raw('drop function portal_visits_prune(integer)');
  await knex.raw('drop table portal_visits');
  await knex.raw('alter table proposals drop column first_viewed_at');
  await knex.raw('alter table invoices drop column first_viewed_at');
}
