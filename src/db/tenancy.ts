// Tenant isolation: every query on tenant data runs inside withOrg(), which
// switches to the non-bypassing app role and pins app.org_id for one transaction.
import type { Knex } from 'knex';
import pg from 'pg';
import { z } from 'zod';
import { config } from '../config.js';
import { getDb } from './knex.js';

export type Db = Knex.Transaction;

const uuid = z.uuid();

/**
 * Runs fn in one transaction scoped to orgId. Row-level security makes every
 * other org's rows invisible and unwritable inside it.
 */
export async function withOrg<T>(orgId: string, fn: (db: Db) => Promise<T>, db: Knex = getDb()): Promise<T> {
  const id = uuid.parse(orgId);
  return db.transaction(async (trx) => {
    // set_config(..., true) is transaction-local, like SET LOCAL, but takes bind parameters.
    await trx.raw("select set_config('role', ?, true), set_config('app.org_id', ?, true)", [
      config.databaseAppRole,
      id,
    ]);
    return fn(trx);
  });
}

/** A value as a SQL string literal, for statements given to withOrgScript (which can't take bind parameters). */
export const sqlLiteral = (value: string): string => pg.escapeLiteral(value);

interface PooledPgClient {
  query(text: string): Promise<pg.QueryResult | pg.QueryResult[]>;
}
interface KnexPoolClient {
  acquireConnection(): Promise<PooledPgClient>;
  releaseConnection(connection: PooledPgClient): Promise<unknown>;
}

/**
 * withOrg in one round trip, for hot paths: BEGIN, the same role switch and
 * app.org_id as withOrg, the given statements and COMMIT go to Postgres as ONE
 * simple-protocol query on a connection from the same pool. Values must be
 * embedded with sqlLiteral (the simple protocol has no bind parameters).
 * Returns each given statement's rows, in order. If any statement fails the
 * rest are skipped, the transaction is rolled back and the error is thrown.
 */
export async function withOrgScript(orgId: string, statements: string[], db: Knex = getDb()): Promise<Array<Array<Record<string, unknown>>>> {
  const id = uuid.parse(orgId);
  const results = await runScript(
    [
      'begin',
      `select set_config('role', ${sqlLiteral(config.databaseAppRole)}, true), set_config('app.org_id', ${sqlLiteral(id)}, true)`,
      ...statements,
      'commit',
    ].join(';\n'),
    db,
  );
  return statements.map((_, i) => results[i + 2].rows as Array<Record<string, unknown>>);
}

/**
 * Sends a BEGIN … COMMIT script as one simple-protocol query on a pooled
 * connection and returns each statement's result. A failing statement leaves
 * the transaction aborted, so it is rolled back before the error is thrown.
 */
export async function runScript(script: string, db: Knex = getDb()): Promise<pg.QueryResult[]> {
  const client = db.client as KnexPoolClient;
  const connection = await client.acquireConnection();
  try {
    const results = await connection.query(script);
    return Array.isArray(results) ? results : [results];
  } catch (err) {
    await connection.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * A transaction as the app role with no org set: tenant tables show zero rows.
 * For the narrow SECURITY DEFINER lookups that find the org (login, tokens).
 */
export async function withoutOrg<T>(fn: (db: Db) => Promise<T>, db: Knex = getDb()): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw("select set_config('role', ?, true)", [config.databaseAppRole]);
    return fn(trx);
  });
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

/**
 * Refuses to run when tenant work would bypass RLS: the role withOrg() uses must
 * be neither superuser nor BYPASSRLS, and every tenant table must force RLS.
 */
export async function assertRlsEnforced(db: Knex = getDb()): Promise<void> {
  const role = await withOrg(
    '00000000-0000-0000-0000-000000000000',
    async (trx) => {
      const { rows } = await trx.raw<{ rows: { current_user: string; rolsuper: boolean; rolbypassrls: boolean }[] }>(
        'select current_user, r.rolsuper, r.rolbypassrls from pg_roles r where r.rolname = current_user',
      );
      return rows[0];
    },
    db,
  ).catch((err: unknown) => {
    throw new RlsBypassError(
      `cannot switch to the app role "${config.databaseAppRole}" (${(err as Error).message}); run the migrations first`,
    );
  });
  if (!role || role.rolsuper || role.rolbypassrls) {
    throw new RlsBypassError(
      `tenant queries would run as "${role?.current_user}", which bypasses row-level security; refusing to start`,
    );
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
    throw new RlsBypassError(`tables without forced row-level security: ${exposed.join(', ')}`);
  }
}
