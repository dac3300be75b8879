// Migrations that change a few lines of a long SQL function: its current
// definition is read back from the database, edited, and re-created as it was
// otherwise (`create or replace`: same signature, owner and grants). Each edit
// names text that must appear exactly once, so a definition that drifted from
// what the migration expects stops the migration instead of being half-edited.
import type { Knex } from 'knex';

/** The text of `part` must appear once in `text`; `what` names the function in the error. */
export function expectOnce(text: string, part: string, what: string): void {
  const count = text.split(part).length - 1;
  if (count !== 1) throw new Error(`${what}: expected "${part.slice(0, 60)}" once, found ${count}`);
}

/** Re-creates the function `signature` (e.g. `f(text, uuid)`) from its current definition through `edit`. */
export async function redefineFunction(knex: Knex, signature: string, edit: (definition: string) => string): Promise<void> {
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>('select pg_get_functiondef(?::regprocedure) as definition', [
    signature,
  ]);
  // No bindings: knex sends the definition as it is.
  await knex.raw(edit(rows[0].definition));
}

/** An edit replacing `from`, which must appear once, with `to`. */
export function replaceOnce(from: string, to: string, what: string): (definition: string) => string {
  return (definition) => {
    expectOnce(definition, from, what);
    return definition.replace(from, to);
  };
}
