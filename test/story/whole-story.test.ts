// The whole story in a real browser, at a phone width and a laptop width: a
// contractor signs up, works the first-run checklist, adds a customer, writes a
// proposal and sends the link; the customer approves; the contractor invoices;
// the customer pays through the local test checkout (a signed webhook to the
// real handler); the payment shows on both sides. Screenshots of every step go
// to test-artifacts/story/<width>/ (git-ignored; see the README).
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { startLocalStripe, stopLocalStripe } from '../../src/dev/local-stripe.js';
import { closeMailer } from '../../src/mail/account-email.js';
import { getStoreRedis } from '../../src/queue/redis.js';
import { uniqueEmail } from '../support/factories.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';

const OUT = 'test-artifacts/story';

describe('the whole story in a browser (contractor and customer)', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  const inbox = new SmtpInbox();
  const saved = { publicUrl: config.publicUrl, smtp: config.smtp.url };

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    // Links in emails, portal links and the way back from Checkout all point at this server.
    config.publicUrl = base;
    config.smtp.url = await inbox.start();
    await closeMailer();
    await startLocalStripe(base);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopLocalStripe();
    config.publicUrl = saved.publicUrl;
    config.smtp.url = saved.smtp;
    await closeMailer();
    await inbox.stop();
    await closeServer(server);
  });

  for (const width of [390, 1280]) {
    it(`walks sign-up to a paid invoice at ${width} px, with a screenshot of each step`, async () => {
      const dir = `${OUT}/${width}`;
      fs.mkdirSync(dir, { recursive: true });
      let step = 0;
      const shot = async (page: Page, name: string) => {
        step += 1;
        await page.screenshot({ path: `${dir}/${String(step).padStart(2, '0')}-${name}.png`, fullPage: true });
        const extra = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(extra, `${name} scrolls sideways`).to.be.at.most(0);
      };
      const viewport = { width, height: width < 600 ? 844 : 800 };
      const email = uniqueEmail('story');

      // 1. Sign up and confirm the address.
      // The contractor's browser is in Lisbon: the new business starts in that time zone, not America/New_York.
      const contractor = await (await browser!.newContext({ viewport, timezoneId: 'Europe/Lisbon' })).newPage();
      await contractor.goto(`${base}/signup`);
      await contractor.getByLabel('Business name').fill('Harbor Light Gutters');
      await contractor.getByLabel('Your name').fill('Hana Harbor');
      await contractor.getByLabel('Email').fill(email);
      await shot(contractor, 'signup');
      await contractor.getByRole('button', { name: 'Continue' }).click();
      const mail = await inbox.waitFor(email);
      await contractor.goto(linkFrom(mail, `${base}/signup/`));
      await contractor.getByLabel('Choose a password').fill('harbor light gutter mornings');
      await contractor.getByRole('button', { name: 'Create my account' }).click();
      await contractor.waitForURL(`${base}/`);

      // 2. The first-run checklist asks for the business phone first.
      const checklist = contractor.getByRole('region', { name: 'Get set up' });
      await shot(contractor, 'checklist');
      await checklist.getByRole('link', { name: /business phone/ }).click();
      await contractor.getByLabel('Business phone').fill('+14155552671');
      await contractor.getByRole('button', { name: 'Save details' }).click();
      await contractor.waitForLoadState();
      await shot(contractor, 'business-details-saved');
      await contractor.goto(`${base}/`);
      expect(await checklist.getByText(/business phone/).getAttribute('class')).to.equal('step');
      expect(await checklist.getByRole('link', { name: /business phone/ }).count()).to.equal(0);
      await shot(contractor, 'checklist-phone-done');

      // Online approval and payment are Starter features; the subscription checkout is not part of this story.
      const user = await getDb()('users').where({ email }).first<{ org_id: string }>('org_id');
      const created = await getDb()('organizations').where({ id: user.org_id }).first<{ time_zone: string }>('time_zone');
      expect(created.time_zone).to.equal('Europe/Lisbon');
      await getDb()('organizations').where({ id: user.org_id }).update({ plan: 'starter' });

      // 3. Connect "Stripe" (the local test checkout: onboarding completes at once).
      await contractor.goto(`${base}/settings/payments`);
      await contractor.getByRole('button', { name: 'Connect Stripe' }).click();
      await contractor.waitForURL(`${base}/settings/payments`);
      expect(await contractor.getByText('Ready to accept payments').count()).to.be.above(0);
      await shot(contractor, 'stripe-connected');

      // 4. A customer.
      await contractor.goto(`${base}/customers/new`);
      await contractor.getByLabel('First name').fill('Maria');
      await contractor.getByLabel('Last name').fill('Delacroix');
      await contractor.getByLabel('Email').fill('maria@example.test');
      await contractor.getByLabel('Phone').fill('+14155552672');
      await contractor.getByRole('button', { name: /^(Save|Add)/ }).click();
      await contractor.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
      const customerUrl = contractor.url();
      await shot(contractor, 'customer');

      // 5. A proposal.
      await contractor.goto(`${base}/proposals/new?leadId=${customerUrl.split('/').at(-1)}`);
      await contractor.getByLabel('Title').fill('Gutter replacement, front of house');
      await contractor.locator('#f-items-0-service').fill('Seamless gutter');
      await contractor.locator('#f-items-0-quantity').fill('40');
      await contractor.locator('#f-items-0-unit_price').fill('12.50');
      await shot(contractor, 'proposal-form');
      await contractor.getByRole('button', { name: /^Save/ }).click();
      await contractor.waitForURL(/\/proposals\/[0-9a-f-]{36}$/);
      const proposalUrl = contractor.url();
      await contractor.getByRole('button', { name: /Mark as sent/ }).click();
      await shot(contractor, 'proposal-sent');

      // 6. The portal link, then Send: the exact message and number before sending.
      await contractor.goto(customerUrl);
      await contractor.getByRole('button', { name: 'Generate Portal Link' }).click();
      const portalUrl = await contractor.getByRole('textbox', { name: 'Portal link' }).inputValue();
      expect(portalUrl.startsWith(`${base}/p/`)).to.equal(true);
      await contractor.goto(`${proposalUrl}`);
      await contractor.getByRole('link', { name: 'Send to customer' }).click();
      expect(await contractor.locator('pre.message-text').textContent()).to.contain(portalUrl);
      await shot(contractor, 'send-preview');
      await contractor.getByRole('button', { name: 'Send to (415) 555-2672' }).click();
      await shot(contractor, 'sent');
      // The queued job would be picked up by a later test's worker: settle the row so nothing is sent.
      await getDb()('message_deliveries').where({ to_address: '+14155552672' }).update({ status: 'failed', last_error: 'test cleanup' });

      // 7. The customer approves in the portal (role/name selectors: the portal's look may change).
      const customer = await (await browser!.newContext({ viewport })).newPage();
      await customer.goto(portalUrl);
      await customer
        .getByRole('link', { name: /Gutter replacement|#\d+/ })
        .first()
        .click();
      await shot(customer, 'portal-proposal');
      await customer.getByLabel('Your full name').fill('Maria Delacroix');
      await customer.getByLabel(/I agree/).check();
      await customer.getByRole('button', { name: /^Approve/ }).click();
      await customer.waitForURL(/result=approved/);
      await shot(customer, 'portal-approved');

      // 8. The contractor invoices the approved work.
      await contractor.goto(proposalUrl);
      await contractor.getByRole('button', { name: /Create invoice/ }).click();
      await contractor.waitForURL(/\/invoices\/[0-9a-f-]{36}/);
      const invoiceUrl = contractor.url().split('?')[0];
      await contractor.getByRole('button', { name: 'Issue invoice' }).click();
      await shot(contractor, 'invoice-issued');

      // 9. The customer pays through the local test checkout. Earlier tests in the run paid from this
      // same address: clear the per-client Pay limit so this test doesn't depend on the order of files.
      const redis = getStoreRedis();
      if (redis) {
        const keys = await redis.keys(`${config.queuePrefix}:rl:portal-pay:*`);
        if (keys.length) await redis.del(...keys);
      }
      await customer.goto(`${portalUrl}/invoices/${invoiceUrl.split('/').at(-1)}`);
      await shot(customer, 'portal-invoice');
      await customer.getByRole('button', { name: /^Pay/ }).first().click();
      await customer.waitForURL(/\/dev\/checkout\/cs_/);
      await shot(customer, 'test-checkout');
      await customer.getByRole('button', { name: /^Pay \$500\.00/ }).click();
      await customer.waitForURL((url) => url.pathname.startsWith(new URL(portalUrl).pathname));
      await shot(customer, 'portal-after-payment');

      // 10. The payment shows on both sides.
      await customer.goto(`${portalUrl}/payments`);
      expect(await customer.locator('main').textContent()).to.contain('$500.00');
      await shot(customer, 'portal-payments');
      await contractor.goto(invoiceUrl);
      const invoiceText = (await contractor.locator('main').textContent()) ?? '';
      expect(invoiceText).to.contain('Paid');
      expect(invoiceText).to.contain('$500.00');
      await shot(contractor, 'invoice-paid');
      await contractor.goto(`${base}/payments`);
      expect(await contractor.locator('main').textContent()).to.contain('$500.00');
      await shot(contractor, 'payments');
    });
  }
});
