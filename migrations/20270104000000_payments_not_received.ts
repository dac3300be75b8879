// A payment recorded by hand can turn out not to have been received: the check
// bounced, the transfer was reversed, or it was entered by mistake. Until now the
// only way back was a full refund, and a refunded payment still counts as paid (a
// refunded deposit is not asked again), so the invoice or the deposit stayed paid.
// Such a payment is now marked 'failed' with why, when and by whom; every sum of
// what was paid already counts only 'succeeded' and 'refunded' payments, so the
// invoice's balance and the proposal's deposit are owed again. The payment stays
// on record, as everything about money does.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table payments
      add column failure_reason text check (failure_reason in ('bounced', 'mistake')),
      add column failure_note text check (length(failure_note) <= 200),
      add column failed_at timestamptz,
      add column failed_by uuid,
      add constraint payments_failure_only_when_failed check (failure_reason is null or status = 'failed'),
      add constraint payments_failure_of_manual check (failure_reason is null or (source = 'manual' and kind = 'payment'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table payments
      drop constraint payments_failure_of_manual,
      drop constraint payments_failure_only_when_failed,
      drop column failed_by,
      drop column failed_at,
      drop column failure_note,
      drop column failure_reason`);
}
