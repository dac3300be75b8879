// Deposits on approval (issue 13) and tips (issue 15): the portal proposal page shows
// the deposit the proposal asks, what is paid of it, and whether a payment is
// processing; the org's JSON carries its suggested tips and each payment its tip —
// all in the page's one round trip. portal_page() is the definition of
// 20261207020000_portal_visits.ts (written once there) with these fields added.
// `create or replace` keeps the owner and grants. Runs in one transaction.
import type { Knex } from 'knex';
import { portalPageDefinition } from './20261207020000_portal_visits.js';

// The proposal view's deposit, its paid sum and the latest returned deposit Checkout.
const DEPOSIT_FIELDS = `'deposit_kind', p.deposit_kind, 'deposit_value', p.deposit_value, 'deposit_cents', p.deposit_cents,
            'deposit_paid_cents', (select coalesce(sum(y.amount_cents), 0) from payments y
                                    where y.proposal_id = p.id and y.kind = 'payment' and y.status in ('succeeded', 'refunded')),
            'deposit_checkout_status', (select c.status from checkout_sessions c
                                         where c.proposal_id = p.id and c.returned_at is not null
                                         order by c.returned_at desc limit 1)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    portalPageDefinition({ proposal: DEPOSIT_FIELDS, org: "'tip_percentages', o.tip_percentages", payment: "'tip_cents', y.tip_cents" }),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(portalPageDefinition());
}
