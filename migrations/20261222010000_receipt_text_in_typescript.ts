// Receipts in the customer's language (issue 14, point 1): queue_payment_receipts()
// composed English in SQL. It now only stores the outbox row — one per payment,
// the exactly-once key unchanged — with an empty text, and queueReceipts()
// (src/db/sql/receipts.ts) writes the subject and the text from the catalogue,
// in the same transaction, before anything can send it. Its body is
// 20261213000000's verbatim except the composed parts. Runs in one transaction.
import type { Knex } from 'knex';
import { up as previous } from './20261213000000_deposit_receipts.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function queue_payment_receipts(p_payment_ids uuid[]) returns setof uuid
    language sql volatile set search_path = pg_catalog, public, pg_temp as $$
      insert into message_deliveries (org_id, lead_id, channel, context, purpose, payment_id, to_address, subject, body_text, body_html, status)
      select y.org_id, y.lead_id,
             case when l.email is not null then 'email' else 'sms' end,
             'invoice', 'receipt', y.id, coalesce(l.email, l.phone),
             null, '', null,
             'pending'
        from payments y
        join leads l on l.org_id = y.org_id and l.id = y.lead_id
        left join invoices v on v.org_id = y.org_id and v.id = y.invoice_id
        left join proposals pr on pr.org_id = y.org_id and pr.id = y.proposal_id
       where y.id = any(p_payment_ids) and y.kind = 'payment' and y.status = 'succeeded'
         and (v.id is not null or pr.id is not null)
         and coalesce(l.email, l.phone) is not null
      on conflict (org_id, payment_id) where purpose = 'receipt' do nothing
      returning id $$`);
}

export async function down(knex: Knex): Promise<void> {
  await previous(knex);
}
