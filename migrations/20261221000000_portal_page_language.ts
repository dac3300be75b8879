// portal_page() returns the customer's stored language with the lead (issue 14,
// point 1), so a portal page is still ONE round trip and reads in the customer's
// language. The function's newest definition (20261211000000_properties.ts) is
// read back from the database and re-created with one change: the lead's JSON
// object gains `'language', c.language`. Signature, owner and grants are
// unchanged (`create or replace`). down() takes the field out again.
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const WITHOUT = `'company', c.company)`;
const WITH = `'company', c.company, 'language', c.language)`;

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(WITHOUT, WITH, "portal_page()'s lead fields"));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(WITH, WITHOUT, "portal_page()'s lead fields"));
}
