// The migration helpers that protect tenant tables, and the start-up check that
// refuses to run without RLS, exercised in-process. Everything happens inside one
// superuser transaction that is rolled back (Postgres DDL, roles included, is
// transactional), so the shared test database is left as it was.
import { expect } from 'chai';
import type { Knex } from 'knex';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { allowLookupRead, ensureRole, LOOKUP_ROLE, ownDefinerFunction, protectTenantTable } from '../../src/db/rls.js';
import { assertRlsEnforced, RlsBypassError, withOrg } from '../../src/db/tenancy.js';
import { captureLogs } from '../support/logs.js';

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';

class Rollback extends Error {}

/** Runs fn in a superuser transaction that is always rolled back. */
async function inRolledBackTransaction(fn: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  await getDb()
    .transaction(async (trx) => {
      await fn(trx);
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
}

/** Runs fn in a savepoint; returns the Postgres error code it failed with, or null. */
async function failureCode(trx: Knex.Transaction, fn: (sp: Knex.Transaction) => Promise<unknown>): Promise<string | null> {
  return trx.transaction(fn).then(
    () => null,
    (err: { code?: string }) => err.code ?? 'no code',
  );
}

async function tableFlags(trx: Knex.Transaction, table: string) {
  const { rows } = await trx.raw<{ rows: { enabled: boolean; forced: boolean; policies: string[] }[] }>(
    `select c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
            array(select p.polname::text from pg_policy p where p.polrelid = c.oid order by 1) as policies
       from pg_class c where c.relname = ?`,
    [table],
  );
  return rows[0];
}

async function asRole<T>(trx: Knex.Transaction, role: string, orgId: string | null, fn: (sp: Knex.Transaction) => Promise<T>): Promise<T> {
  return trx.transaction(async (sp) => {
    await sp.raw("select set_config('role', ?, true), set_config('app.org_id', ?, true)", [role, orgId ?? '']);
    const out = await fn(sp);
    await sp.raw('reset role');
    return out;
  });
}

describe('RLS migration helpers (src/db/rls.ts)', () => {
  it('protectTenantTable: forced RLS, one policy that pins reads and writes to app.org_id, granted to the app role', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_probe (id int primary key, org_id uuid not null, note text)');
      await trx('rls_probe').insert([
        { id: 1, org_id: ORG_A, note: 'a' },
        { id: 2, org_id: ORG_B, note: 'b' },
      ]);
      await protectTenantTable(trx, 'rls_probe');
      expect(await tableFlags(trx, 'rls_probe')).to.deep.equal({ enabled: true, forced: true, policies: ['org_isolation'] });

      const app = config.databaseAppRole;
      // Every privilege the app needs, and only on this table's own org.
      const seen = await asRole(trx, app, ORG_A, (sp) => sp('rls_probe').orderBy('id').pluck('id'));
      expect(seen).to.deep.equal([1]);
      expect(await asRole(trx, app, null, (sp) => sp('rls_probe').pluck('id'))).to.deep.equal([]);
      expect(await asRole(trx, app, ORG_A, (sp) => sp('rls_probe').where({ id: 1 }).update({ note: 'a2' }))).to.equal(1);
      expect(await asRole(trx, app, ORG_A, (sp) => sp('rls_probe').where({ id: 2 }).update({ note: 'b2' }))).to.equal(0);
      await asRole(trx, app, ORG_A, (sp) => sp('rls_probe').insert({ id: 3, org_id: ORG_A }));
      expect(await asRole(trx, app, ORG_A, (sp) => sp('rls_probe').where({ id: 3 }).del())).to.equal(1);
      // with check: a row for another org, or moved to another org, is refused.
      expect(await failureCode(trx, (sp) => asRole(sp, app, ORG_A, (q) => q('rls_probe').insert({ id: 4, org_id: ORG_B })))).to.equal(
        '42501',
      );
      expect(
        await failureCode(trx, (sp) => asRole(sp, app, ORG_A, (q) => q('rls_probe').where({ id: 1 }).update({ org_id: ORG_B }))),
      ).to.equal('42501');
    });
  });

  it('protectTenantTable takes another match for tables keyed differently', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_probe2 (id int primary key, org_id uuid not null, visible boolean not null)');
      await trx('rls_probe2').insert([
        { id: 1, org_id: ORG_A, visible: true },
        { id: 2, org_id: ORG_A, visible: false },
      ]);
      await protectTenantTable(trx, 'rls_probe2', 'visible');
      const seen = await asRole(trx, config.databaseAppRole, null, (sp) => sp('rls_probe2').pluck('id'));
      expect(seen).to.deep.equal([1]);
    });
  });

  it('ensureRole creates a role that cannot log in or bypass RLS, and a second call is a no-op', async () => {
    await inRolledBackTransaction(async (trx) => {
      await ensureRole(trx, 'porchlight_probe_role');
      await ensureRole(trx, 'porchlight_probe_role');
      const { rows } = await trx.raw<{ rows: Record<string, boolean>[] }>(
        `select rolcanlogin, rolsuper, rolbypassrls, rolinherit from pg_roles where rolname = 'porchlight_probe_role'`,
      );
      expect(rows).to.deep.equal([{ rolcanlogin: false, rolsuper: false, rolbypassrls: false, rolinherit: false }]);
    });
  });

  it('ownDefinerFunction: owned by the lookup role, callable by the app role, not by anyone else', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create function rls_probe_fn() returns int language sql security definer as $$ select 7 $$');
      await ownDefinerFunction(trx, 'rls_probe_fn()');
      const { rows } = await trx.raw<{ rows: { owner: string }[] }>(
        "select pg_get_userbyid(proowner) as owner from pg_proc where proname = 'rls_probe_fn'",
      );
      expect(rows[0].owner).to.equal(LOOKUP_ROLE);
      const call = async (sp: Knex.Transaction) => (await sp.raw<{ rows: { n: number }[] }>('select rls_probe_fn() as n')).rows[0].n;
      expect(await asRole(trx, config.databaseAppRole, null, call)).to.equal(7);
      await trx.raw('create role rls_probe_stranger nologin');
      expect(await failureCode(trx, (sp) => asRole(sp, 'rls_probe_stranger', null, call))).to.equal('42501');
    });
  });

  it('allowLookupRead lets the lookup role read every org’s rows, and only read', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_probe3 (id int primary key, org_id uuid not null)');
      await trx('rls_probe3').insert([
        { id: 1, org_id: ORG_A },
        { id: 2, org_id: ORG_B },
      ]);
      await protectTenantTable(trx, 'rls_probe3');
      await allowLookupRead(trx, 'rls_probe3');
      const seen = await asRole(trx, LOOKUP_ROLE, null, (sp) => sp('rls_probe3').orderBy('id').pluck('id'));
      expect(seen).to.deep.equal([1, 2]);
      expect(await tableFlags(trx, 'rls_probe3')).to.deep.include({ policies: ['lookup_read', 'org_isolation'] });
      expect(
        await failureCode(trx, (sp) => asRole(sp, LOOKUP_ROLE, null, (q) => q('rls_probe3').insert({ id: 9, org_id: ORG_A }))),
      ).to.equal('42501');
    });
  });
});

