// Tenant isolation, table by table. The list of tables comes from the schema,
// so a new table with an org_id is covered (and must be protected) automatically.
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { assertRlsEnforced, RlsBypassError, tenantTables, withOrg, withoutOrg } from '../../src/db/tenancy.js';
import { createTestOrg, type TestOrg } from '../support/factories.js';
import { seedEveryTenantTable } from '../support/every-table.js';

interface Column {
  column_name: string;
}

async function insertableColumns(table: string): Promise<string[]> {
  const { rows } = await getDb().raw<{ rows: Column[] }>(
    `select column_name from information_schema.columns
      where table_schema = 'public' and table_name = ? and is_generated = 'NEVER' and is_identity = 'NO'
      order by ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

/** A copy of one of the org's rows, read as the connecting (superuser) role. */
async function sampleRow(table: string, orgId: string): Promise<Record<string, unknown>> {
  const { rows } = await getDb().raw<{ rows: { row: Record<string, unknown> }[] }>(
    'select row_to_json(t) as row from ?? t where org_id = ? limit 1',
    [table, orgId],
  );
  return rows[0]?.row;
}

async function tryInsertCopy(db: import('knex').Knex.Transaction, table: string, row: Record<string, unknown>): Promise<unknown> {
  const cols = await insertableColumns(table);
  const list = cols.map((c) => `"${c}"`).join(', ');
  return db
    .raw(`insert into ?? (${list}) select ${list} from json_populate_record(null::??, ?::json)`, [table, table, JSON.stringify(row)])
    .then(
      () => null,
      (err: { code?: string }) => err,
    );
}

describe('row-level security', () => {
  let a: TestOrg;
  let b: TestOrg;
  let tables: string[];

  before(async () => {
    [a, b] = await Promise.all([createTestOrg(), createTestOrg()]);
    await seedEveryTenantTable(a.orgId, a.userId);
    await seedEveryTenantTable(b.orgId, b.userId);
    tables = await tenantTables();
  });

  it('finds the tenant tables in the schema', () => {
    expect(tables).to.include.members(['leads', 'proposals', 'invoices', 'payments', 'portal_links', 'users']);
  });

  it('forces RLS with a policy on every table that has an org_id', async () => {
    const { rows } = await getDb().raw<{ rows: { relname: string; forced: boolean; enabled: boolean; policies: number }[] }>(
      `select c.relname, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
              (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname = any(?)`,
      [tables],
    );
    expect(rows).to.have.length(tables.length);
    for (const row of rows) {
      expect(row, row.relname).to.include({ enabled: true, forced: true });
      expect(row.policies, row.relname).to.be.greaterThan(0);
    }
  });

  it('has a fixture row for every tenant table (add one in test/support/every-table.ts)', async () => {
    for (const table of tables) {
      expect(await sampleRow(table, a.orgId), `no fixture row in ${table}`).to.be.an('object');
    }
  });

  it('shows zero rows of any tenant table when no org is set', async () => {
    await withoutOrg(async (db) => {
      for (const table of [...tables, 'organizations']) {
        const [{ count }] = await db(table).count<{ count: string }[]>('* as count');
        expect(Number(count), table).to.equal(0);
      }
    });
  });

  it('refuses inserts into every tenant table when no org is set', async () => {
    for (const table of tables) {
      const row = await sampleRow(table, a.orgId);
      const err = await withoutOrg((db) => tryInsertCopy(db, table, row)).catch((e: unknown) => e);
      expect((err as { code?: string })?.code, `${table} accepted a row with no org set`).to.equal('42501');
    }
  });

  it("hides org B's rows from org A and refuses to write them", async () => {
    for (const table of tables) {
      await withOrg(a.orgId, async (db) => {
        const visible = await db(table).where('org_id', b.orgId).count<{ count: string }[]>('* as count');
        expect(Number(visible[0].count), `${table}: select`).to.equal(0);
        const own = await db(table).where('org_id', a.orgId).count<{ count: string }[]>('* as count');
        expect(Number(own[0].count), `${table}: own rows`).to.be.greaterThan(0);
        const updated = await db(table).where('org_id', b.orgId).update({ org_id: b.orgId });
        expect(updated, `${table}: update`).to.equal(0);
        const deleted = await db(table).where('org_id', b.orgId).del();
        expect(deleted, `${table}: delete`).to.equal(0);
      });
      const bRow = await sampleRow(table, b.orgId);
      expect(bRow, `${table}: org B's row must survive`).to.be.an('object');
      // A row claiming org B, written while org A is set, is refused.
      const err = await withOrg(a.orgId, (db) => tryInsertCopy(db, table, bRow)).catch((e: unknown) => e);
      expect((err as { code?: string })?.code, `${table}: cross-org insert`).to.equal('42501');
    }
  });

  it('shows an org only its own organization row', async () => {
    const seen = await withOrg(a.orgId, (db) => db('organizations').pluck('id'));
    expect(seen).to.deep.equal([a.orgId]);
  });

  it('runs tenant work as a role that cannot bypass RLS', async () => {
    const role = await withOrg(a.orgId, async (db) => {
      const { rows } = await db.raw<{ rows: { rolsuper: boolean; rolbypassrls: boolean; current_user: string }[] }>(
        'select current_user, rolsuper, rolbypassrls from pg_roles where rolname = current_user',
      );
      return rows[0];
    });
    expect(role).to.deep.equal({ current_user: config.databaseAppRole, rolsuper: false, rolbypassrls: false });
    await assertRlsEnforced();
  });

  it('refuses to start when tenant work would run as a bypassing role', async () => {
    const original = config.databaseAppRole;
    config.databaseAppRole = 'postgres';
    try {
      const err = await assertRlsEnforced().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RlsBypassError);
    } finally {
      config.databaseAppRole = original;
    }
  });
});
