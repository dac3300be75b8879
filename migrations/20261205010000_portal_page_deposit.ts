// Deposits on approval (issue 13): the portal proposal page shows the deposit the
// proposal asks, what is paid of it, and whether a payment is processing, in the
// page's one round trip, and the org's suggested tips (issue 15). portal_page()
// below is the definition of 20261202010000_portal_arrival_window.ts copied
// verbatim; the only changes are the proposal view's DEPOSIT_FIELDS (marked),
// 'tip_percentages' at the end of the 'org' object and 'tip_cents' at the end
// of PAYMENT_FIELDS. `create or replace` keeps the owner
// and grants. Runs in one transaction.
import type { Knex } from 'knex';
import { up as previousPortalPage } from './20261202010000_portal_arrival_window.js';

const HEADER = `language plpgsql volatile security definer
    set search_path = pg_catalog, public, pg_temp
    set app.org_id = ''`;

// Fields of a proposal, an invoice and a payment in the portal's JSON (src/db/portal-page.ts).
const PROPOSAL_FIELDS = `'id', p.id, 'number', p.number, 'title', p.title, 'status', p.status, 'total_cents', p.total_cents,
        'sent_at', p.sent_at, 'created_at', p.created_at, 'valid_until', p.valid_until`;
const INVOICE_FIELDS = `'id', v.id, 'number', v.number, 'status', v.status, 'currency', v.currency, 'issue_date', v.issue_date,
        'due_date', v.due_date, 'total_cents', v.total_cents, 'amount_paid_cents', v.amount_paid_cents`;
const PAYMENT_FIELDS = `'id', y.id, 'paid_at', y.paid_at, 'amount_cents', y.amount_cents, 'currency', y.currency,
        'method', y.method, 'status', y.status, 'kind', y.kind, 'invoice_id', y.invoice_id, 'invoice_number', v.number,
        'tip_cents', y.tip_cents`;
const ITEM_FIELDS = `'position', i.position, 'service', i.service, 'description', i.description, 'quantity', i.quantity,
        'unit_price_cents', i.unit_price_cents, 'amount_cents', i.amount_cents`;

// CHANGED (deposits): the proposal view's deposit, its paid sum and the latest returned deposit Checkout.
const DEPOSIT_FIELDS = `'deposit_kind', p.deposit_kind, 'deposit_value', p.deposit_value, 'deposit_cents', p.deposit_cents,
            'deposit_paid_cents', (select coalesce(sum(y.amount_cents), 0) from payments y
                                    where y.proposal_id = p.id and y.kind = 'payment' and y.status in ('succeeded', 'refunded')),
            'deposit_checkout_status', (select c.status from checkout_sessions c
                                         where c.proposal_id = p.id and c.returned_at is not null
                                         order by c.returned_at desc limit 1)`;

export async function up(knex: Knex): Promise<void> {
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
            'items', coalesce((select json_agg(json_build_object(${ITEM_FIELDS}) order by i.position, i.id)
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
                  'stripe_connected', o.stripe_account_id is not null, 'stripe_charges_enabled', o.stripe_charges_enabled,
                  'tip_percentages', o.tip_percentages)
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
  // Back to the previous definition: re-run its create or replace (without its column change).
  await previousPortalPage({
    raw: (sql: string) => (sql.startsWith('alter table jobs') ? Promise.resolve() : knex.raw(sql)),
  } as unknown as Knex);
}
