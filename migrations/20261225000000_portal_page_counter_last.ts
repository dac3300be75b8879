// portal_page() bumps the link's view counter as its last statement instead of
// its first (issue 16). The row lock that update takes is held until the call's
// transaction ends, so while it came first every other view of the same link
// waited for this one's whole page to be built; now it waits only for the commit.
// Nothing else changes: the function's current definition is read back from the
// database and re-created with that one statement moved (`create or replace`,
// same signature, owner and grants). down() moves it back.
import type { Knex } from 'knex';
import { expectOnce, redefineFunction } from '../src/db/redefine-function.js';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const COUNTER = 'update portal_links l set view_count = l.view_count + 1, last_viewed_at = now() where l.id = v_link.link_id;';
const FIRST = `perform set_config('synchronous_commit', 'off', true);`;
const LAST = 'return json_build_object(';
const WHAT = 'portal_page()';

/** The definition with the counter's update taken out and put back just before `before`. */
function moveCounter(before: string): (definition: string) => string {
  return (definition) => {
    expectOnce(definition, COUNTER, WHAT);
    expectOnce(definition, before, WHAT);
    return definition.replace(COUNTER, '').replace(before, `${COUNTER}\n      ${before}`);
  };
}

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, moveCounter(LAST));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, (definition) => {
    expectOnce(definition, FIRST, WHAT);
    return definition.replace(COUNTER, '').replace(FIRST, `${FIRST}\n      ${COUNTER}`);
  });
}
