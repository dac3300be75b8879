// Optional and alternative proposal lines (issue 13, point 4). A line is
// required, optional (the customer ticks it or not) or one of a group of
// alternatives ("Good / Better / Best": the customer picks exactly one).
// `selected` is the contractor's default until the customer approves, then what
// the customer chose; the proposal's totals are those of the selected lines.
// portal_page() is redefined, copied verbatim from 20261203000000 (the proposal's
// versions and signature), with only the
// proposal's items gaining 'id', 'optional', 'group_label' and 'selected'.
// Runs in one transaction.
import type { Knex } from 'knex';

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

// What the proposal page's items carry beyond ITEM_FIELDS: the customer's choice needs them.
const PROPOSAL_ITEM_FIELDS = `${ITEM_FIELDS}, 'id', i.id, 'optional', i.optional, 'group_label', i.group_label, 'selected', i.selected`;

async function createPortalPage(knex: Knex, proposalItemFields: string): Promise<void> {
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
            'items', coalesce((select json_agg(json_build_object(${proposalItemFields}) order by i.position, i.id)
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

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table proposal_items
    add column optional boolean not null default false,
    add column group_label text check (group_label is null or length(group_label) between 1 and 100),
    add column selected boolean not null default true,
    add constraint proposal_items_optional_or_grouped check (not (optional and group_label is not null))`);
  await createPortalPage(knex, PROPOSAL_ITEM_FIELDS);
}

export async function down(knex: Knex): Promise<void> {
  await createPortalPage(knex, ITEM_FIELDS);
  await knex.raw(`alter table proposal_items drop constraint proposal_items_optional_or_grouped,
    drop column optional, drop column group_label, drop column selected`);
}
