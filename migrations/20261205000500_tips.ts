// Tips (issue 15): an org may suggest tip percentages on online payments (null =
// tips off; the customer may also type an amount). A tip is recorded on the
// payment (tip_cents) beside the amount that pays invoices, and never moves an
// invoice balance; the Checkout attempt keeps the tip it asked for. Runs in one
// transaction (knex default).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table organizations add column tip_percentages smallint[]
    check (tip_percentages is null or (cardinality(tip_percentages) between 1 and 4
           and 0 < all(tip_percentages) and 100 >= all(tip_percentages)))`);
  await knex.raw('alter table payments add column tip_cents bigint not null default 0 check (tip_cents >= 0)');
  await knex.raw('alter table checkout_sessions add column tip_cents bigint not null default 0 check (tip_cents >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table checkout_sessions drop column tip_cents');
  await knex.raw('alter table payments drop column tip_cents');
  await knex.raw('alter table organizations drop column tip_percentages');
}
