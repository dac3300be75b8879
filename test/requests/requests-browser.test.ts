// Issue #14 point 6 in a real phone-sized browser: the customer asks for work with a
// photo from their portal, the contractor finds it under Requests (with its count),
// sees the photo and turns it into a draft proposal in one click.
// REQUEST_SCREENSHOTS=<dir> keeps screenshots of the pages at 390 and 1280 px.
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createJob } from '../../src/jobs/commands.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { parseForm } from '../../src/lib/forms.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';

const SHOTS = process.env.REQUEST_SCREENSHOTS;

async function shoot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: path.join(SHOTS, `${width}-${name}.png`), fullPage: true });
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow).to.equal(0);
}

describe('requests for work in a phone browser', function () {
  this.timeout(120_000);
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
    await closeServer(server);
  });
  beforeEach(resetPortalMisses);

  for (const width of SHOTS ? [390, 1280] : [390]) {
    it(`the customer asks for work with a photo; the contractor converts it into a proposal (${width} px)`, async () => {
      const org = await createTestOrg({ plan: 'starter', name: 'Maple & Pine Landscaping' });
      const lead = await createTestLead(org.orgId, { first_name: 'Jo', last_name: 'Marsh', address: '12 Elm Street' });
      await withOrg(org.orgId, (db) =>
        createJob(
          db,
          parseForm(jobFormSchema, {
            lead_id: lead.id,
            service_type: 'Spring cleanup',
            scheduled_date: '2030-04-02',
            scheduled_time: '09:00',
          }),
          'UTC',
          { type: 'system', label: 'test' },
        ),
      );
      const { url } = await linkFor(org.orgId, lead.id);
      const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#3a7' } })
        .jpeg()
        .toBuffer();

      const customer = await browser!.newContext({ viewport: { width, height: 844 } });
      const portal = await customer.newPage();
      await portal.goto(`${base}${new URL(url).pathname}/history`);
      expect(await portal.getByRole('link', { name: 'Ask to reschedule' }).isVisible()).to.equal(true);
      await shoot(portal, 'portal-history');
      await Promise.all([portal.waitForURL(/\/request$/), portal.getByRole('link', { name: 'Request work' }).click()]);
      expect(await portal.getByLabel('Where?').inputValue()).to.equal('12 Elm Street');
      await portal.getByLabel('What do you need done?').fill('The hedge by the drive has a dead patch.');
      await portal.getByLabel(/Which days or times suit you/).fill('Weekday mornings');
      await portal.getByLabel(/Photos/).setInputFiles({ name: 'hedge.jpg', mimeType: 'image/jpeg', buffer: photo });
      await noSidewaysScroll(portal);
      await shoot(portal, 'portal-request');
      await Promise.all([portal.waitForURL(/sent=work/), portal.getByRole('button', { name: 'Send request' }).click()]);
      expect(await portal.getByText('Your request was sent to Maple & Pine Landscaping').isVisible()).to.equal(true);
      await shoot(portal, 'portal-request-sent');
      await portal.goto(`${base}${new URL(url).pathname}/history`);
      await Promise.all([portal.waitForURL(/reschedule$/), portal.getByRole('link', { name: 'Ask to reschedule' }).click()]);
      await noSidewaysScroll(portal);
      await shoot(portal, 'portal-reschedule');
      await customer.close();

      const business = await browser!.newContext({ viewport: { width, height: 844 } });
      const page = await logInPage(business, base, org);
      if (width < 1100) await page.getByText('Menu').click();
      const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Requests/ });
      expect((await nav.innerText()).replace(/\s+/g, ' ')).to.equal('Requests 1 new');
      await Promise.all([page.waitForURL(/\/requests$/), nav.click()]);
      await noSidewaysScroll(page);
      await shoot(page, 'dashboard-requests');
      await Promise.all([
        page.waitForURL(/\/requests\/[0-9a-f-]{36}$/),
        page.getByRole('link', { name: 'The hedge by the drive has a dead patch' }).click(),
      ]);
      const img = page.getByRole('img', { name: 'Photo 1 from Jo Marsh' });
      await img.scrollIntoViewIfNeeded();
      const loaded = await img.evaluate((el) => {
        const image = el as unknown as { complete: boolean; naturalWidth: number };
        return image.complete ? image.naturalWidth : 0;
      });
      expect(loaded).to.equal(1200);
      expect(await page.getByText('Weekday mornings').isVisible()).to.equal(true);
      await noSidewaysScroll(page);
      await shoot(page, 'dashboard-request');
      await Promise.all([
        page.waitForURL(/\/proposals\/[0-9a-f-]{36}\/edit$/),
        page.getByRole('button', { name: 'Make a proposal' }).click(),
      ]);
      expect(await page.getByLabel('Title').inputValue()).to.equal('The hedge by the drive has a dead patch');
      const request = await getDb()('work_requests').where({ org_id: org.orgId }).first<{ status: string; proposal_id: string }>();
      expect(request.status).to.equal('converted');
      expect(page.url()).to.contain(request.proposal_id);
      await business.close();
    });
  }
});
