// Several properties per customer (issue #14, point 5): landlords and property managers
// have many service addresses. `properties` is a tenant table (one row per address of a
// customer); proposals, jobs and invoices get a nullable property_id (a document with none
// belongs to the customer's main property: their first). A composite foreign key
// (org_id, lead_id, property_id) makes a document's property one of its own customer's.
// Every customer with an address gets one property from it. Search finds a customer by
// any of their properties' addresses: leads.property_addresses (kept by a trigger on
// properties) joins leads.search_text, which is rebuilt with its trigram index.
//
// portal_page() gets a p_property parameter (the portal's filter), so it is dropped and
// created again (owner and grants as in 20261207020000_portal_visits.ts). Its body is the
// latest one: portalPageDefinition() of 20261207020000_portal_visits.ts with the fields
// 20261207030000_portal_page_deposit.ts adds, VERBATIM except the lines marked [properties]
// and, in the lists, the filter `and (v_prop is null or coalesce(x.property_id, v_main) =
// v_prop)`, each row's property_id and a job's address falling back to its property's.
// Runs in one transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { protectTenantTable } from '../src/db/rls.js';
import { portalPageDefinition } from './20261207020000_portal_visits.js';

const OLD_SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text)';
const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';

const DOCUMENTS = ['proposals', 'jobs', 'invoices'] as const;

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
// What 20261207030000_portal_page_deposit.ts added: the proposal view's deposit, the org's tips, each payment's tip.
const DEPOSIT_FIELDS = `'deposit_kind', p.deposit_kind, 'deposit_value', p.deposit_value, 'deposit_cents', p.deposit_cents,
            'deposit_paid_cents', (select coalesce(sum(y.amount_cents), 0) from payments y
                                    where y.proposal_id = p.id and y.kind = 'payment' and y.status in ('succeeded', 'refunded')),
            'deposit_checkout_status', (select c.status from checkout_sessions c
                                         where c.proposal_id = p.id and c.returned_at is not null
                                         order by c.returned_at desc limit 1)`;
const ORG_EXTRA = "'tip_percentages', o.tip_percentages";
const PAYMENT_EXTRA = "'tip_cents', y.tip_cents";

