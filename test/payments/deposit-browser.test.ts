// A phone-sized browser (390 px) through a real portal link: the customer
// approves a proposal that asks a deposit, lands on the local test checkout
// (the Stripe stand-in), pays, and comes back to the proposal with the deposit
// recorded through the signed webhook; then pays two invoices at once, with a
// tip, from the Invoices tab. SCREENSHOT_DIR=… also saves the pages.
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { config } from '../../src/config.js';
import { startLocalStripe, stopLocalStripe } from '../../src/dev/local-stripe.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { withOrg } from '../../src/db/tenancy.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { connectedOrg, deliver, openInvoice } from './stripe-fixtures.js';

async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

const overflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

describe('deposit on approval and paying several invoices in a phone browser', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let standIn: StripeConnectStandIn;
  const savedPublicUrl = config.publicUrl;

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    // The way back from Checkout leads to the public URL: here, this server.
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

  it('approves a proposal with a 25 % deposit and pays it on the local test checkout', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const actor = { type: 'user', userId: org.userId, label: org.email } as const;
    const proposal = await withOrg(org.orgId, async (db) => {
      const input = parseForm(proposalFormSchema('USD'), {
        lead_id: org.leadId,
        title: 'Roof replacement, south side',
        tax_rate: '0',
        items: [
          { service: 'Tear-off and disposal', quantity: '1', unit_price: '400' },
          { service: 'Architectural shingles', quantity: '12', unit_price: '50' },
        ],
        deposit_kind: 'percent',
        deposit_percent: '25',
      });
      const created = await createProposal(db, input, actor, 'USD');
      return (await markProposalSent(db, created.id, actor)).proposal;
    });
    const { url } = await linkFor(org.orgId, org.leadId);
    const proposalPath = `${new URL(url).pathname}/proposals/${proposal.id}`;

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${base}${proposalPath}`);
    await page.locator('#approve').scrollIntoViewIfNeeded();
    expect(await page.locator('.deposit-note').textContent()).to.contain('A deposit of $250.00 (25%) is due on approval');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-proposal-deposit-pending-390');
    await page.getByLabel('Your full name').fill('Maria Delacroix');
    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: /^Approve \$/ }).click();

    // Straight on to the (local test) checkout for the deposit.
    await page.waitForURL(/\/dev\/checkout\/cs_/);
    expect(await page.textContent('body')).to.contain('Deposit, proposal #');
    await shot(page, 'local-checkout-deposit-390');
    await page.getByRole('button', { name: 'Pay $250.00' }).click();

    // Back on the proposal: the deposit is recorded.
    await page.waitForURL((u) => u.pathname === proposalPath);
    expect(await page.textContent('body')).to.contain('Deposit of $250.00 paid');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-proposal-deposit-paid-390');
    const payments = await withOrg(org.orgId, (db) =>
      db('payments')
        .where({ proposal_id: proposal.id })
        .select<{ amount_cents: number; invoice_id: string | null; stripe_payment_intent_id: string }[]>(
          'amount_cents',
          'invoice_id',
          'stripe_payment_intent_id',
        ),
    );
    expect(payments.map(({ amount_cents, invoice_id }) => ({ amount_cents, invoice_id }))).to.deep.equal([
      { amount_cents: 25_000, invoice_id: null },
    ]);

    // The business refunds $100.00 of it through Stripe: the page says so, and what is left to credit.
    const { charge } = standIn.refund(org.accountId, payments[0].stripe_payment_intent_id, 10_000);
    const refunded = standIn.event('charge.refunded', charge, org.accountId);
    expect((await deliver(refunded, { secret: config.stripe.connectWebhookSecret })).status).to.equal(200);
    await page.reload();
    expect(await page.locator('.notice-success', { hasText: 'Deposit' }).textContent()).to.contain(
      'Deposit of $250.00 paid, of which $100.00 has been refunded. The remaining $150.00 is credited to your invoice.',
    );
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-proposal-deposit-part-refunded-390');
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'portal-proposal-deposit-part-refunded-1280');
    await page.setViewportSize({ width: 390, height: 844 });

    // Then the rest of it: refunded in full, nothing is said to be credited, and nothing is asked again.
    const rest = standIn.refund(org.accountId, payments[0].stripe_payment_intent_id, 15_000);
    const refundedAll = standIn.event('charge.refunded', rest.charge, org.accountId);
    expect((await deliver(refundedAll, { secret: config.stripe.connectWebhookSecret })).status).to.equal(200);
    await page.reload();
    const body = await page.textContent('body');
    expect(body).to.contain('Your deposit of $250.00 has been refunded in full.');
    expect(body).not.to.contain('credited to your invoice');
    expect(body).not.to.contain('Deposit due');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, 'portal-proposal-deposit-refunded-390');
    await context.close();

    // The business's proposal page says the same.
    const desk = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const dashboard = await logInPage(desk, base, org);
    await dashboard.goto(`${base}/proposals/${proposal.id}`);
    expect(await dashboard.getByRole('status').filter({ hasText: 'refunded' }).textContent()).to.contain(
      'Deposit of $250.00 paid and refunded in full. Nothing of it is credited to an invoice.',
    );
    await shot(dashboard, 'dashboard-proposal-deposit-refunded-1280');
    await desk.close();
  });

  it('pays two invoices at once with a tip from the Invoices tab on the local test checkout', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ tip_percentages: [10, 15, 20] }),
    );
    const first = await openInvoice(org.orgId, org.leadId, 12_000);
    const second = await openInvoice(org.orgId, org.leadId, 8_050);
    const { url } = await linkFor(org.orgId, org.leadId);
    const listPath = `${new URL(url).pathname}/invoices`;

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${base}${listPath}`);
    const ticks = page.getByRole('checkbox', { name: 'Include in one payment' });
    expect(await ticks.count()).to.equal(2);
    for (const tick of await ticks.all()) expect(await tick.isChecked()).to.equal(true);
    expect(await overflow(page)).to.be.at.most(0);
    await page.getByRole('radio', { name: '10% ($20.05)' }).check();
    await shot(page, 'portal-invoices-pay-several-390');
    await page.getByRole('button', { name: 'Pay ticked invoices' }).click();

    await page.waitForURL(/\/dev\/checkout\/cs_/);
    await page.getByRole('button', { name: 'Pay $220.55' }).click();
    await page.waitForURL((u) => u.pathname === listPath);
    expect(await page.textContent('body')).to.contain('Your payment is being confirmed');
    const states = await withOrg(org.orgId, (db) =>
      db('invoices')
        .whereIn('id', [first, second])
        .orderBy('number')
        .select<{ status: string; amount_paid_cents: number }[]>('status', 'amount_paid_cents'),
    );
    expect(states).to.deep.equal([
      { status: 'paid', amount_paid_cents: 12_000 },
      { status: 'paid', amount_paid_cents: 8_050 },
    ]);
    const tips = await withOrg(org.orgId, (db) => db('payments').sum<{ sum: string }[]>('tip_cents as sum'));
    expect(Number(tips[0].sum)).to.equal(2_005);
    await shot(page, 'portal-invoices-paid-several-390');
    await context.close();
  });
});
