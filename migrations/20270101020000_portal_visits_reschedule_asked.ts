// Service History says when the customer has asked to move a visit. A request to
// reschedule was stored (work_requests, kind 'reschedule', with its job) but the
// visit's card showed nothing of it, and still offered "Ask to reschedule", so a
// customer could not tell their request had gone through and might send it again.
// portal_page()'s history rows now carry when the latest request still open for
// that visit was made. A request changes what the page shows, so work_requests gets
// the portal version trigger the other tables portal_page() reads have
// (20261231010000_portal_page_versions.ts), and the lookup its index.
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid, text)';
const WHAT = "portal_page()'s history view";
const BEFORE = `'customer_notes', j.customer_notes, 'arrival_window_minutes', j.arrival_window_minutes) order by j.ord)`;
const AFTER = `'customer_notes', j.customer_notes, 'arrival_window_minutes', j.arrival_window_minutes,
                     'reschedule_asked_at', (select max(w.created_at) from work_requests w
                                              where w.job_id = j.id and w.kind = 'reschedule' and w.status = 'new')) order by j.ord)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw("create index work_requests_reschedule_idx on work_requests (job_id) where kind = 'reschedule' and status = 'new'");
  await knex.raw(`create constraint trigger portal_version after insert or update or delete on work_requests
    deferrable initially deferred for each row execute function portal_version_bump('lead')`);
  await redefineFunction(knex, SIGNATURE, replaceOnce(BEFORE, AFTER, WHAT));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(AFTER, BEFORE, WHAT));
  await knex.raw('drop trigger portal_version on work_requests');
  await knex.raw('drop index work_requests_reschedule_idx');
}
