// Route tests for what the issue-13 story test (documents-story-browser) found
// when the points built in parallel met: the deposit shown before approval follows
// the customer's choice of lines, and a deposit paid before any invoice has a
// receipt PDF (from the proposal page, the payment's own URL and the dashboard).
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import type { ProposalRow } from '../../src/db/rows.js';
import { insertStripeDeposit } from '../../src/db/sql/deposits.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { OPTION_ROWS } from '../proposals/options-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

const getPdf = (agent: supertest.Agent | ReturnType<typeof app>, path: string) => agent.get(path).buffer(true).parse(binary);

async function pdfText(buf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    return (await parser.getText({ pageJoiner: '' })).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

function formToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

const actorOf = (org: TestOrg): Actor => ({ type: 'user', userId: org.userId, label: org.email });

/** The options proposal (8.25 % tax; preselected total 1,353.13) asking the given deposit. */
async function optionsProposal(org: TestOrg, leadId: string, deposit: Record<string, string>): Promise<ProposalRow> {
  return withOrg(org.orgId, async (db) => {
    const input = parseForm(proposalFormSchema('USD'), {
      lead_id: leadId,
      title: 'New gutters',
      tax_rate: '8.25',
      items: OPTION_ROWS,
      ...deposit,
    });
    const created = await createProposal(db, input, actorOf(org), 'USD');
    return (await markProposalSent(db, created.id, actorOf(org))).proposal;
  });
}

const itemId = async (org: TestOrg, proposalId: string, service: string) =>
  withOrg(org.orgId, async (db) => (await db('proposal_items').where({ proposal_id: proposalId, service }).first<{ id: string }>('id')).id);

const depositNote = (html: string) => /<p class="deposit-note"[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';

describe('issue 13 together: the deposit of the chosen lines, and its receipt', () => {
  beforeEach(resetPortalMisses);

  describe('the deposit shown before approval', () => {
    it('a percentage: the page carries the rule for the live total, and "Update total" shows the deposit of the picks', async () => {
      const org = await createTestOrg({ plan: 'starter' });
      const lead = await createTestLead(org.orgId);
      const proposal = await optionsProposal(org, lead.id, { deposit_kind: 'percent', deposit_percent: '25' });
      const { token } = await linkFor(org.orgId, lead.id);
      const page = `/p/${token}/proposals/${proposal.id}`;
      const view = await app().get(page);
      // 25 % of the preselected 1,353.13 = 338.28.
      expect(depositNote(view.text)).to.contain(
        '<p class="deposit-note" data-choice-deposit data-percent-bps="2500">A deposit of <strong>$338.28</strong>',
      );

      // Best + gutter guards, no downspouts: 3,600.00 + 297.00 tax = 3,897.00; 25 % = 974.25.
      const res = await app()
        .post(`${page}/choose`)
        .type('form')
        .send({
          _csrf: formToken(view.text),
          'alt[0]': await itemId(org, proposal.id, 'Copper gutters'),
          option: await itemId(org, proposal.id, 'Gutter guards'),
        });
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('Approve $3,897.00');
      expect(depositNote(res.text)).to.contain('A deposit of <strong>$974.25</strong> (25%) is due on approval');
      expect(res.text, 'and at the top, beside Approve').to.match(
        /<p class="summary-deposit" [^>]*>Deposit due on approval: <strong>\$974.25<\/strong><\/p>/,
      );
      // Showing it wrote nothing.
      const row = await withOrg(org.orgId, (db) => db('proposals').where({ id: proposal.id }).first<ProposalRow>());
      expect(row.deposit_cents).to.equal(null);
    });

    it('a fixed amount: the page carries the amount, unchanged by the picks', async () => {
      const org = await createTestOrg({ plan: 'starter' });
      const lead = await createTestLead(org.orgId);
      const proposal = await optionsProposal(org, lead.id, { deposit_kind: 'amount', deposit_amount: '300' });
      const { token } = await linkFor(org.orgId, lead.id);
      const view = await app().get(`/p/${token}/proposals/${proposal.id}`);
      expect(depositNote(view.text)).to.contain(
        '<p class="deposit-note" data-choice-deposit data-deposit-cents="30000">A deposit of <strong>$300.00</strong>',
      );
    });
  });

  describe('the receipt of a deposit paid before any invoice', () => {
    let org: TestOrg;
    let token: string;
    let proposal: ProposalRow;
    let paymentId: string;

    before(async () => {
      org = await createTestOrg({ plan: 'starter' });
      const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Owner' });
      proposal = await optionsProposal(org, lead.id, { deposit_kind: 'percent', deposit_percent: '25' });
      token = (await linkFor(org.orgId, lead.id)).token;
      paymentId = await withOrg(org.orgId, async (db) => {
        const approved = await approveProposal(db, proposal.id, { source: 'staff', approverName: 'Pat Owner' }, actorOf(org));
        const id = await insertStripeDeposit(db, org.orgId, {
          lead_id: lead.id,
          proposal_id: proposal.id,
          invoice_id: null,
          amount_cents: Number(approved.proposal.deposit_cents),
          currency: 'USD',
          created: Math.floor(Date.now() / 1000),
          payment_intent: `pi_story_${proposal.id.slice(0, 8)}`,
          checkout_session: null,
          charge: null,
        });
        return id!;
      });
    });

    it('the proposal page links it, and it names the proposal and the amount paid', async () => {
      const view = await app().get(`/p/${token}/proposals/${proposal.id}`);
      expect(view.text).to.contain('Deposit of $338.28 paid');
      expect(view.text).to.contain(`href="/p/${token}/proposals/${proposal.id}/deposit-receipt/pdf" download>Deposit receipt (PDF)</a>`);

      const res = await getPdf(app(), `/p/${token}/proposals/${proposal.id}/deposit-receipt/pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/pdf');
      expect(res.headers['cache-control']).to.equal('no-store');
      const text = await pdfText(res.body as Buffer);
      expect(text).to.contain(`Deposit receipt — proposal #${proposal.number}`);
      expect(text).to.contain(`Deposit payment on proposal #${proposal.number}`);
      expect(text).to.contain('Received from Pat Owner');
      expect(text).to.contain('Amount paid $338.28');
    });

    it('the payment’s own receipt URL serves it in the portal and the dashboard', async () => {
      const portal = await getPdf(app(), `/p/${token}/payments/${paymentId}/pdf`);
      expect(portal.status).to.equal(200);
      expect(await pdfText(portal.body as Buffer)).to.contain('Amount paid $338.28');
      const agent = await loginAgent(org.email, org.password);
      const dashboard = await getPdf(agent, `/payments/${paymentId}/pdf`);
      expect(dashboard.status).to.equal(200);
      expect(await pdfText(dashboard.body as Buffer)).to.contain(`proposal #${proposal.number}`);
    });

    it('no deposit paid, another customer and another org get the plain 404', async () => {
      const unpaid = await optionsProposal(org, (await createTestLead(org.orgId)).id, { deposit_kind: 'percent', deposit_percent: '25' });
      const other = await createTestLead(org.orgId);
      const otherToken = (await linkFor(org.orgId, other.id)).token;
      const otherOrg = await createTestOrg();
      const otherOrgToken = (await linkFor(otherOrg.orgId, (await createTestLead(otherOrg.orgId)).id)).token;
      for (const path of [
        `/p/${token}/proposals/${unpaid.id}/deposit-receipt/pdf`,
        `/p/${otherToken}/proposals/${proposal.id}/deposit-receipt/pdf`,
        `/p/${otherToken}/payments/${paymentId}/pdf`,
        `/p/${otherOrgToken}/proposals/${proposal.id}/deposit-receipt/pdf`,
        `/p/${token}/proposals/not-a-uuid/deposit-receipt/pdf`,
      ]) {
        const res = await app().get(path);
        expect(res.status, path).to.equal(404);
        expect(res.headers['cache-control'], path).to.equal('no-store');
      }
      const agent = await loginAgent(otherOrg.email, otherOrg.password);
      expect((await agent.get(`/payments/${paymentId}/pdf`)).status).to.equal(404);
    });
  });
});