describe('assertRlsEnforced (the start-up check), in-process', () => {
  let saved: { isProduction: boolean; allow: boolean; role: string };
  beforeEach(() => {
    saved = { isProduction: config.isProduction, allow: config.databaseAllowBypassRole, role: config.databaseAppRole };
  });
  afterEach(() => {
    config.isProduction = saved.isProduction;
    config.databaseAllowBypassRole = saved.allow;
    config.databaseAppRole = saved.role;
  });

  it('names a tenant table that lacks forced RLS', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_exposed_probe (id int primary key, org_id uuid)');
      // Inside one transaction the check goes on as the app role after its withOrg() savepoint, so the
      // catalog shows it only tables it may use: a forgotten table granted but not protected.
      await trx.raw('grant select on rls_exposed_probe to ??', [config.databaseAppRole]);
      const err = await assertRlsEnforced(trx).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RlsBypassError);
      expect((err as Error).message).to.equal('tables without forced row-level security: rls_exposed_probe');
      expect((err as Error).name).to.equal('RlsBypassError');
    });
  });

  it('names a table with RLS enabled but not forced, and one forced without a policy', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_a_probe (id int primary key, org_id uuid)');
      await trx.raw('alter table rls_a_probe enable row level security');
      await trx.raw("create policy p on rls_a_probe using (org_id = nullif(current_setting('app.org_id', true), '')::uuid)");
      await trx.raw('create table rls_b_probe (id int primary key, org_id uuid)');
      await trx.raw('alter table rls_b_probe enable row level security');
      await trx.raw('alter table rls_b_probe force row level security');
      await trx.raw('grant select on rls_a_probe, rls_b_probe to ??', [config.databaseAppRole]);
      const err = await assertRlsEnforced(trx).catch((e: unknown) => e);
      expect((err as Error).message).to.equal('tables without forced row-level security: rls_a_probe, rls_b_probe');
    });
  });

  it('passes once the table is protected, and ignores views with an org_id', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create table rls_ok_probe (id int primary key, org_id uuid)');
      await protectTenantTable(trx, 'rls_ok_probe');
      await trx.raw('create view rls_view_probe as select org_id from rls_ok_probe');
      await assertRlsEnforced(trx);
    });
  });

  it('explains a role it cannot switch to (migrations not run)', async () => {
    config.databaseAppRole = 'porchlight_no_such_role';
    const err = await assertRlsEnforced().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RlsBypassError);
    expect((err as Error).message).to.match(/^cannot switch to the app role "porchlight_no_such_role" \(.+\); run the migrations first$/);
  });

  it('names the bypassing role tenant work would run as', async () => {
    config.databaseAppRole = 'postgres';
    const err = await assertRlsEnforced().catch((e: unknown) => e);
    expect((err as Error).message).to.equal('tenant queries would run as "postgres", which bypasses row-level security; refusing to start');
  });

  it('refuses an app role with BYPASSRLS even when it is no superuser', async () => {
    await inRolledBackTransaction(async (trx) => {
      await trx.raw('create role rls_bypass_probe nologin bypassrls');
      config.databaseAppRole = 'rls_bypass_probe';
      const err = await assertRlsEnforced(trx).catch((e: unknown) => e);
      expect((err as Error).message).to.equal(
        'tenant queries would run as "rls_bypass_probe", which bypasses row-level security; refusing to start',
      );
    });
  });

  it('outside production, connecting as a superuser is allowed (tests and development do)', async () => {
    config.isProduction = false;
    await assertRlsEnforced();
  });

  it('in production, refuses a superuser login and says how to fix it', async () => {
    config.isProduction = true;
    config.databaseAllowBypassRole = false;
    const err = await assertRlsEnforced().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RlsBypassError);
    expect((err as Error).message).to.equal(
      'connected as "postgres", a superuser that bypasses row-level security; refusing to start in production. ' +
        'Connect as a plain login role that is a member of the app role (see the README), or set DATABASE_ALLOW_BYPASS_ROLE=true',
    );
  });

  it('in production, refuses a BYPASSRLS login, and accepts a plain one', async () => {
    config.isProduction = true;
    config.databaseAllowBypassRole = false;
    await inRolledBackTransaction(async (trx) => {
      await trx.raw(`create role rls_login_probe nologin bypassrls in role ${config.databaseAppRole}`);
      await trx.raw('set local role rls_login_probe');
      const err = await assertRlsEnforced(trx).catch((e: unknown) => e);
      expect((err as Error).message).to.match(/^connected as "rls_login_probe", a BYPASSRLS role that bypasses row-level security;/);
    });
    await inRolledBackTransaction(async (trx) => {
      await trx.raw(`create role rls_plain_probe nologin in role ${config.databaseAppRole}`);
      await trx.raw('set local role rls_plain_probe');
      await assertRlsEnforced(trx);
    });
  });

  it('in production, DATABASE_ALLOW_BYPASS_ROLE=true lets a superuser start, with a warning', async () => {
    config.isProduction = true;
    config.databaseAllowBypassRole = true;
    const logs = await captureLogs(() => assertRlsEnforced());
    expect(logs.text).to.contain(
      'connected as \\"postgres\\", a superuser: allowed by DATABASE_ALLOW_BYPASS_ROLE; use a plain login role instead',
    );
  });

  it('withOrg refuses an org id that is not a uuid before touching the database', async () => {
    const err = await withOrg('not-a-uuid', () => Promise.resolve(1)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect(err).not.to.be.instanceOf(RlsBypassError);
  });
});
