// The portal's proposal page says what was refunded of a deposit. portal_page()
// counted a refunded deposit as paid (so the customer is not asked to pay it again)
// and said nothing else: after the business refunded it, the page still read
// "Deposit paid … credited to your invoice". It now also returns what was refunded
// of the proposal's deposit payments: refunds follow their payment by refund_of,
// wherever they sit (on the proposal, or on the invoice the deposit was credited to).
// Refunds are found by the payment they refund: refund_of gets its index (it had
// none, and refundedTotals() also looks refunds up by it).
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const ANCHOR = `'deposit_checkout_status', (select c.status from checkout_sessions c`;
const ADDED = `'deposit_refunded_cents', (select coalesce(sum(r.amount_cents), 0) from payments r
                                        where r.kind = 'refund' and r.status = 'succeeded'
                                          and r.refund_of in (select y.id from payments y where y.proposal_id = p.id and y.kind = 'payment')),
            ${ANCHOR}`;
const WHAT = "portal_page()'s proposal view";

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index payments_refund_of_idx on payments (refund_of) where refund_of is not null');
  await redefineFunction(knex, SIGNATURE, replaceOnce(ANCHOR, ADDED, WHAT));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(ADDED, ANCHOR, WHAT));
  await knex.raw('drop index payments_refund_of_idx');
}
