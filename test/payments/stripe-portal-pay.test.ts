import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { testApp } from '../support/http.js';
import { linkFor } from '../portal/support.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import {
  connectedOrg,
  countRows,
  deliver,
  invoiceState,
  openInvoice,
  startStandIn,
  stopStandIn,
  type ConnectedOrg,
} from './stripe-fixtures.js';

function formToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1];
}

async function portalInvoice(org: ConnectedOrg, totalCents = 10_000) {
  const invoiceId = await openInvoice(org.orgId, org.leadId, totalCents);
  const { token } = await linkFor(org.orgId, org.leadId);
  return { invoiceId, token, page: `/p/${token}/invoices/${invoiceId}` };
}

describe('Pay button in the customer portal', () => {
  let standIn: StripeConnectStandIn;
  const app = () => supertest(testApp());

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('shows Pay on an open invoice when the plan allows it and the account can take charges', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const { page } = await portalInvoice(org);
    const res = await app().get(page);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Pay with card');
    expect(res.text).to.contain('name="amount"');
    expect(res.text).to.contain('value="100.00"');
  });

  it('no Pay button on the Free plan, for an account that cannot take charges, or without an account', async () => {
    const free = await connectedOrg(standIn, { plan: 'free' });
    const blocked = await connectedOrg(standIn, { plan: 'pro', chargesEnabled: false });
    for (const org of [free, blocked]) {
      const { page } = await portalInvoice(org);
      const res = await app().get(page);
      expect(res.status).to.equal(200);
      expect(res.text).not.to.contain('Pay with card');
      expect(res.text).to.contain('Balance due');
    }
    const none = await connectedOrg(standIn, { plan: 'pro' });
    await withOrg(none.orgId, (db) =>
      db('organizations').where({ id: none.orgId }).update({ stripe_account_id: null, stripe_charges_enabled: false }),
    );
    const { page } = await portalInvoice(none);
    expect((await app().get(page)).text).not.to.contain('Pay with card');
  });

  it('a forged POST for a plan without online payment is refused and creates nothing', async () => {
    const free = await connectedOrg(standIn, { plan: 'free' });
    const { page, token } = await portalInvoice(free);
    const { portalFormToken, hashPortalToken } = await import('../../src/portal-links/token.js');
    const link = await withOrg(free.orgId, (db) =>
      db('portal_links')
        .where({ token_sha256: hashPortalToken(token) })
        .first<{ id: string }>('id'),
    );
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    const res = await app()
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(link.id), amount: '' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('does not take online payments');
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
    expect(await countRows(free.orgId, 'checkout_sessions')).to.equal(0);
  });

  it('Pay → Checkout (303 to Stripe), back → "processing", webhook → paid', async () => {
    const org = await connectedOrg(standIn, { plan: 'pro' });
    const { invoiceId, page } = await portalInvoice(org, 15_000);
    const html = (await app().get(page)).text;
    const res = await app()
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: formToken(html), amount: '' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.match(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const sessionId = res.headers.location.split('/').at(-1)!;
    const session = standIn.session(org.accountId, sessionId);
    expect(session.amount_total).to.equal(15_000);
    expect(session.success_url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/return\/[A-Za-z0-9_-]{43}$/);

    // The customer pays and Stripe sends them back; the webhook hasn't arrived yet.
    const paid = standIn.completeCheckout(org.accountId, sessionId);
    const back = await app().get(new URL(session.success_url).pathname);
    expect(back.status).to.equal(303);
    expect(back.headers.location).to.equal(`${config.publicUrl}${page}?result=paid`);
    const processing = await app().get(`${page}?result=paid`);
    expect(processing.text).to.contain('Payment processing');
    expect(processing.text).not.to.contain('Payment received');
    expect(processing.text).not.to.contain('Pay with card');

    // The webhook records it; the page the customer came back to, reloaded, says so.
    await deliver(standIn.event('checkout.session.completed', paid.session, org.accountId));
    const done = await app().get(`${page}?result=paid`);
    expect(done.text).not.to.contain('Payment processing');
    expect(done.text).to.contain('Payment received.</strong> Thank you! This invoice is now paid in full.');
    expect(done.text).not.to.contain('Pay with card');
    expect((await invoiceState(org.orgId, invoiceId)).status).to.equal('paid');
  });

  it('leads the invoice page with the balance and Pay, and offers Pay from the invoice list for the whole balance', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const { invoiceId, token, page } = await portalInvoice(org, 24_000);
    const paidId = await openInvoice(org.orgId, org.leadId, 5_000);
    await withOrg(org.orgId, (db) => db('invoices').where({ id: paidId }).update({ status: 'paid', amount_paid_cents: 5_000 }));

    // The invoice page: the balance and its Pay button come before the line items.
    const html = (await app().get(page)).text;
    const top = html.indexOf('>Pay $240.00<');
    expect(top, 'Pay with the amount').to.be.greaterThan(-1);
    expect(html.indexOf('Balance due')).to.be.lessThan(top);
    expect(top).to.be.lessThan(html.indexOf('items-heading'));

    // The list: a Pay button on the payable invoice only, naming its balance.
    const list = (await app().get(`/p/${token}/invoices`)).text;
    // Every form but the header's language switch.
    const forms = [...list.matchAll(/<form method="post" action="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((action) => !action.endsWith('/language'));
    expect(forms).to.deep.equal([`/p/${token}/invoices/${invoiceId}/pay`]);
    expect(list).to.contain('Pay $240.00<span class="visually-hidden"> on invoice #');
    const res = await app()
      .post(forms[0])
      .type('form')
      .send({ _csrf: formToken(list) });
    expect(res.status).to.equal(303);
    const session = standIn.session(org.accountId, res.headers.location.split('/').at(-1)!);
    expect(session.amount_total).to.equal(24_000);

    // No Pay in the list when the business can't take card payments.
    await withOrg(org.orgId, (db) => db('organizations').where({ id: org.orgId }).update({ stripe_charges_enabled: false }));
    expect((await app().get(`/p/${token}/invoices`)).text).not.to.contain('/pay"');
  });

  it('a partial amount; above the balance or below the minimum → 422 with a message, nothing created', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const { invoiceId, page } = await portalInvoice(org, 10_000);
    const csrf = formToken((await app().get(page)).text);
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    const over = await app().post(`${page}/pay`).type('form').send({ _csrf: csrf, amount: '150.00' });
    expect(over.status).to.equal(422);
    expect(over.text).to.contain('more than the $100.00 due');
    expect(over.text).to.contain('value="150.00"');
    const under = await app().post(`${page}/pay`).type('form').send({ _csrf: csrf, amount: '0.50' });
    expect(under.status).to.equal(422);
    expect(under.text).to.contain('smallest online payment is $1.00');
    // The page comes back at the amount to fix, not at its top with the error a screen below.
    expect(under.text).to.match(/id="pay-amount"[^>]*aria-invalid="true"[^>]*autofocus/);
    // A decimal comma is refused, not read as a hundred times the amount.
    const comma = await app().post(`${page}/pay`).type('form').send({ _csrf: csrf, amount: '1,50' });
    expect(comma.status).to.equal(422);
    expect(comma.text).to.contain('value="1,50"');
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
    expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(0);

    const partial = await app().post(`${page}/pay`).type('form').send({ _csrf: csrf, amount: '25.00' });
    expect(partial.status).to.equal(303);
    const sessionId = partial.headers.location.split('/').at(-1)!;
    const paid = standIn.completeCheckout(org.accountId, sessionId);
    await deliver(standIn.event('checkout.session.completed', paid.session, org.accountId));
    expect(await invoiceState(org.orgId, invoiceId)).to.deep.include({ status: 'partially_paid', amount_paid_cents: 2_500 });
    const after = await app().get(page);
    expect(after.text).to.contain('Pay with card');
    expect(after.text).to.contain('value="75.00"');
  });

  it('refuses a POST without the portal form token', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const { page } = await portalInvoice(org);
    const res = await app().post(`${page}/pay`).type('form').send({ amount: '' });
    expect(res.status).to.equal(403);
    expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(0);
  });

  it('another customer’s invoice through my link is the plain 404', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const mine = await portalInvoice(org);
    const { createTestLead } = await import('../support/factories.js');
    const otherLead = await createTestLead(org.orgId);
    const theirs = await openInvoice(org.orgId, otherLead.id);
    const csrf = formToken((await app().get(mine.page)).text);
    const res = await app().post(`/p/${mine.token}/invoices/${theirs}/pay`).type('form').send({ _csrf: csrf, amount: '' });
    expect(res.status).to.equal(404);
    expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(0);
  });
});
