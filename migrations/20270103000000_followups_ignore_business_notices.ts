// "One message per customer per day" counts what the customer was sent. A
// notice to the business about a customer (a work request, a change request, a
// reschedule: purpose 'notice', 20270102010000_business_notices.ts) is stored
// under that customer but goes to the business's own address, and it used to
// count too: a customer who asked for work in the morning got no reminder that
// day. schedule_followups() now leaves notices out of its check.
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'schedule_followups(text[], timestamptz, integer, integer, text)';
const WHAT = 'schedule_followups(), one message per customer per day';
const BEFORE = 'where m.org_id = a.org_id and m.lead_id = a.lead_id';
const AFTER = "where m.org_id = a.org_id and m.lead_id = a.lead_id and m.purpose <> 'notice'";

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(BEFORE, AFTER, WHAT));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(AFTER, BEFORE, WHAT));
}
