// "Send me my link again": a delivery the customer asked for from the portal's
// not-found page is marked, so the customer's message history says so.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table message_deliveries add column customer_request boolean not null default false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table message_deliveries drop column customer_request');
}
