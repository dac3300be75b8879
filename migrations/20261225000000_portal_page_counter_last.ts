// portal_page() bumps the link's view counter as its last statement instead of
// its first (issue 16). The row lock that update takes is held until the call's
// transaction ends, so while it came first every other view of the same link
// waited for this one's whole page to be built; now it waits only for the commit.
// Nothing else changes: the function's current definition is read back from the
// database and re-created with that one statement moved (`create or replace`,
// same signature, owner and grants). down() moves it back.
import type { Knex } from 'knex';

const SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const COUNTER = 'update portal_links l set view_count = l.view_count + 1, last_viewed_at = now() where l.id = v_link.link_id;';
const FIRST = `perform set_config('synchronous_commit', 'off', true);`;
const LAST = 'return json_build_object(';

async function definition(knex: Knex): Promise<string> {
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>('select pg_get_functiondef(?::regprocedure) as definition', [
    SIGNATURE,
  ]);
  return rows[0].definition;
}

function once(text: string, part: string): void {
  const count = text.split(part).length - 1;
  if (count !== 1) throw new Error(`portal_page(): expected "${part}" once, found ${count}`);
}

/** The definition with the counter's update taken out and put back just before `before`. */
function moveCounter(text: string, before: string): string {
  once(text, COUNTER);
  once(text, before);
  return text.replace(COUNTER, '').replace(before, `${COUNTER}\n      ${before}`);
}

// No bindings below: knex sends the definition as it is.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(moveCounter(await definition(knex), LAST));
}

export async function down(knex: Knex): Promise<void> {
  const text = await definition(knex);
  once(text, FIRST);
  await knex.raw(text.replace(COUNTER, '').replace(FIRST, `${FIRST}\n      ${COUNTER}`));
}
