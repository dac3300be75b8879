// The hot paths as SQL functions, each called with bind parameters in one round
// trip: a portal page (with its view counter) and the send worker's claim and
// record. They replace multi-statement scripts that spliced values into SQL text.
//
// Each is SECURITY DEFINER owned by the app role (no superuser, no BYPASSRLS), so
// its body runs under row-level security like withOrg(); it pins app.org_id
// itself, and the `set app.org_id` clause restores the caller's value when it
// returns. plpgsql caches each statement's plan per connection, which a
// one-off script could not. Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { config } from '../src/config.js';

const FUNCTIONS = [
  'portal_page(text, text, uuid, integer, integer, text[])',
  'claim_message_deliveries(uuid, uuid[])',
  'record_message_sends(uuid, uuid[], text[], jsonb)',
];

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
                     'customer_notes', j.customer_notes) order by j.ord)
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
            'job', (select json_build_object('scheduled_at', j.scheduled_at, 'status', j.status) from jobs j where j.proposal_id = p.id))
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
                  'locale', o.locale, 'time_zone', o.time_zone)
                from organizations o left join org_logos g on g.org_id = o.id and g.id = o.logo_id where o.id = v_link.org_id),
        'lead', (select json_build_object('first_name', c.first_name, 'last_name', c.last_name, 'company', c.company)
                 from leads c where c.id = v_link.lead_id),
        'data', v_data);
    end
    $$`);

  // Claims deliveries for sending: pending|queued → sending, attempts + 1. The
  // claimed rows come back with their portal link (revoked or not) and the org's
  // name; every other id with the status that kept it from being claimed. This
  // commit stays synchronous: a claim lost in a crash could let a later job send again.
  await knex.raw(`
    create function claim_message_deliveries(p_org uuid, p_ids uuid[])
    returns table (id uuid, claimed boolean, status text, lead_id uuid, portal_link_id uuid, channel text, to_address text,
                   subject text, body_text text, body_html text, token_ciphertext text, link_revoked_at timestamptz,
                   org_name text, org_email text)
    ${HEADER}
    as $$
    #variable_conflict use_column
    declare
      v_claimed uuid[];
    begin
      perform set_config('app.org_id', p_org::text, true);
      with c as (
        update message_deliveries d set status = 'sending', attempts = d.attempts + 1, updated_at = now()
         where d.id = any(p_ids) and d.status in ('pending', 'queued')
        returning d.id
      )
      select coalesce(array_agg(c.id), '{}') into v_claimed from c;
      return query
        select d.id, true, d.status, d.lead_id, d.portal_link_id, d.channel, d.to_address, d.subject, d.body_text, d.body_html,
               l.token_ciphertext, l.revoked_at, o.name, o.email
          from message_deliveries d
          left join portal_links l on l.id = d.portal_link_id
          left join organizations o on o.id = p_org
         where d.id = any(v_claimed);
      return query
        select d.id, false, d.status, null::uuid, null::uuid, null::text, null::text, null::text, null::text, null::text,
               null::text, null::timestamptz, null::text, null::text
          from message_deliveries d
         where d.id = any(p_ids) and not (d.id = any(v_claimed));
    end
    $$`);

  // Records accepted sends and their audit rows (built by src/db/audit.ts#auditRow).
  // This commit is asynchronous: a crash can lose at most the last moment of such
  // commits; a lost record leaves its row 'sending', which the sweeper closes as
  // "outcome unknown" and never makes claimable again, so it can't cause a resend.
  await knex.raw(`
    create function record_message_sends(p_org uuid, p_ids uuid[], p_provider_ids text[], p_audit jsonb)
    returns void
    ${HEADER}
    as $$
    #variable_conflict use_column
    begin
      perform set_config('app.org_id', p_org::text, true);
      perform set_config('synchronous_commit', 'off', true);
      update message_deliveries d
         set status = 'sent', provider_id = s.provider_id, sent_at = now(), last_error = null, updated_at = now()
        from unnest(p_ids, p_provider_ids) as s(id, provider_id)
       where d.id = s.id and d.status = 'sending';
      insert into audit_events (org_id, actor_type, actor_user_id, actor_label, action, subject_type, subject_id, data, ip)
      select p_org, a.actor_type, a.actor_user_id, a.actor_label, a.action, a.subject_type, a.subject_id, coalesce(a.data, '{}'::jsonb), a.ip
        from jsonb_to_recordset(p_audit) as a(actor_type text, actor_user_id uuid, actor_label text, action text,
                                              subject_type text, subject_id uuid, data jsonb, ip inet);
    end
    $$`);

  for (const signature of FUNCTIONS) {
    await knex.raw(`alter function ${signature} owner to ??`, [config.databaseAppRole]);
    await knex.raw(`revoke execute on function ${signature} from public`);
    await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const signature of FUNCTIONS) await knex.raw(`drop function if exists ${signature}`);
}
