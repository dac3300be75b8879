// portal_page() also returns the customer's saved card and autopay switch (the
// Invoices tab and an invoice page) and an invoice's latest autopay attempt, so
// those pages keep their ONE round trip (issue 16, target 3) and the page cache,
// which compares the page's JSON, sees a saved, removed or switched card (issue 15,
// point 3). The card is the one saved on the org's current connected account.
// The current definition is read back and re-created with two keys put first in
// its result (`create or replace`: same signature, owner and grants).
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const RESULT = 'return json_build_object(';
const ADDED = `return json_build_object(
        'saved_card', case when v_tab in ('invoices', 'invoice') then
          (select json_build_object('brand', sc.card_brand, 'last4', sc.card_last4, 'exp_month', sc.card_exp_month,
                                    'exp_year', sc.card_exp_year, 'autopay', sc.autopay_enabled_at is not null)
             from stripe_customers sc join organizations o on o.id = v_link.org_id and o.stripe_account_id = sc.stripe_account_id
            where sc.lead_id = v_link.lead_id and sc.payment_method_id is not null and sc.card_last4 is not null) end,
        'autopay_last_attempt', case when v_tab = 'invoice' then
          (select json_build_object('status', a.status, 'failure_code', a.failure_code, 'attempt_day', a.attempt_day)
             from autopay_attempts a where a.invoice_id = p_id and a.lead_id = v_link.lead_id
            order by a.attempt_day desc limit 1) end,
        `;

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(RESULT, ADDED, "portal_page()'s result"));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(ADDED, RESULT, "portal_page()'s result"));
}
