// Deposits on approval (issue 13): a proposal may ask for a deposit (a percentage
// of its total or a fixed amount). The amount due is fixed at approval from the
// approved row's total (deposit_cents). The customer pays it through the same
// Checkout path as invoices; the money is a payments row that names the proposal
// and has no invoice until one is created from the proposal (or its job), which
// then credits it. A Checkout attempt and its way back likewise name either an
// invoice or a proposal. Runs in one transaction (knex default).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table proposals
      add column deposit_kind text check (deposit_kind in ('percent', 'amount')),
      -- Basis points of the total (1..10000) for 'percent', minor units for 'amount'.
      add column deposit_value bigint check (deposit_value > 0),
      -- What the customer owes as a deposit, fixed when the proposal is approved.
      add column deposit_cents bigint check (deposit_cents > 0),
      add constraint proposals_deposit_pair check ((deposit_kind is null) = (deposit_value is null)),
      add constraint proposals_deposit_percent check (deposit_kind is distinct from 'percent' or deposit_value <= 10000),
      add constraint proposals_deposit_amount check (deposit_kind is distinct from 'amount' or deposit_value <= total_cents)`);

  await knex.raw(`
    alter table payments
      alter column invoice_id drop not null,
      add column proposal_id uuid,
      add constraint payments_proposal_fk foreign key (org_id, proposal_id) references proposals(org_id, id),
      add constraint payments_has_target check (invoice_id is not null or proposal_id is not null)`);
  await knex.raw('create index payments_proposal_idx on payments (org_id, proposal_id) where proposal_id is not null');

  await knex.raw(`
    alter table checkout_sessions
      alter column invoice_id drop not null,
      add column proposal_id uuid,
      add constraint checkout_sessions_proposal_fk foreign key (org_id, proposal_id) references proposals(org_id, id) on delete cascade,
      add constraint checkout_sessions_one_target check ((invoice_id is null) <> (proposal_id is null))`);
  await knex.raw(
    'create index checkout_sessions_proposal_idx on checkout_sessions (org_id, proposal_id, created_at desc) where proposal_id is not null',
  );

  await knex.raw(`
    alter table checkout_returns
      alter column invoice_id drop not null,
      add column proposal_id uuid,
      add constraint checkout_returns_proposal_fk foreign key (org_id, proposal_id) references proposals(org_id, id) on delete cascade,
      add constraint checkout_returns_one_target check ((invoice_id is null) <> (proposal_id is null))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('delete from checkout_returns where proposal_id is not null');
  await knex.raw('alter table checkout_returns drop constraint checkout_returns_one_target, drop column proposal_id');
  await knex.raw('alter table checkout_returns alter column invoice_id set not null');
  await knex.raw('delete from checkout_sessions where proposal_id is not null');
  await knex.raw('alter table checkout_sessions drop constraint checkout_sessions_one_target, drop column proposal_id');
  await knex.raw('alter table checkout_sessions alter column invoice_id set not null');
  await knex.raw('alter table payments drop constraint payments_has_target, drop column proposal_id');
  await knex.raw('alter table payments alter column invoice_id set not null');
  await knex.raw(`alter table proposals drop column deposit_kind, drop column deposit_value, drop column deposit_cents`);
}