async function ownByApp(knex: Knex, signature: string): Promise<void> {
  await knex.raw(`alter function ${signature} owner to ??`, [config.databaseAppRole]);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table properties (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      label text not null default '' check (length(label) <= 100),
      address text not null check (length(address) between 1 and 500),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      unique (org_id, lead_id, id),
      foreign key (org_id, lead_id) references leads(org_id, id) on delete cascade
    )`);
  await knex.raw('create index properties_lead_idx on properties (org_id, lead_id, created_at, id)');
  await protectTenantTable(knex, 'properties');
  await knex.raw(`insert into properties (org_id, lead_id, address, created_at, updated_at)
                  select org_id, id, address, created_at, created_at from leads where nullif(trim(address), '') is not null`);

  for (const table of DOCUMENTS) {
    await knex.raw(`alter table ?? add column property_id uuid`, [table]);
    await knex.raw(
      `alter table ?? add constraint ?? foreign key (org_id, lead_id, property_id) references properties (org_id, lead_id, id)`,
      [table, `${table}_property_fk`],
    );
    await knex.raw(`create index ?? on ?? (org_id, property_id) where property_id is not null`, [`${table}_property_idx`, table]);
  }

  // Search: the customer's property addresses join the trigram-indexed search text.
  await knex.raw(`alter table leads add column property_addresses text not null default ''`);
  await knex.raw('drop index leads_search_trgm_idx');
  await knex.raw('alter table leads drop column search_text');
  await knex.raw(`alter table leads add column search_text text generated always as (lower(
        first_name || ' ' || last_name || ' ' || coalesce(company, '') || ' ' ||
        coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(address, '') || ' ' || property_addresses
      )) stored`);
  await knex.raw('create index leads_search_trgm_idx on leads using gin (search_text gin_trgm_ops)');
  await knex.raw(`
    create function properties_refresh_lead_search() returns trigger
    language plpgsql security invoker set search_path = pg_catalog, public, pg_temp
    as $$
    declare
      v_lead uuid := case when tg_op = 'DELETE' then old.lead_id else new.lead_id end;
    begin
      update leads l set property_addresses = coalesce((select string_agg(pr.address, ' ' order by pr.created_at, pr.id)
                                                         from properties pr where pr.lead_id = l.id), '')
       where l.id = v_lead;
      return null;
    end $$`);
  await knex.raw(`create trigger properties_refresh_lead_search after insert or update of address or delete on properties
                  for each row execute function properties_refresh_lead_search()`);
  await knex.raw(`update leads l set property_addresses = pr.address from properties pr where pr.lead_id = l.id`);

  await knex.raw(`drop function ${OLD_SIGNATURE}`);
  await knex.raw(`
    create function portal_page(p_token_sha256 text, p_view text, p_id uuid, p_page integer, p_page_size integer, p_payable text[],
                                p_device text, p_ip_hash text, p_property uuid)
    returns json
    ${HEADER}
    as $$
    #variable_conflict use_column
    declare
      v_link record;
      v_tab text := p_view;
      v_offset integer := (greatest(coalesce(p_page, 1), 1) - 1) * p_page_size;
      v_data json;
      v_main uuid;
      v_prop uuid;
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
      -- [properties] A document without a property belongs to the customer's main (first) property;
      -- a filter naming no property of this customer is no filter.
      select pr.id into v_main from properties pr where pr.lead_id = v_link.lead_id order by pr.created_at, pr.id limit 1;
      select pr.id into v_prop from properties pr where pr.lead_id = v_link.lead_id and pr.id = p_property;

      if v_tab = 'home' then
        v_tab := case
          when exists (select 1 from proposals p where p.lead_id = v_link.lead_id and p.status = 'pending' and (v_prop is null or coalesce(p.property_id, v_main) = v_prop)) then 'proposals'
          when exists (select 1 from invoices v where v.lead_id = v_link.lead_id and v.status = any(p_payable) and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)) then 'invoices'
          else 'history' end;
        v_offset := 0;
      end if;

      if v_tab = 'proposals' then
        select json_build_object(
          'total', (select count(*) from proposals p where p.lead_id = v_link.lead_id and p.status <> 'draft' and (v_prop is null or coalesce(p.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object(${PROPOSAL_FIELDS}, 'property_id', coalesce(p.property_id, v_main)) order by p.status = 'pending' desc, p.created_at desc, p.number desc)
            from (select * from proposals p where p.lead_id = v_link.lead_id and p.status <> 'draft' and (v_prop is null or coalesce(p.property_id, v_main) = v_prop)
                   order by p.status = 'pending' desc, p.created_at desc, p.number desc limit p_page_size offset v_offset) p), '[]'::json))
          into v_data;
      elsif v_tab = 'invoices' then
        select json_build_object(
          'total', (select count(*) from invoices v where v.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object(${INVOICE_FIELDS}, 'property_id', coalesce(v.property_id, v_main)) order by v.issue_date desc, v.number desc)
            from (select * from invoices v where v.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)
                   order by v.issue_date desc, v.number desc limit p_page_size offset v_offset) v), '[]'::json))
          into v_data;
      elsif v_tab = 'payments' then
        select json_build_object(
          'balance_cents', (select coalesce(sum(v.total_cents - v.amount_paid_cents), 0) from invoices v
                             where v.lead_id = v_link.lead_id and v.status = any(p_payable) and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'total', (select count(*) from payments y join invoices v on v.id = y.invoice_id
                     where y.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}, ${PAYMENT_EXTRA}) order by y.paid_at desc, y.id)
            from (select y.* from payments y join invoices v on v.id = y.invoice_id
                   where y.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)
                   order by y.paid_at desc, y.id limit p_page_size offset v_offset) y
            join invoices v on v.id = y.invoice_id), '[]'::json))
          into v_data;
      elsif v_tab = 'history' then
        -- Upcoming visits first (soonest first), then completed ones (latest first).
        select json_build_object(
          'total', (select count(*) from jobs j where j.lead_id = v_link.lead_id and j.status <> 'cancelled' and (v_prop is null or coalesce(j.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object('id', j.id, 'service_type', j.service_type, 'status', j.status,
                     'scheduled_at', j.scheduled_at, 'completed_at', j.completed_at, 'technician', j.technician,
                     'address', coalesce(j.address, (select pr.address from properties pr where pr.id = j.property_id),
                                          (select c.address from leads c where c.id = v_link.lead_id)),
                     'property_id', coalesce(j.property_id, v_main),
                     'customer_notes', j.customer_notes, 'arrival_window_minutes', j.arrival_window_minutes) order by j.ord)
            from (select j.*, row_number() over (order by j.status <> 'completed' desc,
                           case when j.status <> 'completed' then j.scheduled_at end asc nulls last,
                           coalesce(j.completed_at, j.scheduled_at) desc nulls last, j.id) as ord
                    from jobs j where j.lead_id = v_link.lead_id and j.status <> 'cancelled' and (v_prop is null or coalesce(j.property_id, v_main) = v_prop)
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
                     'arrival_window_minutes', j.arrival_window_minutes) from jobs j where j.proposal_id = p.id),
            ${DEPOSIT_FIELDS})
          into v_data
          from proposals p where p.id = p_id and p.lead_id = v_link.lead_id and p.status <> 'draft';
      else
        select json_build_object(${INVOICE_FIELDS}, 'customer_message', v.customer_message,
            'subtotal_cents', v.subtotal_cents, 'tax_cents', v.tax_cents, 'tax_rate_bps', v.tax_rate_bps,
            'items', coalesce((select json_agg(json_build_object(${ITEM_FIELDS}) order by i.position, i.id)
                                 from invoice_items i where i.invoice_id = v.id), '[]'::json),
            'payments', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}, ${PAYMENT_EXTRA}) order by y.paid_at desc, y.id)
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
                  'stripe_connected', o.stripe_account_id is not null, 'stripe_charges_enabled', o.stripe_charges_enabled, ${ORG_EXTRA})
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
        -- [properties] The customer's service addresses (the filter) and the one chosen.
        'properties', coalesce((select json_agg(json_build_object('id', pr.id, 'label', pr.label, 'address', pr.address)
                                  order by pr.created_at, pr.id) from properties pr where pr.lead_id = v_link.lead_id), '[]'::json),
        'property_id', v_prop,
        'data', v_data);
    end
    $$`);
  await ownByApp(knex, SIGNATURE);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function ${SIGNATURE}`);
  await knex.raw(portalPageDefinition({ proposal: DEPOSIT_FIELDS, org: ORG_EXTRA, payment: PAYMENT_EXTRA }));
  await ownByApp(knex, OLD_SIGNATURE);
  await knex.raw('drop trigger properties_refresh_lead_search on properties');
  await knex.raw('drop function properties_refresh_lead_search()');
  await knex.raw('drop index leads_search_trgm_idx');
  await knex.raw('alter table leads drop column search_text');
  await knex.raw('alter table leads drop column property_addresses');
  await knex.raw(`alter table leads add column search_text text generated always as (lower(
        first_name || ' ' || last_name || ' ' || coalesce(company, '') || ' ' ||
        coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(address, '')
      )) stored`);
  await knex.raw('create index leads_search_trgm_idx on leads using gin (search_text gin_trgm_ops)');
  for (const table of DOCUMENTS) await knex.raw('alter table ?? drop column property_id', [table]);
  await knex.raw('drop table properties');
}
