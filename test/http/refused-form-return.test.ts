// A dashboard form refused for the state of things (409: already paid, already
// decided, changed meanwhile) sends the user back to the page the form was on,
// with the reason on top and nothing written, rather than to an error page with
// nowhere to go. Without a same-site Referer it stays the 409 page it was.
import { expect } from 'chai';
import type { Actor } from '../../src/db/audit.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import { csrfFrom, loginAgent } from '../support/http.js';

async function paidInvoice() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const invoice = await withOrg(org.orgId, async (db) => {
    const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor);
    await issueInvoice(db, created.id, actor);
    return created;
  });
  const agent = await loginAgent(org.email, org.password);
  // The contractor opens the invoice while it is still open…
  const page = await agent.get(`/invoices/${invoice.id}`);
  // …and it is paid meanwhile (another tab, a colleague, the customer online).
  await withOrg(org.orgId, (db) =>
    recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'cash', sendReceipt: false }, actor),
  );
  return { org, invoice, agent, csrf: csrfFrom(page.text) };
}

const paymentCount = (invoiceId: string) =>
  getDb()('payments')
    .where({ invoice_id: invoiceId })
    .count<{ count: string }[]>('* as count')
    .then(([r]) => Number(r.count));

describe('a dashboard form refused for the state of things', () => {
  it('goes back to the page it came from with the reason, writing nothing', async () => {
    const { invoice, agent, csrf } = await paidInvoice();
    const res = await agent
      .post(`/invoices/${invoice.id}/payments`)
      .set('Referer', `http://127.0.0.1/invoices/${invoice.id}`)
      .set('Host', '127.0.0.1')
      .type('form')
      .send({ _csrf: csrf, amount: '10.00', method: 'cash' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/invoices/${invoice.id}`);
    const back = await agent.get(res.headers.location);
    expect(back.status).to.equal(200);
    expect(back.text).to.contain(`Invoice #${invoice.number} is already paid in full.`);
    expect(back.text).to.match(/class="flash flash-error"/);
    expect(await paymentCount(invoice.id), 'only the payment made meanwhile').to.equal(1);
  });

  it('stays a 409 page without a Referer, or with another site’s', async () => {
    const { invoice, agent, csrf } = await paidInvoice();
    const post = () => agent.post(`/invoices/${invoice.id}/payments`).type('form').send({ _csrf: csrf, amount: '10.00', method: 'cash' });
    const bare = await post();
    expect(bare.status).to.equal(409);
    expect(bare.text).to.contain(`Invoice #${invoice.number} is already paid in full.`);
    const foreign = await post().set('Referer', 'https://evil.example/invoices');
    expect(foreign.status).to.equal(409);
    expect(await paymentCount(invoice.id)).to.equal(1);
  });
});
