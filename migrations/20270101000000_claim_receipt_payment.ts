// The send worker's claim also says which payment a receipt is for (the row's
// payment_id, set exactly when its purpose is 'receipt'). The worker used to ask
// for a receipt's PDF on every email it sent: a transaction of its own (four round
// trips) per email, receipt or not, to find out that most weren't. With the
// payment on the claimed row, only receipts look their document up, and straight
// by the payment (README: Benchmarks, bench/sending.ts).
// Adding a column changes the function's result type, which `create or replace`
// can't: the current definition (20261212010000_claim_link_expiry.ts) is read back,
// given the column, dropped and created again; owner and grants as there. Runs in
// one transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'claim_message_deliveries(uuid, uuid[])';
const WHAT = 'claim_message_deliveries()';

/** [without the column, with it]: the result's column, the claimed rows' value, the others' null. */
const EDITS: [string, string][] = [
  ['link_expired boolean)', 'link_expired boolean, payment_id uuid)'],
  ['coalesce(l.expires_at <= now(), false)', 'coalesce(l.expires_at <= now(), false), d.payment_id'],
  ['null::boolean', 'null::boolean, null::uuid'],
];

async function redefine(knex: Knex, edits: [string, string][]): Promise<void> {
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>('select pg_get_functiondef(?::regprocedure) as definition', [
    SIGNATURE,
  ]);
  const definition = edits.reduce((text, [from, to]) => replaceOnce(from, to, WHAT)(text), rows[0].definition);
  await knex.raw(`drop function ${SIGNATURE}`);
  // No bindings: knex sends the definition as it is.
  await knex.raw(definition);
  await knex.raw(`alter function ${SIGNATURE} owner to ??`, [config.databaseAppRole]);
  await knex.raw(`revoke execute on function ${SIGNATURE} from public`);
  await knex.raw(`grant execute on function ${SIGNATURE} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await redefine(knex, EDITS);
}

export async function down(knex: Knex): Promise<void> {
  await redefine(
    knex,
    EDITS.map(([without, withIt]) => [withIt, without]),
  );
}
