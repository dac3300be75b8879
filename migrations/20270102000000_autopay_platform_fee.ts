// Autopay takes the plan's platform fee, as a Checkout payment does
// (src/plans.ts: platformFeeBps; src/payments/stripe/checkout.ts). An autopay
// charge used to ask Stripe for no application fee at all, so a plan with a fee
// would have been paid it on every payment but the automatic ones.
//
// The fee is fixed when the attempt is claimed and stored on it: a charge retried
// after a crash goes to Stripe with the same idempotency key, and Stripe refuses
// a key whose parameters changed, so a retry must ask for the fee the first try
// asked for even if the plan changed in between. Attempts claimed before this
// migration keep a fee of 0, which is what their first try asked for.
//
// claim_autopay_attempts() gains the fee of each plan it is given (p_fee_bps,
// in the order of p_plans: the worker passes both from src/plans.ts) and returns
// the attempt's fee. A new argument changes the signature, so the current
// definition (20261220000000_saved_cards_autopay.ts) is read back, edited, dropped
// and created again, with the owner and grants it had there. Runs in one
// transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { replaceOnce } from '../src/db/redefine-function.js';

const AUTOPAY_ROLE = 'porchlight_autopay';
const WHAT = 'claim_autopay_attempts()';
const WITHOUT_FEE = 'claim_autopay_attempts(text[], timestamptz, integer, interval, integer)';
const WITH_FEE = 'claim_autopay_attempts(text[], integer[], timestamptz, integer, interval, integer)';

/** [without the fee, with it]: the argument, the result's column, the claim working it out, storing and returning it. */
const EDITS: [string, string][] = [
  ['p_plans text[], p_now', 'p_plans text[], p_fee_bps integer[], p_now'],
  ['currency text)', 'currency text, application_fee_cents bigint)'],
  [
    'v.total_cents - v.amount_paid_cents as amount_cents, v.currency',
    'v.total_cents - v.amount_paid_cents as amount_cents, v.currency,\n' +
      '               (v.total_cents - v.amount_paid_cents) * p_fee_bps[array_position(p_plans, o.plan)] / 10000 as application_fee_cents',
  ],
  ['amount_cents, currency, claimed_at)', 'amount_cents, currency, claimed_at, application_fee_cents)'],
  ['d.amount_cents, d.currency, p_now', 'd.amount_cents, d.currency, p_now, d.application_fee_cents'],
  ['autopay_attempts.currency::text', 'autopay_attempts.currency::text, autopay_attempts.application_fee_cents'],
  ['a.amount_cents, a.currency::text', 'a.amount_cents, a.currency::text, a.application_fee_cents'],
];

async function redefine(knex: Knex, from: string, to: string, edits: [string, string][]): Promise<void> {
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>('select pg_get_functiondef(?::regprocedure) as definition', [from]);
  const definition = edits.reduce((text, [was, is]) => replaceOnce(was, is, WHAT)(text), rows[0].definition);
  await knex.raw(`drop function ${from}`);
  // No bindings: knex sends the definition as it is.
  await knex.raw(definition);
  // Owned by the autopay role, whose policies let it read every org's due invoices (as in 20261220000000).
  // A non-superuser owner may hand a function to a role only while that role may create in the schema.
  await knex.raw(`grant create on schema public to ${AUTOPAY_ROLE}`);
  await knex.raw(`alter function ${to} owner to ${AUTOPAY_ROLE}`);
  await knex.raw(`revoke create on schema public from ${AUTOPAY_ROLE}`);
  await knex.raw(`revoke execute on function ${to} from public`);
  await knex.raw(`grant execute on function ${to} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table autopay_attempts
      add column application_fee_cents bigint not null default 0,
      add constraint autopay_attempts_fee check (application_fee_cents between 0 and amount_cents)`);
  await redefine(knex, WITHOUT_FEE, WITH_FEE, EDITS);
}

export async function down(knex: Knex): Promise<void> {
  await redefine(
    knex,
    WITH_FEE,
    WITHOUT_FEE,
    EDITS.map(([without, withIt]) => [withIt, without]),
  );
  await knex.raw('alter table autopay_attempts drop column application_fee_cents');
}
