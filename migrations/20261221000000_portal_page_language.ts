// portal_page() returns the customer's stored language with the lead (issue 14,
// point 1), so a portal page is still ONE round trip and reads in the customer's
// language. The function's newest definition (20261211000000_properties.ts) is
// read back from the database and re-created with one change: the lead's JSON
// object gains `'language', c.language`. Signature, owner and grants are
// unchanged (`create or replace`). down() takes the field out again.
import type { Knex } from 'knex';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const WITHOUT = `'company', c.company)`;
const WITH = `'company', c.company, 'language', c.language)`;

async function redefine(knex: Knex, from: string, to: string): Promise<void> {
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>(`select pg_get_functiondef(?::regprocedure) as definition`, [
    SIGNATURE,
  ]);
  const definition = rows[0].definition;
  const count = definition.split(from).length - 1;
  if (count !== 1) throw new Error(`portal_page(): expected the lead's fields once, found ${count}`);
  // No bindings: knex sends the text as it is.
  await knex.raw(definition.replace(from, to));
}

export async function up(knex: Knex): Promise<void> {
  await redefine(knex, WITHOUT, WITH);
}

export async function down(knex: Knex): Promise<void> {
  await redefine(knex, WITH, WITHOUT);
}
