// A request for work names the property it is for (issue 14, points 5 and 6): the
// portal's form offers the customer's properties, a reschedule takes its visit's,
// and turning the request into a proposal or a job carries it over. Null: an
// address the customer typed that is none of their properties (kept in
// \`address\` as before). Deleting the property keeps the request and its address.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table work_requests add column property_id uuid,
      add foreign key (org_id, property_id) references properties (org_id, id) on delete set null (property_id)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table work_requests drop column property_id');
}
