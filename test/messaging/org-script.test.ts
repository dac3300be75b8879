// withOrgScript (the one-round-trip transaction the send worker claims and
// records with) must scope rows exactly like withOrg and roll back on error.
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { sqlLiteral, withOrg, withOrgScript } from '../../src/db/tenancy.js';
import { createTestLead, createTestOrg } from '../support/factories.js';

describe('withOrgScript', () => {
  it('runs as the app role with app.org_id set, and sees only that org\'s rows', async () => {
    const a = await createTestOrg();
    const b = await createTestOrg();
    const leadA = await createTestLead(a.orgId, { first_name: 'Ann' });
    const leadB = await createTestLead(b.orgId, { first_name: "O'Brien" });
    const [who, leads] = await withOrgScript(a.orgId, [
      "select current_user as role, current_setting('app.org_id') as org_id",
      `select id from leads where id = any(array[${sqlLiteral(leadA.id)}, ${sqlLiteral(leadB.id)}]::uuid[])`,
    ]);
    expect(who).to.deep.equal([{ role: config.databaseAppRole, org_id: a.orgId }]);
    expect(leads.map((r) => r.id)).to.deep.equal([leadA.id]);
    // An update aimed at another org's row changes nothing.
    const [updated] = await withOrgScript(a.orgId, [
      `update leads set first_name = ${sqlLiteral("x'); drop table leads; --")} where id = ${sqlLiteral(leadB.id)} returning id`,
    ]);
    expect(updated).to.deep.equal([]);
    const nameB = await withOrg(b.orgId, async (db) => (await db('leads').where({ id: leadB.id }).first<{ first_name: string }>('first_name'))!.first_name);
    expect(nameB).to.equal("O'Brien");
  });

  it('rolls back every statement when one fails, and leaves the connection usable', async () => {
    const a = await createTestOrg();
    const lead = await createTestLead(a.orgId, { first_name: 'Before' });
    let failure: unknown;
    await withOrgScript(a.orgId, [`update leads set first_name = 'After' where id = ${sqlLiteral(lead.id)}`, 'select 1 / 0']).catch((err: unknown) => {
      failure = err;
    });
    expect((failure as Error | undefined)?.message).to.match(/division by zero/);
    const [rows] = await withOrgScript(a.orgId, [`select first_name from leads where id = ${sqlLiteral(lead.id)}`]);
    expect(rows).to.deep.equal([{ first_name: 'Before' }]);
  });

  it('refuses an org id that is not a uuid', async () => {
    let failure: unknown;
    await withOrgScript("x'; select 1; --", ['select 1']).catch((err: unknown) => {
      failure = err;
    });
    expect(failure).to.be.instanceOf(Error);
  });
});
