import { expect } from 'chai';
import type { Actor } from '../../src/db/audit.js';
import { withOrg } from '../../src/db/tenancy.js';
import { loadHome } from '../../src/dashboard/queries.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { parseForm } from '../../src/lib/forms.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { createJob } from '../../src/jobs/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent } from '../support/http.js';
import { invoiceForm } from '../support/forms.js';

describe('home', () => {
  it('sums pending proposals and the unpaid balance and lists upcoming jobs and recent payments, for this org only', async () => {
    const org = await createTestOrg();
    const other = await createTestOrg();
    const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
    const lead = await createTestLead(org.orgId, { first_name: 'Hollis' });
    const otherLead = await createTestLead(other.orgId);

    await withOrg(org.orgId, async (db) => {
      const proposal = await createProposal(
        db,
        parseForm(proposalFormSchema('USD'), {
          lead_id: lead.id,
          title: 'Roof vents',
          tax_rate: '',
          items: [{ service: 'Vent', quantity: '2', unit_price: '120.00' }],
        }),
        actor,
      );
      await markProposalSent(db, proposal.id, actor);
      const invoice = await createInvoice(db, invoiceForm(lead.id), 'USD', actor); // 2 × $150
      await issueInvoice(db, invoice.id, actor);
      await recordPayment(db, { invoiceId: invoice.id, amountCents: 10_000, method: 'cash' }, actor);
      await createJob(
        db,
        parseForm(jobFormSchema, { lead_id: lead.id, service_type: 'Vent install', scheduled_date: '2099-01-05', scheduled_time: '09:00' }),
        'UTC',
        actor,
      );
    });
    // Another org's money must not leak into these figures.
    await withOrg(other.orgId, async (db) => {
      const invoice = await createInvoice(db, invoiceForm(otherLead.id), 'USD', { type: 'user', userId: other.userId });
      await issueInvoice(db, invoice.id, { type: 'user', userId: other.userId });
    });

    const home = await withOrg(org.orgId, (db) => loadHome(db));
    expect(home.pendingCount).to.equal(1);
    expect(home.pendingTotalCents).to.equal(24_000);
    expect(home.unpaidBalanceCents).to.equal(20_000);
    // The unpaid-invoices card lists each with what is still owed on it.
    expect(home.unpaidInvoices.map((i) => i.owed_cents)).to.deep.equal([20_000]);
    expect(home.upcomingJobs.map((j) => j.service_type)).to.deep.equal(['Vent install']);
    expect(home.recentPayments.map((p) => Number(p.amount_cents))).to.deep.equal([10_000]);

    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Roof vents');
    expect(page.text).to.contain('$200.00');
    expect(page.text).to.contain('Vent install');
  });
});
