import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { loginAgent } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { connectedOrg, deliver, openInvoice, startCheckout, startStandIn, stopStandIn } from './stripe-fixtures.js';

describe('Stripe payments on the dashboard', () => {
  let standIn: StripeConnectStandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('shows each payment’s source and its Stripe ids', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const invoiceId = await openInvoice(org.orgId, org.leadId, 6_000);
    const sessionId = await startCheckout(org, invoiceId);
    const { session, paymentIntent, charge } = standIn.completeCheckout(org.accountId, sessionId);
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    const payment = await withOrg(org.orgId, (db) => db('payments').where({ invoice_id: invoiceId }).first<{ id: string }>('id'));
    const agent = await loginAgent(org.email, org.password);
    const show = await agent.get(`/payments/${payment.id}`);
    expect(show.status).to.equal(200);
    expect(show.text).to.contain('Stripe (online)');
    for (const id of [paymentIntent.id, sessionId, charge!.id]) expect(show.text).to.contain(id);
    const list = await agent.get('/payments');
    expect(list.status).to.equal(200);
    expect(list.text).to.contain(paymentIntent.id);
    const settings = await agent.get('/settings/payments');
    expect(settings.text).to.contain(paymentIntent.id);
  });
});
