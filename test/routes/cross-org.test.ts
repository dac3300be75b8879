// Every admin route, read from the routers themselves: org B's ids through org
// A's session answer 404, exactly like a missing id, and change nothing in B.
// A route added later is covered automatically; a parameter that
// test/support/route-walk.ts cannot map fails loudly — add it to PARAM_FIXTURES there.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { tenantTables } from '../../src/db/tenancy.js';
import { adminRoutes, routeUrl, seedRouteFixtures, type Fixture } from '../support/route-walk.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { createTestLead, createTestOrg } from '../support/factories.js';

async function snapshot(orgId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [...(await tenantTables()), 'organizations']) {
    const column = table === 'organizations' ? 'id' : 'org_id';
    const { rows } = await getDb().raw<{ rows: { n: number; digest: string | null }[] }>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ?? t where ?? = ?`,
      [table, column, orgId],
    );
    out[table] = `${rows[0].n}:${rows[0].digest}`;
  }
  return out;
}

async function seedOrgB(): Promise<{ orgId: string; fx: Fixture }> {
  const org = await createTestOrg({ plan: 'pro' });
  return { orgId: org.orgId, fx: await seedRouteFixtures(org) };
}

/** A body plausible for most forms, so a route that validated before loading would not hide a leak behind a 422. */
const PLAUSIBLE_BODY = {
  amount: '1.00',
  method: 'cash',
  status: 'completed',
  stage: 'won',
  reason: 'x',
  approver_name: 'Mallory',
  role: 'staff',
  first_name: 'Mallory',
  title: 'x',
  service_type: 'x',
  channel: 'sms',
  context: 'general',
  issue_date: '2026-11-01',
  due_date: '2026-11-02',
  lifetime: '30',
  paused: '1',
  address: '3 Mallory Row',
  to: 'proposal',
  autopay: 'on',
};

describe('cross-org access to every admin route', () => {
  it('maps every route parameter to a fixture (fails loudly for new, unmapped params)', () => {
    const fx: Fixture = {
      lead: 'L',
      proposal: 'P',
      job: 'J',
      invoice: 'I',
      payment: 'Y',
      portalLink: 'K',
      delivery: 'D',
      invitation: 'V',
      member: 'M',
      property: 'R',
      workRequest: 'W',
      requestPhoto: 'F',
    };
    const routes = adminRoutes();
    expect(routes.length).to.be.greaterThan(20);
    for (const route of routes) routeUrl(route.path, fx);
  });

  it('answers 404 for org B’s ids through org A’s session and changes nothing in org B', async function () {
    this.timeout(120_000);
    const orgA = await createTestOrg({ plan: 'pro' });
    await createTestLead(orgA.orgId);
    const { orgId: orgB, fx } = await seedOrgB();
    const agent = await loginAgent(orgA.email, orgA.password);
    const before = await snapshot(orgB);
    const checked: string[] = [];
    for (const route of adminRoutes()) {
      if (!route.path.includes(':')) continue;
      const url = routeUrl(route.path, fx);
      for (const method of route.methods) {
        const csrf = csrfFrom((await agent.get('/customers/new')).text);
        const req =
          method === 'get'
            ? agent.get(url)
            : agent[method as 'post' | 'put' | 'patch' | 'delete'](url)
                .type('form')
                .send({ _csrf: csrf, ...PLAUSIBLE_BODY });
        const res = await req;
        expect(res.status, `${method.toUpperCase()} ${route.path}`).to.equal(404);
        checked.push(`${method.toUpperCase()} ${route.path}`);
      }
    }
    // Ids passed in the query string are checked the same way.
    for (const url of [`/proposals/new?leadId=${fx.lead}`, `/jobs/new?leadId=${fx.lead}`, `/invoices/new?leadId=${fx.lead}`]) {
      expect((await agent.get(url)).status, url).to.equal(404);
    }
    expect(checked.length).to.be.greaterThan(15);
    expect(await snapshot(orgB)).to.deep.equal(before);

    // The same ids that exist nowhere also answer 404, so B's ids look exactly like missing ones.
    const missing = await agent.get('/customers/00000000-0000-4000-8000-000000000000');
    expect(missing.status).to.equal(404);
  });
});
