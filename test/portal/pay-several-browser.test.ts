// Paying several invoices in a phone browser: the Pay button and the suggested
// tips follow the ticked invoices (a self-hosted script under the portal's CSP);
// nothing ticked, nothing to press. Without script the button keeps its plain
// words and the server works the amount out (stripe-pay-several.test.ts).
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { withOrg } from '../../src/db/tenancy.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { connectedOrg, openInvoice, startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const buttonOf = (page: Page) => page.locator('[data-pay-button]');
const tipOf = (page: Page, percent: number) => page.locator(`[data-tip-percent="${percent}"]`).textContent();

describe('paying several invoices in a phone browser', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let standIn: StripeConnectStandIn;

  before(async function () {
    skipWithoutChromium(this);
    standIn = await startStandIn();
    ({ server, base } = await serveTestApp());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await closeServer(server);
    if (standIn) await stopStandIn(standIn);
  });

  beforeEach(resetPortalMisses);

  async function invoicesTab(options: { javaScriptEnabled?: boolean } = {}) {
    const org = await connectedOrg(standIn);
    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ tip_percentages: [10, 15] }),
    );
    const first = await openInvoice(org.orgId, org.leadId, 10_000);
    const second = await openInvoice(org.orgId, org.leadId, 8_500);
    const { url } = await linkFor(org.orgId, org.leadId);
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, ...options });
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') cspErrors.push(m.text());
    });
    const res = await page.goto(`${base}${new URL(url).pathname}/invoices`);
    expect(res?.status()).to.equal(200);
    return { page, context, first, second, cspErrors };
  }

  it('the button and the tips follow the ticked invoices, and nothing ticked leaves nothing to press', async () => {
    const { page, context, first, second, cspErrors } = await invoicesTab();
    try {
      expect(await buttonOf(page).textContent()).to.equal('Pay ticked invoices: $185.00');
      expect(await tipOf(page, 15)).to.equal('$27.75');
      await page.locator(`input[form="pay-several"][value="${first}"]`).uncheck();
      expect(await buttonOf(page).textContent()).to.equal('Pay ticked invoices: $85.00');
      expect(await tipOf(page, 10)).to.equal('$8.50');
      expect(await tipOf(page, 15)).to.equal('$12.75');
      await page.locator(`input[form="pay-several"][value="${second}"]`).uncheck();
      expect(await buttonOf(page).textContent()).to.equal('Tick an invoice to pay');
      expect(await buttonOf(page).isDisabled()).to.equal(true);
      await page.locator(`input[form="pay-several"][value="${first}"]`).check();
      expect(await buttonOf(page).textContent()).to.equal('Pay ticked invoices: $100.00');
      expect(await buttonOf(page).isDisabled()).to.equal(false);
      expect(cspErrors, 'the script runs under the portal CSP').to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('without script the button keeps its plain words and the tips their full amounts', async () => {
    const { page, context } = await invoicesTab({ javaScriptEnabled: false });
    try {
      expect(await buttonOf(page).textContent()).to.equal('Pay ticked invoices');
      expect(await tipOf(page, 15)).to.equal('$27.75');
    } finally {
      await context.close();
    }
  });
});
