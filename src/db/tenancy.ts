// Tenant isolation: every query on tenant data runs inside withOrg(), which
// switches to the non-bypassing app role and pins app.org_id for one transaction.
import type { Knex } from 'knex';
import { config } from '../config.js';
import { logger } from '../logger.js';
import { uuidSchema } from '../lib/ids.js';
import { getDb } from './knex.js';

export type Db = Knex.Transaction;

/** The org whose rows this transaction sees; empty outside withOrg. */
export const CURRENT_ORG = "nullif(current_setting('app.org_id', true), '')::uuid"; // i18n-exempt: SQL

/**
 * The one tenancy preamble: become the app role (RLS applies) and pin the org
 * (or none) for this transaction only. set_config(..., true) is transaction-local,
 * like SET LOCAL, but takes bind parameters.
 */
async function enterTenancy(trx: Knex.Transaction, orgId: string | null): Promise<void> {
  // No org: app.org_id is '' (CURRENT_ORG reads it as null), so tenant tables show nothing.
  await trx.raw("select set_config('role', ?, true), set_config('app.org_id', ?, true)", [config.databaseAppRole, orgId ?? '']);
}

/**
 * Runs fn in one transaction scoped to orgId. Row-level security makes every
 * other org's rows invisible and unwritable inside it.
 */
export async function withOrg<T>(orgId: string, fn: (db: Db) => Promise<T>, db: Knex = getDb()): Promise<T> {
  const id = uuidSchema.parse(orgId);
  return db.transaction(async (trx) => {
    await enterTenancy(trx, id);
    return fn(trx);
  });
}

/**
 * A transaction as the app role with no org set: tenant tables show zero rows.
 * For the narrow SECURITY DEFINER lookups that find the org (login, tokens).
 */
export async function withoutOrg<T>(fn: (db: Db) => Promise<T>, db: Knex = getDb()): Promise<T> {
  return db.transaction(async (trx) => {
    await enterTenancy(trx, null);
    return fn(trx);
  });
}

/** The org of the current withOrg transaction, for inserts (RLS checks it again). */
export function currentOrgId(db: Db): Knex.Raw {
  return db.raw(CURRENT_ORG);
}

export class RlsBypassError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RlsBypassError';
  }
}

/** Tables with an org_id column, read from the catalog (the schema is the list). */
export async function tenantTables(db: Knex = getDb()): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { table_name: string }[] }>(
    `select c.table_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and c.column_name = 'org_id' and t.table_type = 'BASE TABLE'
      order by c.table_name`,
  );
  return rows.map((r) => r.table_name);
}

interface RoleFlags {
  current_user: string;
  rolsuper: boolean;
  rolbypassrls: boolean;
}

const ROLE_FLAGS = 'select current_user, r.rolsuper, r.rolbypassrls from pg_roles r where r.rolname = current_user';

/**
 * In production the process itself must not connect as a role that bypasses
 * RLS: code that forgot withOrg() (or SQL that resets the role) would see every
 * org's rows. DATABASE_ALLOW_BYPASS_ROLE=true accepts it, with a warning.
 */
async function assertLoginRoleObeysRls(db: Knex): Promise<void> {
  if (!config.isProduction) return;
  const { rows } = await db.raw<{ rows: RoleFlags[] }>(ROLE_FLAGS);
  const login = rows[0];
  if (!login || (!login.rolsuper && !login.rolbypassrls)) return;
  const what = login.rolsuper ? 'a superuser' : 'a BYPASSRLS role'; // i18n-exempt: a start-up refusal for the operator
  if (config.databaseAllowBypassRole) {
    logger.warn(`connected as "${login.current_user}", ${what}: allowed by DATABASE_ALLOW_BYPASS_ROLE; use a plain login role instead`);
    return;
  }
  throw new RlsBypassError(
    `connected as "${login.current_user}", ${what} that bypasses row-level security; refusing to start in production. ` + // i18n-exempt: a start-up refusal for the operator
      'Connect as a plain login role that is a member of the app role (see the README), or set DATABASE_ALLOW_BYPASS_ROLE=true', // i18n-exempt: a start-up refusal for the operator
  );
}

/**
 * Refuses to run when tenant work would bypass RLS: the role withOrg() uses must
 * be neither superuser nor BYPASSRLS, every tenant table must force RLS, and in
 * production the connecting role must not bypass RLS either.
 */
export async function assertRlsEnforced(db: Knex = getDb()): Promise<void> {
  await assertLoginRoleObeysRls(db);
  const role = await withOrg(
    '00000000-0000-0000-0000-000000000000',
    async (trx) => {
      const { rows } = await trx.raw<{ rows: RoleFlags[] }>(ROLE_FLAGS);
      return rows[0];
    },
    db,
  ).catch((err: unknown) => {
    throw new RlsBypassError(
      `cannot switch to the app role "${config.databaseAppRole}" (${(err as Error).message}); run the migrations first`, // i18n-exempt: a start-up refusal for the operator
    );
  });
  // ROLE_FLAGS reads current_user's own row: there is always one.
  if (role.rolsuper || role.rolbypassrls) {
    throw new RlsBypassError(`tenant queries would run as "${role.current_user}", which bypasses row-level security; refusing to start`); // i18n-exempt: a start-up refusal for the operator
  }
  const tables = await tenantTables(db);
  const { rows } = await db.raw<{ rows: { relname: string }[] }>(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = any(?) and c.relrowsecurity and c.relforcerowsecurity
        and exists (select 1 from pg_policy p where p.polrelid = c.oid)`,
    [tables],
  );
  const protectedTables = new Set(rows.map((r) => r.relname));
  const exposed = tables.filter((t) => !protectedTables.has(t));
  if (exposed.length > 0) {
    throw new RlsBypassError(`tables without forced row-level security: ${exposed.join(', ')}`); // i18n-exempt: a start-up refusal for the operator
  }
}
