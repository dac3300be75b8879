// The web process stores sessions outside any tenant transaction, as its login
// role. In production that is a plain login role, not the owner: it gets the
// sessions table through a role of its own (README → Deploy), so the app role
// that tenant transactions switch to still cannot read anyone's session.
// Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { SESSIONS_ROLE, ensureRole } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await ensureRole(knex, SESSIONS_ROLE);
  await knex.raw(`grant usage on schema public to ${SESSIONS_ROLE}`);
  await knex.raw(`grant select, insert, update, delete on sessions to ${SESSIONS_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke select, insert, update, delete on sessions from ${SESSIONS_ROLE}`);
  await knex.raw(`revoke usage on schema public from ${SESSIONS_ROLE}`);
}
