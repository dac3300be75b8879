// Stripe never holds a working portal credential: a Checkout Session's return
// and cancel URLs carry one-time codes (a day, bound to the link, dead once it
// is revoked) that bring the customer back to the invoice page.
import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { regeneratePortalLink, revokePortalLink } from '../../src/portal-links/commands.js';
import { testApp } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import type { StandInSession, StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { linkFor } from '../portal/support.js';
import { connectedOrg, countRows, deliver, openInvoice, startStandIn, stopStandIn, type ConnectedOrg } from './stripe-fixtures.js';

const app = () => supertest(testApp());

function formToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1];
}

/** The path of a return URL, which must be /return/<code>. */
function returnPath(url: string | null): string {
  const path = new URL(url ?? '').pathname;
  expect(path).to.match(/^\/return\/[A-Za-z0-9_-]{43}$/);
  return path;
}

describe('the way back from Stripe Checkout', () => {
  let standIn: StripeConnectStandIn;
  let org: ConnectedOrg;

  before(async () => {
    standIn = await startStandIn();
    org = await connectedOrg(standIn, { plan: 'pro' });
  });
  after(async () => stopStandIn(standIn));

  /** The customer opens the invoice and presses Pay: the Checkout Session Stripe now holds. */
  async function pay(amount = ''): Promise<{ invoiceId: string; token: string; linkId: string; page: string; session: StandInSession }> {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 12_000);
    const { token, id: linkId } = await linkFor(org.orgId, org.leadId);
    const page = `/p/${token}/invoices/${invoiceId}`;
    const res = await app()
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: formToken((await app().get(page)).text), amount });
    expect(res.status).to.equal(303);
    const session = standIn.session(org.accountId, String(res.headers.location).split('/').at(-1)!);
    return { invoiceId, token, linkId, page, session };
  }

  it('gives Stripe no portal token: success and cancel URLs are two different one-time codes', async () => {
    const { token, session } = await pay();
    const sent = JSON.stringify(standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1));
    expect(sent).not.to.contain(token);
    expect(returnPath(session.success_url)).not.to.equal(returnPath(session.cancel_url));
  });

  it('paid: the code brings the customer back to the invoice, which says "processing"; it works once', async () => {
    const { page, session } = await pay();
    standIn.completeCheckout(org.accountId, session.id);
    const back = await app().get(returnPath(session.success_url));
    expect(back.status).to.equal(303);
    expect(back.headers.location).to.equal(`${config.publicUrl}${page}?result=paid`);
    expect(back.headers['cache-control']).to.equal('no-store');
    expect(back.headers['referrer-policy']).to.equal('no-referrer');
    const shown = (await app().get(`${page}?result=paid`)).text;
    expect(shown).to.contain('Payment processing');
    expect(shown).not.to.contain('Payment received');

    const again = await app().get(returnPath(session.success_url));
    expect(again.status).to.equal(410);
    expect(again.headers.location).to.equal(undefined);
    expect(again.text).to.contain('was already used');
    expect(again.text).to.contain('open the private link the business sent you');
  });

  it('paid and already recorded: the invoice says the payment was received, and what is left to pay', async () => {
    for (const [amount, says] of [
      ['', 'This invoice is now paid in full.'],
      ['50.00', '$70.00 is left to pay on this invoice.'],
    ]) {
      const { page, session } = await pay(amount);
      const { session: completed } = standIn.completeCheckout(org.accountId, session.id);
      // The signed event got here before the customer did.
      expect((await deliver(standIn.event('checkout.session.completed', completed, org.accountId))).status).to.equal(200);
      const back = await app().get(returnPath(session.success_url));
      expect(back.headers.location).to.equal(`${config.publicUrl}${page}?result=paid`);
      const html = (await app().get(`${page}?result=paid`)).text;
      expect(html).to.match(/<p class="flash flash-success" role="status"><strong>Payment received\.<\/strong> Thank you! /);
      expect(html).to.contain(says);
      expect(html).not.to.contain('Payment processing');
      // The same page opened from the link again says nothing about a payment of this visit.
      expect((await app().get(page)).text).not.to.contain('Payment received');
    }
  });

  it('cancelled: the code brings the customer back without "processing"; Pay again makes a new session', async () => {
    const { invoiceId, page, session } = await pay();
    const back = await app().get(returnPath(session.cancel_url));
    expect(back.status).to.equal(303);
    expect(back.headers.location).to.equal(`${config.publicUrl}${page}?result=cancelled`);
    const html = (await app().get(`${page}?result=cancelled`)).text;
    expect(html).not.to.contain('Payment processing');
    expect(html).to.contain('Pay with card');
    // Said plainly, since the customer may wonder whether the card was charged.
    expect(html).to.contain('Payment cancelled: nothing was charged.');
    expect((await app().get(page)).text).not.to.contain('nothing was charged');
    // The cancelled session's way back is used up, so it isn't handed out again.
    const second = await app()
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: formToken(html), amount: '' });
    expect(second.status).to.equal(303);
    expect(String(second.headers.location)).not.to.contain(session.id);
    const rows = await withOrg(org.orgId, (db) =>
      db('checkout_sessions').where({ invoice_id: invoiceId }).count<{ count: string }[]>('* as count'),
    );
    expect(Number(rows[0].count)).to.equal(2);
  });

  it('is useless once the portal link is revoked or replaced, and names no token', async () => {
    const revoked = await pay();
    await withOrg(org.orgId, (db) => revokePortalLink(db, revoked.linkId, { type: 'system', label: 'test' }));
    const back = await app().get(returnPath(revoked.session.success_url));
    expect(back.status).to.equal(410);
    expect(back.text).to.contain('turned off or replaced');
    expect(back.text).not.to.contain(revoked.token);

    const replaced = await pay();
    const fresh = await withOrg(org.orgId, (db) => regeneratePortalLink(db, org.leadId, { type: 'system', label: 'test' }));
    const old = await app().get(returnPath(replaced.session.cancel_url));
    expect(old.status).to.equal(410);
    expect(old.text).not.to.contain(fresh.url.split('/p/')[1]);
  });

  it('never writes the code or the token to the log', async () => {
    const { token, session } = await pay();
    const path = returnPath(session.success_url);
    const { text, lines } = await captureLogs(async () => {
      expect((await app().get(path)).status).to.equal(303);
      expect((await app().get(path)).status).to.equal(410);
    });
    expect(lines).to.be.at.least(2);
    expect(text).to.contain('/return/[token]');
    expect(text).not.to.contain(path.slice('/return/'.length, '/return/'.length + 20));
    expect(text).not.to.contain(token.slice(0, 20));
  });

  it('lasts one day', async () => {
    const { invoiceId, session } = await pay();
    const lifetimes = await withOrg(org.orgId, (db) =>
      db('checkout_returns').where({ invoice_id: invoiceId }).select<{ created_at: Date; expires_at: Date }[]>('created_at', 'expires_at'),
    );
    expect(lifetimes).to.have.length(2);
    for (const row of lifetimes) expect(row.expires_at.getTime() - row.created_at.getTime()).to.equal(24 * 60 * 60 * 1000);
    // A day later (moved back in time rather than waited for).
    await withOrg(org.orgId, (db) =>
      db('checkout_returns')
        .where({ invoice_id: invoiceId })
        .update({ created_at: db.raw("now() - interval '1 day 1 minute'"), expires_at: db.raw("now() - interval '1 minute'") }),
    );
    const late = await app().get(returnPath(session.success_url));
    expect(late.status).to.equal(410);
    expect(late.text).to.contain('has expired');
  });

  it('answers an unknown or malformed code with the plain portal 404, creating nothing', async () => {
    const before = await countRows(org.orgId, 'checkout_sessions');
    for (const path of [`/return/${'A'.repeat(43)}`, '/return/short', '/return/%00']) {
      const res = await app().get(path);
      expect(res.status, path).to.be.oneOf([400, 404]);
      expect(res.headers['cache-control'], path).to.equal('no-store');
    }
    expect((await app().get(`/return/${'B'.repeat(43)}`)).text).to.contain('Link not available');
    expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(before);
  });
});
