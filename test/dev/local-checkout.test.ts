// Development without Stripe keys: Connect works at once against the in-process
// stand-in, Pay leads to a local page that looks like a checkout, and paying
// there records the payment through the real, signature-checked webhook.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import supertest from 'supertest';
import { config, parseConfig } from '../../src/config.js';
import { startLocalStripe, stopLocalStripe } from '../../src/dev/local-stripe.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { linkFor } from '../portal/support.js';
import { openInvoice } from '../payments/stripe-fixtures.js';

describe('local test checkout (npm run dev without Stripe keys)', () => {
  let server: Server;
  let base: string;
  let standIn: StripeConnectStandIn;

  before(async () => {
    server = testApp().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    standIn = await startLocalStripe(base);
  });

  after(async () => {
    await stopLocalStripe();
    await new Promise((resolve) => server.close(resolve));
  });

  it('connects in one step, and paying on the local checkout page records the payment through the signed webhook', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Local Test Roofing' });
    const owner = await loginAgent(org.email, org.password);
    const settings = await owner.get('/settings/payments');
    expect(settings.text).to.contain('local test checkout');
    const connect = await owner
      .post('/settings/payments/connect')
      .type('form')
      .send({ _csrf: csrfFrom(settings.text) });
    expect(connect.status).to.equal(303);
    expect(connect.headers.location).to.match(/\/settings\/payments\/connect\/return$/);
    const back = await owner.get('/settings/payments/connect/return');
    expect(back.status).to.equal(303);
    const ready = await owner.get('/settings/payments');
    expect(ready.text).to.contain('Ready to accept payments');

    const lead = await createTestLead(org.orgId);
    const invoiceId = await openInvoice(org.orgId, lead.id, 12_345);
    const { token } = await linkFor(org.orgId, lead.id);
    const customer = supertest.agent(base);
    const page = `/p/${token}/invoices/${invoiceId}`;
    const invoicePage = await customer.get(page);
    const pay = await customer
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: csrfFrom(invoicePage.text), amount: '' });
    expect(pay.status).to.equal(303);
    expect(pay.headers.location).to.match(new RegExp(`^${base}/dev/checkout/cs_`));
    const checkoutPath = new URL(pay.headers.location).pathname;

    const checkout = await customer.get(checkoutPath);
    expect(checkout.status).to.equal(200);
    expect(checkout.text).to.contain('Test checkout');
    expect(checkout.text).to.contain('Local Test Roofing');
    expect(checkout.text).to.contain('Pay $123.45');
    expect(checkout.headers['content-security-policy']).to.be.a('string');

    const paid = await customer
      .post(checkoutPath)
      .type('form')
      .send({ _csrf: csrfFrom(checkout.text) });
    expect(paid.status).to.equal(303);
    expect(paid.headers.location).to.match(/\/return\/[A-Za-z0-9_-]{43}$/);

    const state = await withOrg(org.orgId, async (db) => ({
      invoice: await db('invoices').where({ id: invoiceId }).first<{ status: string; amount_paid_cents: string }>(),
      payments: await db('payments').where({ invoice_id: invoiceId }).select<{ source: string; amount_cents: string }[]>(),
      events: await db('stripe_events').select<{ type: string }[]>('type'),
    }));
    expect(state.invoice.status).to.equal('paid');
    expect(state.payments.map((p) => [p.source, Number(p.amount_cents)])).to.deep.equal([['stripe', 12_345]]);
    // Recorded by the webhook handler (it keeps each event it applied), not written directly.
    expect(state.events.map((e) => e.type)).to.deep.equal(['checkout.session.completed']);

    // The page is spent: paying again changes nothing.
    const again = await customer
      .post(checkoutPath)
      .type('form')
      .send({ _csrf: csrfFrom(checkout.text) });
    expect(again.status).to.equal(409);
    const payments = await withOrg(org.orgId, (db) => db('payments').where({ invoice_id: invoiceId }).count<{ count: string }[]>());
    expect(Number(payments[0].count)).to.equal(1);
    expect(standIn.findSession(checkoutPath.split('/').at(-1)!)?.session.status).to.equal('complete');
  });

  it('is impossible in production: configuration never asks for it, it refuses to start, and the page is not served', async () => {
    const production = parseConfig({
      NODE_ENV: 'production',
      APP_SECRET: 'x'.repeat(40),
      PUBLIC_URL: 'https://app.example.test',
      DATABASE_URL: 'postgres://u@db/p',
      REDIS_URL: 'redis://r:6379',
    });
    expect(production.stripe.localTestCheckout).to.equal(false);
    expect(parseConfig({ NODE_ENV: 'development' }).stripe.localTestCheckout).to.equal(true);
    expect(parseConfig({ NODE_ENV: 'development', STRIPE_SECRET_KEY: 'sk_test_x' }).stripe.localTestCheckout).to.equal(false);

    const saved = config.isProduction;
    Object.assign(config, { isProduction: true });
    try {
      await stopLocalStripe();
      let refused: unknown;
      await startLocalStripe(base).catch((err: unknown) => (refused = err));
      expect(String(refused)).to.contain('never runs in production');
      // Even with a session id that existed, production serves nothing.
      expect((await supertest(base).get('/dev/checkout/cs_anything')).status).to.equal(404);
    } finally {
      Object.assign(config, { isProduction: saved });
      standIn = await startLocalStripe(base);
    }
  });
});
