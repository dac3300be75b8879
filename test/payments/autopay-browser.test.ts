// Issue 15 point 3, done when: in a phone-sized browser (390 px) the customer
// pays two invoices with a tip and saves the card on the local test checkout
// (the Stripe stand-in, signed webhook), turns on automatic payments, and the
// autopay run pays the next invoice on its due date. The invoice page shows it
// paid, at 390 px and 1280 px. SCREENSHOT_DIR=… saves the pages.
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { config } from '../../src/config.js';
import { startLocalStripe, stopLocalStripe } from '../../src/dev/local-stripe.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { withOrg } from '../../src/db/tenancy.js';
import { PORTAL_LINK_PLACEHOLDER } from '../../src/messaging/link-placeholder.js';
import { runAutopay } from '../../src/payments/stripe/autopay.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { connectedOrg, openInvoice } from './stripe-fixtures.js';

async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

const overflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

describe('saving a card and autopay in a phone browser', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let standIn: StripeConnectStandIn;
  const savedPublicUrl = config.publicUrl;

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    Object.assign(config, { publicUrl: base });
    standIn = await startLocalStripe(base);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopLocalStripe();
    await closeServer(server);
    Object.assign(config, { publicUrl: savedPublicUrl });
  });

  beforeEach(resetPortalMisses);

  it('pays two invoices with a tip and saves the card, turns autopay on, and autopay pays the next invoice', async () => {
    const org = await connectedOrg(standIn, { plan: 'pro' });
    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ tip_percentages: [10, 15, 20] }),
    );
    await openInvoice(org.orgId, org.leadId, 12_000);
    await openInvoice(org.orgId, org.leadId, 8_050);
    const { url } = await linkFor(org.orgId, org.leadId);
    const listPath = `${new URL(url).pathname}/invoices`;

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${base}${listPath}`);
    expect(await page.locator('#saved-card').textContent()).to.contain('No card saved');
    await page.getByRole('radio', { name: '10% ($20.05)' }).check();
    await page.getByRole('checkbox', { name: /Save my card/ }).check();
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoices-save-card-390');
    await page.getByRole('button', { name: 'Pay ticked invoices' }).click();

    await page.waitForURL(/\/dev\/checkout\/cs_/);
    await page.getByRole('button', { name: 'Pay $220.55' }).click();
    await page.waitForURL((u) => u.pathname === listPath);
    expect(await page.textContent('body')).to.contain('Your payment is being confirmed');
    // The card Checkout saved, from the signed webhook: brand, last four, expiry.
    const panel = page.locator('#saved-card');
    expect((await panel.textContent())!.replace(/\s+/g, ' ')).to.contain('Visa ending in 4242 · expires 12/34');
    await shot(page, 'portal-invoices-card-saved-390');

    await page.getByRole('button', { name: 'Pay new invoices automatically on their due date' }).click();
    await page.waitForURL((u) => u.pathname === listPath);
    expect(await panel.textContent()).to.contain('Automatic payments are on.');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoices-autopay-on-390');

    // The next invoice (due 2026-12-04) says autopay will pay it.
    const next = await openInvoice(org.orgId, org.leadId, 9_900);
    const invoicePath = `${new URL(url).pathname}/invoices/${next}`;
    await page.goto(`${base}${invoicePath}`);
    expect(await page.locator('.autopay-scheduled').textContent()).to.contain('ending in 4242 will be charged on');
    await shot(page, 'portal-invoice-autopay-scheduled-390');

    // Its due date comes: the scheduled run charges the saved card off-session.
    const result = await runAutopay({ now: new Date('2026-12-04T17:00:00Z'), link: PORTAL_LINK_PLACEHOLDER });
    expect(result.succeeded).to.be.at.least(1);
    await page.reload();
    expect(await page.locator('.summary').textContent()).to.contain('Paid');
    expect(await page.textContent('body')).to.contain('Payments on this invoice');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoice-autopay-paid-390');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}${listPath}`);
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoices-autopay-on-1280');

    const invoice = await withOrg(org.orgId, (db) =>
      db('invoices').where({ id: next }).first<{ status: string; amount_paid_cents: string }>('status', 'amount_paid_cents'),
    );
    expect({ ...invoice, amount_paid_cents: Number(invoice.amount_paid_cents) }).to.deep.equal({
      status: 'paid',
      amount_paid_cents: 9_900,
    });
    const charges = standIn.paymentIntents(org.accountId).filter((pi) => pi.metadata.purpose === 'autopay');
    expect(charges.map((pi) => [pi.amount, pi.status, pi.metadata.invoice_id])).to.deep.equal([[9_900, 'succeeded', next]]);
    await context.close();
  });

  it('a saved card that needs authentication: the autopay attempt fails and the invoice page says so, with Pay', async () => {
    const org = await connectedOrg(standIn, { plan: 'pro' });
    await openInvoice(org.orgId, org.leadId, 4_000);
    await openInvoice(org.orgId, org.leadId, 6_000);
    const { url } = await linkFor(org.orgId, org.leadId);
    const listPath = `${new URL(url).pathname}/invoices`;
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${base}${listPath}`);
    await page.getByRole('checkbox', { name: /Save my card/ }).check();
    await page.getByRole('button', { name: 'Pay ticked invoices' }).click();
    await page.waitForURL(/\/dev\/checkout\/cs_/);
    // Stripe's "always authenticate" test card: fine with the customer present, refused off-session.
    await page.getByLabel('Card number').fill('4000 0027 6000 3184');
    await page.getByRole('button', { name: 'Pay $100.00' }).click();
    await page.waitForURL((u) => u.pathname === listPath);
    expect((await page.locator('#saved-card').textContent())!.replace(/\s+/g, ' ')).to.contain('ending in 3184');
    await page.getByRole('button', { name: 'Pay new invoices automatically on their due date' }).click();
    await page.waitForURL((u) => u.pathname === listPath);

    const next = await openInvoice(org.orgId, org.leadId, 5_500);
    await runAutopay({ now: new Date('2026-12-04T17:00:00Z'), link: PORTAL_LINK_PLACEHOLDER });
    await page.goto(`${base}${new URL(url).pathname}/invoices/${next}`);
    const notice = (await page.locator('.autopay-failed').textContent())!.replace(/\s+/g, ' ');
    expect(notice).to.contain('Automatic payment failed.');
    expect(notice).to.contain('your bank asked you to confirm this payment yourself');
    expect(await page.getByRole('button', { name: /Pay \$55\.00/ }).count()).to.equal(1);
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoice-autopay-failed-390');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-invoice-autopay-failed-1280');
    await context.close();
  });
});
