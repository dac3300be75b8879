// Reach in a browser (issue #14): a customer whose link expired asks for it again on
// the not-found page at 390 px, gets it by email (the local SMTP server) and opens it;
// the contractor sets a link's expiry and sees the visit log and the "Viewed" marks.
// Screenshots of each page at 390 and 1280 px go to test-artifacts/reach.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { closeQueues } from '../../src/queue/queues.js';
import type { RunningWorker } from '../../src/queue/worker.js';
import { startPortalRecoveryWorker } from '../../workers/portal-recovery.js';
import { createSendWorker } from '../../workers/send-message.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg, uniqueEmail } from '../support/factories.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const OUT = 'test-artifacts/reach';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

async function sideways(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  expect(await sideways(page), `${name} scrolls sideways`).to.be.at.most(0);
}

describe('reach in a browser: lost link recovery, expiry, visit log', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  const inbox = new SmtpInbox();
  const saved = { publicUrl: config.publicUrl, smtp: config.smtp.url, from: config.smtp.from };
  const running: RunningWorker[] = [];

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    config.publicUrl = base;
    config.smtp.url = await inbox.start();
    config.smtp.from = 'Porchlight <no-reply@porchlight.test>';
    closeTransports();
    const send = createSendWorker({ backoffBaseMs: 20, concurrency: 2, shutdownTimeoutMs: 2_000 });
    await send.worker.waitUntilReady();
    running.push(send.running, await startPortalRecoveryWorker());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const r of running) await r.close();
    await closeQueues();
    config.publicUrl = saved.publicUrl;
    config.smtp.url = saved.smtp;
    config.smtp.from = saved.from;
    closeTransports();
    await inbox.stop();
    await closeServer(server);
  });

  beforeEach(resetPortalMisses);

  it('at 390 px: an expired link shows the form; asking by email brings a fresh link that opens the portal', async () => {
    const email = uniqueEmail('lost');
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId, { first_name: 'Dana', last_name: 'Reyes', email });
    await seedCustomerRecords(org.orgId, lead.id, { invoices: 1, openInvoices: 1 });
    const old = await linkFor(org.orgId, lead.id);
    await getDb()('portal_links')
      .where({ id: old.id })
      .update({ expires_at: new Date(Date.now() - 60_000) });

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA });
    try {
      const page = await context.newPage();
      const res = await page.goto(old.url);
      expect(res?.status()).to.equal(404);
      await page.getByRole('heading', { name: 'Send me my link again' }).waitFor();
      await shot(page, 'not-found-form-390');

      // A typo first: the form says what to type and keeps it.
      await page.getByLabel('Email or mobile number').fill('dana at home');
      await page.getByRole('button', { name: 'Send me my link' }).click();
      await page.locator('#recover-error').waitFor();
      await shot(page, 'not-found-error-390');

      await page.getByLabel('Email or mobile number').fill(email.toUpperCase());
      await page.getByRole('button', { name: 'Send me my link' }).click();
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      await shot(page, 'recover-sent-390');

      const mail = await inbox.waitFor(email, 1, 10_000);
      const fresh = linkFrom(mail, `${base}/p/`);
      expect(fresh).not.to.equal(old.url);
      const opened = await page.goto(fresh);
      expect(opened?.status()).to.equal(200);
      await page.getByText('Dana').first().waitFor();
      await shot(page, 'fresh-link-opened-390');
    } finally {
      await context.close();
    }
  });

  it('shows the not-found page with the form at 1280 px', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/p/${'N'.repeat(43)}`);
      await page.getByRole('heading', { name: 'Send me my link again' }).waitFor();
      await shot(page, 'not-found-form-1280');
    } finally {
      await context.close();
    }
  });

  for (const width of [390, 1280]) {
    it(`at ${width} px: the contractor sets a link's expiry and sees the visit log and the Viewed marks`, async () => {
      const org = await createTestOrg({ plan: 'starter' });
      const lead = await createTestLead(org.orgId, { first_name: 'Sam', last_name: 'Ortiz' });
      const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1, invoices: 1, openInvoices: 1 });
      const link = await linkFor(org.orgId, lead.id);
      const customer = await browser!.newContext({ viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA });
      try {
        const page = await customer.newPage();
        const portal = link.url;
        await page.goto(`${portal}/invoices/${records.invoiceIds[0]}`);
        await page.goto(`${portal}/proposals/${records.proposalIds[0]}`);
        await page.goto(`${portal}/history`);
      } finally {
        await customer.close();
      }

      const context = await browser!.newContext({ viewport: { width, height: width < 600 ? 844 : 800 } });
      try {
        const page = await logInPage(context, base, org);
        await page.goto(`${base}/customers/${lead.id}`);
        await page.getByRole('heading', { name: 'Portal visits' }).waitFor();
        expect(await page.getByText(/Viewed invoice #\d+ on an iPhone/).count()).to.equal(1);
        await page.getByLabel('Link expires').selectOption('30');
        // The outcome is read from the page and the database (a flash may be taken by another request of the browser).
        const [expiry] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/portal-link/expiry')),
          page.getByRole('button', { name: 'Set expiry' }).click(),
        ]);
        expect(expiry.status()).to.equal(303);
        await page.waitForURL(`${base}/customers/${lead.id}`);
        await page.getByText(/expires \w{3} \d{1,2}, \d{4}/).waitFor();
        await shot(page, `customer-visit-log-${width}`);
        const row = await getDb()('portal_links').where({ id: link.id }).first<{ expires_at: Date }>();
        expect(row.expires_at.getTime()).to.be.closeTo(Date.now() + 30 * 86_400_000, 120_000);

        await page.goto(`${base}/invoices/${records.invoiceIds[0]}`);
        await page.locator('.badge.viewed').first().waitFor();
        await shot(page, `invoice-viewed-${width}`);
        await page.goto(`${base}/proposals/${records.proposalIds[0]}`);
        await page.locator('.badge.viewed').first().waitFor();
        await shot(page, `proposal-viewed-${width}`);

        await page.goto(`${base}/settings/portal`);
        await page.getByLabel('New links expire').selectOption('90');
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/settings/portal/lifetime')),
          page.getByRole('button', { name: 'Save lifetime' }).click(),
        ]);
        expect(response.status()).to.equal(303);
        await page.waitForURL(`${base}/settings/portal`);
        const orgRow = await getDb()('organizations').where({ id: org.orgId }).first<{ portal_link_lifetime_days: number }>();
        expect(orgRow.portal_link_lifetime_days).to.equal(90);
        await shot(page, `settings-lifetime-${width}`);
      } finally {
        await context.close();
      }
    });
  }
});
