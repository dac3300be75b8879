// Receipts for every payment recorded (issue 15, point 4): a deposit paid on
// approval has no invoice yet (20261205000000_proposal_deposits.ts), and
// queue_payment_receipts() joined the invoice, so a deposit got no receipt. The
// function now says what the payment was for (an invoice, or the deposit on a
// proposal) and, for a deposit, that it will be credited to the invoice. Its
// body is 20261206000000's verbatim except those parts. Runs in one transaction.
import type { Knex } from 'knex';

const HTML_ESCAPE = (expr: string) => `replace(replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function queue_payment_receipts(p_payment_ids uuid[]) returns setof uuid
    language sql volatile set search_path = pg_catalog, public, pg_temp as $$
      insert into message_deliveries (org_id, lead_id, channel, context, purpose, payment_id, to_address, subject, body_text, body_html, status)
      select y.org_id, y.lead_id,
             case when l.email is not null then 'email' else 'sms' end,
             'invoice', 'receipt', y.id, coalesce(l.email, l.phone),
             case when l.email is not null then 'Receipt from ' || o.name || ' — ' || paid_for.what end,
             case when l.email is not null then
               'Hi ' || l.first_name || E',\\n\\n' ||
               'Thank you: ' || o.name || ' received your payment of ' || porchlight_money(y.amount_cents, y.currency) ||
               ' for ' || paid_for.what || ' on ' || to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || E'.\\n' ||
               case when v.id is null then E'It will be credited to your invoice.\\n'
                    when v.total_cents - v.amount_paid_cents > 0
                    then 'Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || E'.\\n'
                    else E'This invoice is now paid in full.\\n' end ||
               E'\\nYour receipt is attached as a PDF.\\n\\n' || o.name ||
               coalesce(E'\\n' || o.phone, '') || coalesce(E'\\n' || o.email, '')
             else
               o.name || ': payment of ' || porchlight_money(y.amount_cents, y.currency) || ' received for ' || paid_for.what ||
               '. Thank you!'
             end,
             case when l.email is not null then
               '<p>Hi ' || ${HTML_ESCAPE('l.first_name')} || ',</p>' ||
               '<p>Thank you: ' || ${HTML_ESCAPE('o.name')} || ' received your payment of <strong>' ||
               porchlight_money(y.amount_cents, y.currency) || '</strong> for ' || paid_for.what || ' on ' ||
               to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || '.</p>' ||
               case when v.id is null then '<p>It will be credited to your invoice.</p>'
                    when v.total_cents - v.amount_paid_cents > 0
                    then '<p>Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || '.</p>'
                    else '<p>This invoice is now paid in full.</p>' end ||
               '<p>Your receipt is attached as a PDF.</p><p>' || ${HTML_ESCAPE('o.name')} ||
               coalesce('<br>' || o.phone, '') || coalesce('<br>' || ${HTML_ESCAPE('o.email')}, '') || '</p>'
             end,
             'pending'
        from payments y
        join leads l on l.org_id = y.org_id and l.id = y.lead_id
        left join invoices v on v.org_id = y.org_id and v.id = y.invoice_id
        left join proposals pr on pr.org_id = y.org_id and pr.id = y.proposal_id
        cross join lateral (select case when v.id is not null then 'invoice #' || v.number
                                        else 'the deposit on proposal #' || pr.number end as what) paid_for
        join organizations o on o.id = y.org_id
       where y.id = any(p_payment_ids) and y.kind = 'payment' and y.status = 'succeeded'
         and (v.id is not null or pr.id is not null)
         and coalesce(l.email, l.phone) is not null
      on conflict (org_id, payment_id) where purpose = 'receipt' do nothing
      returning id $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function queue_payment_receipts(p_payment_ids uuid[]) returns setof uuid
    language sql volatile set search_path = pg_catalog, public, pg_temp as $$
      insert into message_deliveries (org_id, lead_id, channel, context, purpose, payment_id, to_address, subject, body_text, body_html, status)
      select y.org_id, y.lead_id,
             case when l.email is not null then 'email' else 'sms' end,
             'invoice', 'receipt', y.id, coalesce(l.email, l.phone),
             case when l.email is not null then 'Receipt from ' || o.name || ' — invoice #' || v.number end,
             case when l.email is not null then
               'Hi ' || l.first_name || E',\\n\\n' ||
               'Thank you: ' || o.name || ' received your payment of ' || porchlight_money(y.amount_cents, y.currency) ||
               ' for invoice #' || v.number || ' on ' || to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || E'.\\n' ||
               case when v.total_cents - v.amount_paid_cents > 0
                    then 'Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || E'.\\n'
                    else E'This invoice is now paid in full.\\n' end ||
               E'\\nYour receipt is attached as a PDF.\\n\\n' || o.name ||
               coalesce(E'\\n' || o.phone, '') || coalesce(E'\\n' || o.email, '')
             else
               o.name || ': payment of ' || porchlight_money(y.amount_cents, y.currency) || ' received for invoice #' || v.number ||
               '. Thank you!'
             end,
             case when l.email is not null then
               '<p>Hi ' || ${HTML_ESCAPE('l.first_name')} || ',</p>' ||
               '<p>Thank you: ' || ${HTML_ESCAPE('o.name')} || ' received your payment of <strong>' ||
               porchlight_money(y.amount_cents, y.currency) || '</strong> for invoice #' || v.number || ' on ' ||
               to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || '.</p>' ||
               case when v.total_cents - v.amount_paid_cents > 0
                    then '<p>Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || '.</p>'
                    else '<p>This invoice is now paid in full.</p>' end ||
               '<p>Your receipt is attached as a PDF.</p><p>' || ${HTML_ESCAPE('o.name')} ||
               coalesce('<br>' || o.phone, '') || coalesce('<br>' || ${HTML_ESCAPE('o.email')}, '') || '</p>'
             end,
             'pending'
        from payments y
        join leads l on l.org_id = y.org_id and l.id = y.lead_id
        join invoices v on v.org_id = y.org_id and v.id = y.invoice_id
        join organizations o on o.id = y.org_id
       where y.id = any(p_payment_ids) and y.kind = 'payment' and y.status = 'succeeded'
         and coalesce(l.email, l.phone) is not null
      on conflict (org_id, payment_id) where purpose = 'receipt' do nothing
      returning id $$`);
}
