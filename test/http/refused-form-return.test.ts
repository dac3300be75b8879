// A dashboard form refused for the state of things (409: an invoice paid
// meanwhile, a proposal already decided) sends the user back to the page the
// form was on, with the reason on top and nothing written, rather than to an
// error page whose only way on is the start page. The page is the one the form
// names in its `_back` field (views/partials/csrf.hbs): browsers send no Referer
// here (Referrer-Policy: no-referrer), so that is the only way to know it.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { Actor } from '../../src/db/audit.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { pagePath } from '../../src/http/page.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import { csrfFrom, loginAgent } from '../support/http.js';

/** An issued $300.00 invoice, and a way to pay it in full behind the contractor's back. */
async function openInvoice() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const invoice = await withOrg(org.orgId, async (db) => {
    const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor);
    await issueInvoice(db, created.id, actor);
    return created;
  });
  // Another tab, a colleague, the customer online: the invoice is paid while its page is open.
  const payMeanwhile = () =>
    withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'cash', sendReceipt: false }, actor));
  return { org, invoice, payMeanwhile };
}

const paymentCount = (invoiceId: string) =>
  getDb()('payments')
    .where({ invoice_id: invoiceId })
    .count<{ count: string }[]>('* as count')
    .then(([r]) => Number(r.count));

const backField = (html: string) => /name="_back" value="([^"]*)"/.exec(html)?.[1];

describe('a dashboard form refused for the state of things', () => {
  it('names its page, goes back to it with the reason, and writes nothing', async () => {
    const { org, invoice, payMeanwhile } = await openInvoice();
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/invoices/${invoice.id}`);
    expect(backField(page.text)).to.equal(`/invoices/${invoice.id}`);
    await payMeanwhile();
    const res = await agent
      .post(`/invoices/${invoice.id}/payments`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), _back: `/invoices/${invoice.id}`, amount: '10.00', method: 'cash' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/invoices/${invoice.id}`);
    const back = await agent.get(`/invoices/${invoice.id}`);
    expect(back.text).to.contain(`Invoice #${invoice.number} is already paid in full.`);
    expect(back.text).to.match(/class="flash flash-error"/);
    expect(await paymentCount(invoice.id), 'only the payment made meanwhile').to.equal(1);
  });

  it('a form shown again after a 422 still names the page it was first on', async () => {
    const { org, invoice } = await openInvoice();
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/invoices/${invoice.id}`);
    const refused = await agent
      .post(`/invoices/${invoice.id}/payments`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), _back: `/invoices/${invoice.id}`, amount: 'lots', method: 'cash' });
    expect(refused.status).to.equal(422);
    expect(backField(refused.text), 'not the POST-only URL it was shown at').to.equal(`/invoices/${invoice.id}`);
  });

  it('stays the 409 page without a page, or with one on another site', async () => {
    const { org, invoice, payMeanwhile } = await openInvoice();
    const agent = await loginAgent(org.email, org.password);
    const csrf = csrfFrom((await agent.get(`/invoices/${invoice.id}`)).text);
    await payMeanwhile();
    for (const back of [undefined, '//evil.example/x', '/\\evil.example', 'https://evil.example/', 'invoices']) {
      const res = await agent
        .post(`/invoices/${invoice.id}/payments`)
        .type('form')
        .send({ _csrf: csrf, amount: '10.00', method: 'cash', ...(back === undefined ? {} : { _back: back }) });
      expect(res.status, String(back)).to.equal(409);
      expect(res.text).to.contain(`Invoice #${invoice.number} is already paid in full.`);
    }
    expect(await paymentCount(invoice.id)).to.equal(1);
  });

  it('takes only a path on this site as the page to go back to', () => {
    expect(pagePath('/invoices/1?tab=x')).to.equal('/invoices/1?tab=x');
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      '/a\\b',
      'https://evil.example/',
      'x',
      '/a b',
      '',
      '/'.padEnd(2001, 'a'),
      42,
      null,
    ]) {
      expect(pagePath(bad), String(bad)).to.equal(null);
    }
  });

  describe('in a browser', function () {
    this.timeout(60_000);
    let browser: Browser | undefined;
    let server: Server;
    let base: string;

    before(async function () {
      skipWithoutChromium(this);
      ({ server, base } = await serveTestApp());
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      if (server) await closeServer(server);
    });

    it('Record payment on an invoice paid meanwhile lands back on the invoice with the reason', async () => {
      const { org, invoice, payMeanwhile } = await openInvoice();
      const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
      try {
        const page = await logInPage(context, base, org);
        await page.goto(`${base}/invoices/${invoice.id}`);
        await payMeanwhile();
        await page.locator(`form[action="/invoices/${invoice.id}/payments"] input[name="amount"]`).fill('10.00');
        await page.locator(`form[action="/invoices/${invoice.id}/payments"] button[type="submit"]`).click();
        await page.waitForLoadState('load');
        expect(new URL(page.url()).pathname).to.equal(`/invoices/${invoice.id}`);
        expect(await page.locator('.flash.flash-error').textContent()).to.contain(`Invoice #${invoice.number} is already paid in full.`);
        expect(await paymentCount(invoice.id)).to.equal(1);
      } finally {
        await context.close();
      }
    });
  });
});
