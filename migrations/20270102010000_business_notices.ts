// An email to the business about one of its customers (a work request, a change
// request, a reschedule asked from the portal) is stored in the outbox under the
// customer, and was stored as an ordinary message to them (purpose 'manual'): the
// message log and the customer's "Sent to this customer" listed an email to the
// business's own address as if the customer had been sent it. Such rows now have
// their own purpose, 'notice'. Rows already stored are recognised by what only
// they lack: every message to a customer carries the portal link it was sent with
// (src/messaging/commands.ts, storeDelivery), a notice to the business none.
// Runs in one transaction (knex default).
import type { Knex } from 'knex';

const WITH_NOTICE = "purpose in ('manual', 'receipt', 'followup', 'autopay', 'notice')";
const WITHOUT_NOTICE = "purpose in ('manual', 'receipt', 'followup', 'autopay')";

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table message_deliveries drop constraint message_deliveries_purpose_check');
  await knex.raw(`alter table message_deliveries add constraint message_deliveries_purpose_check check (${WITH_NOTICE})`);
  await knex.raw("update message_deliveries set purpose = 'notice' where purpose = 'manual' and portal_link_id is null");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("update message_deliveries set purpose = 'manual' where purpose = 'notice'");
  await knex.raw('alter table message_deliveries drop constraint message_deliveries_purpose_check');
  await knex.raw(`alter table message_deliveries add constraint message_deliveries_purpose_check check (${WITHOUT_NOTICE})`);
}
