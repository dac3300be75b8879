// Every action a plan gates, tried on every plan through HTTP, table-driven from
// the product's rules as DESIGN.md states them — written here, not read from
// src/plans.ts, so a gate dropped (or a plan's rule changed) in the code fails.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import type { PlanId } from '../../src/plans.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { seedCustomerRecords } from '../portal/fixtures.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { connectedOrg, openInvoice, startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';

/** DESIGN.md, "Plans": active portal links, online approval, online payment. */
const PRODUCT_RULES: Record<PlanId, { activeLinks: number | 'unlimited'; approveOnline: boolean; payOnline: boolean }> = {
  free: { activeLinks: 10, approveOnline: false, payOnline: false },
  starter: { activeLinks: 'unlimited', approveOnline: true, payOnline: true },
  pro: { activeLinks: 'unlimited', approveOnline: true, payOnline: true },
};
const PLANS = Object.keys(PRODUCT_RULES) as PlanId[];

const app = () => supertest(testApp());
const count = async (table: string, where: Record<string, string>) =>
  Number((await getDb()(table).where(where).count<{ n: string }[]>('* as n'))[0].n);

async function pendingProposal(org: TestOrg) {
  const lead = await createTestLead(org.orgId);
  const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
  const link = await linkFor(org.orgId, lead.id);
  const proposalId = records.pendingProposalIds[0];
  const page = `/p/${link.token}/proposals/${proposalId}`;
  return { proposalId, page, formToken: portalFormToken(link.id) };
}

describe('plan gates: every gated action on every plan', () => {
  let standIn: StripeConnectStandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));
  beforeEach(resetPortalMisses);

  for (const plan of PLANS) {
    const rules = PRODUCT_RULES[plan];

    it(`${plan}: a customer ${rules.approveOnline ? 'can' : 'cannot'} approve a proposal in the portal`, async () => {
      const org = await createTestOrg({ plan });
      const { proposalId, page, formToken } = await pendingProposal(org);
      const view = await app().get(page);
      expect(view.status).to.equal(200);
      expect(view.text.includes('/approve"'), 'approval form shown').to.equal(rules.approveOnline);
      const contentSha256 = /name="contentSha256" value="([0-9a-f]{64})"/.exec(view.text)?.[1] ?? '';
      const res = await app()
        .post(`${page}/approve`)
        .type('form')
        .send({ _csrf: formToken, contentSha256, approverName: 'Pat Customer', agree: 'yes' });
      const row = await getDb()('proposals').where({ id: proposalId }).first<{ status: string }>('status');
      if (rules.approveOnline) {
        expect(res.status).to.equal(303);
        expect(row.status).to.equal('approved');
        expect(await count('jobs', { proposal_id: proposalId })).to.equal(1);
      } else {
        expect(res.status).to.equal(403);
        expect(row.status).to.equal('pending');
        expect(await count('jobs', { proposal_id: proposalId })).to.equal(0);
      }
    });

    it(`${plan}: a customer ${rules.approveOnline ? 'can' : 'cannot'} decline a proposal in the portal`, async () => {
      const org = await createTestOrg({ plan });
      const { proposalId, page, formToken } = await pendingProposal(org);
      const view = await app().get(page);
      expect(view.text.includes('/reject"'), 'decline form shown').to.equal(rules.approveOnline);
      const res = await app().post(`${page}/reject`).type('form').send({ _csrf: formToken, reason: 'Too dear' });
      const row = await getDb()('proposals').where({ id: proposalId }).first<{ status: string }>('status');
      expect(res.status).to.equal(rules.approveOnline ? 303 : 403);
      expect(row.status).to.equal(rules.approveOnline ? 'rejected' : 'pending');
    });

    it(`${plan}: a customer ${rules.payOnline ? 'can' : 'cannot'} pay an invoice online (Stripe connected)`, async () => {
      const org = await connectedOrg(standIn, { plan });
      const invoiceId = await openInvoice(org.orgId, org.leadId, 10_000);
      const link = await linkFor(org.orgId, org.leadId);
      const page = `/p/${link.token}/invoices/${invoiceId}`;
      const view = await app().get(page);
      expect(view.text.includes('/pay"'), 'pay form shown').to.equal(rules.payOnline);
      const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
      const res = await app()
        .post(`${page}/pay`)
        .type('form')
        .send({ _csrf: portalFormToken(link.id), amount: '100.00' });
      const sessions = await count('checkout_sessions', { invoice_id: invoiceId });
      const calls = standIn.requestsTo('POST', '/v1/checkout/sessions').length - before;
      if (rules.payOnline) {
        expect(res.status).to.equal(303);
        expect(sessions).to.equal(1);
        expect(calls).to.equal(1);
      } else {
        expect(res.status).to.equal(403);
        expect(sessions).to.equal(0);
        expect(calls).to.equal(0);
      }
    });

    it(`${plan}: active portal links are ${rules.activeLinks === 'unlimited' ? 'unlimited' : `limited to ${rules.activeLinks}`}; regenerating at the limit still works`, async function () {
      this.timeout(60_000);
      const org = await createTestOrg({ plan });
      const agent = await loginAgent(org.email, org.password);
      const tries = rules.activeLinks === 'unlimited' ? 12 : rules.activeLinks + 1;
      const statuses: number[] = [];
      const leads: string[] = [];
      for (let i = 0; i < tries; i += 1) {
        const lead = await createTestLead(org.orgId);
        leads.push(lead.id);
        statuses.push((await agent.post(`/customers/${lead.id}/portal-link`).type('form').send({ _csrf: agent.csrf })).status);
      }
      const active = () => getDb()('portal_links').where({ org_id: org.orgId }).whereNull('revoked_at').count<{ n: string }[]>('* as n');
      if (rules.activeLinks === 'unlimited') {
        expect(statuses).to.deep.equal(Array<number>(tries).fill(303));
        expect(Number((await active())[0].n)).to.equal(tries);
      } else {
        expect(statuses).to.deep.equal([...Array<number>(rules.activeLinks).fill(303), 409]);
        expect(Number((await active())[0].n)).to.equal(rules.activeLinks);
      }
      // Regenerate = revoke + new: allowed even with every slot in use.
      const regen = await agent.post(`/customers/${leads[0]}/portal-link/regenerate`).type('form').send({ _csrf: agent.csrf });
      expect(regen.status).to.equal(303);
    });
  }
});
