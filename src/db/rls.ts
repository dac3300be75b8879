// SQL helpers for migrations: every tenant table gets the same forced policy.
import type { Knex } from 'knex';
import { config } from '../config.js';

export const LOOKUP_ROLE = 'porchlight_lookup';

/** Holds the web process's grant on `sessions`, which belong to no org; the app role never gets it. */
export const SESSIONS_ROLE = 'porchlight_sessions';

const ORG_MATCH = "org_id = nullif(current_setting('app.org_id', true), '')::uuid"; // i18n-exempt: SQL

/** Enables and forces RLS on a tenant table, adds the org policy, grants the app role. */
export async function protectTenantTable(knex: Knex, table: string, match: string = ORG_MATCH): Promise<void> {
  await knex.raw(`alter table ?? enable row level security`, [table]);
  await knex.raw(`alter table ?? force row level security`, [table]);
  await knex.raw(`create policy org_isolation on ?? using (${match}) with check (${match})`, [table]);
  await knex.raw(`grant select, insert, update, delete on ?? to ??`, [table, config.databaseAppRole]);
}

/** Creates a role once; concurrent migrations of several databases in one cluster may race. */
export async function ensureRole(knex: Knex, role: string): Promise<void> {
  await knex.raw(`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${role}') then
        create role ${role} nologin nosuperuser nobypassrls noinherit;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$`);
}

/**
 * Makes a SECURITY DEFINER function owned by the lookup role, callable only by
 * the app role. The lookup role reads through narrow per-table policies.
 */
export async function ownDefinerFunction(knex: Knex, signature: string): Promise<void> {
  await knex.raw(`alter function ${signature} owner to ${LOOKUP_ROLE}`);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

/** Lets the lookup role read a table (for definer functions) regardless of app.org_id. */
export async function allowLookupRead(knex: Knex, table: string): Promise<void> {
  await knex.raw(`grant select on ?? to ${LOOKUP_ROLE}`, [table]);
  await knex.raw(`create policy lookup_read on ?? for select to ${LOOKUP_ROLE} using (true)`, [table]);
}
