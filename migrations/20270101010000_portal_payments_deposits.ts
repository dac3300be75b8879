// The portal's Payments tab lists a deposit before its invoice exists. portal_page()
// listed only payments joined to an issued invoice, so a deposit paid on approval
// (no invoice yet: payments.invoice_id is null, proposal_id names the proposal) was
// missing from the tab that promises every payment as a receipt — the customer saw
// "No payments recorded yet" right after paying one. A payment is now listed under its
// invoice once that is issued, and otherwise under its proposal: a deposit waiting
// for its invoice, or credited to an invoice still a draft (whose number the customer
// can't open yet). The count, the property filter and the paging follow the same rule.
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid, text)';
const WHAT = "portal_page()'s payments view";

const BEFORE = `      elsif v_tab = 'payments' then
        select json_build_object(
          'balance_cents', (select coalesce(sum(v.total_cents - v.amount_paid_cents), 0) from invoices v
                             where v.lead_id = v_link.lead_id and v.status = any(p_payable) and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'total', (select count(*) from payments y join invoices v on v.id = y.invoice_id
                     where y.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object('id', y.id, 'paid_at', y.paid_at, 'amount_cents', y.amount_cents, 'currency', y.currency,
        'method', y.method, 'status', y.status, 'kind', y.kind, 'invoice_id', y.invoice_id, 'invoice_number', v.number, 'tip_cents', y.tip_cents) order by y.paid_at desc, y.id)
            from (select y.* from payments y join invoices v on v.id = y.invoice_id
                   where y.lead_id = v_link.lead_id and v.status <> 'draft' and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)
                   order by y.paid_at desc, y.id limit p_page_size offset v_offset) y
            join invoices v on v.id = y.invoice_id), '[]'::json))
          into v_data;
`;

const AFTER = `      elsif v_tab = 'payments' then
        -- [deposits] A payment is listed under its invoice once that is issued; before that, a deposit is
        -- listed under its proposal (paid on approval: no invoice yet, or credited to one still a draft).
        select json_build_object(
          'balance_cents', (select coalesce(sum(v.total_cents - v.amount_paid_cents), 0) from invoices v
                             where v.lead_id = v_link.lead_id and v.status = any(p_payable) and (v_prop is null or coalesce(v.property_id, v_main) = v_prop)),
          'total', (select count(*) from payments y
                     left join invoices v on v.id = y.invoice_id and v.status <> 'draft'
                     left join proposals p on p.id = y.proposal_id and p.status <> 'draft'
                     where y.lead_id = v_link.lead_id and (v.id is not null or p.id is not null)
                       and (v_prop is null or coalesce(v.property_id, p.property_id, v_main) = v_prop)),
          'rows', coalesce((select json_agg(json_build_object('id', y.id, 'paid_at', y.paid_at, 'amount_cents', y.amount_cents, 'currency', y.currency,
        'method', y.method, 'status', y.status, 'kind', y.kind, 'invoice_id', y.shown_invoice_id, 'invoice_number', y.shown_invoice_number,
        'proposal_id', y.shown_proposal_id, 'proposal_number', y.shown_proposal_number, 'tip_cents', y.tip_cents) order by y.paid_at desc, y.id)
            from (select y.*, v.id as shown_invoice_id, v.number as shown_invoice_number,
                         case when v.id is null then p.id end as shown_proposal_id, case when v.id is null then p.number end as shown_proposal_number
                    from payments y
                    left join invoices v on v.id = y.invoice_id and v.status <> 'draft'
                    left join proposals p on p.id = y.proposal_id and p.status <> 'draft'
                   where y.lead_id = v_link.lead_id and (v.id is not null or p.id is not null)
                     and (v_prop is null or coalesce(v.property_id, p.property_id, v_main) = v_prop)
                   order by y.paid_at desc, y.id limit p_page_size offset v_offset) y), '[]'::json))
          into v_data;
`;

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(BEFORE, AFTER, WHAT));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(AFTER, BEFORE, WHAT));
}
