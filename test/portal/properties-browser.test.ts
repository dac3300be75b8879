// Several properties in a browser (issue #14, point 5): at 390 px the customer switches
// property on the portal (the plain GET form, no script needed) and sees only that
// property's documents; the contractor adds a property on the customer page.
// Screenshots at 390 and 1280 px go to test-artifacts/properties.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor, resetPortalMisses } from './support.js';

const OUT = 'test-artifacts/properties';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  const sideways = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(sideways, `${name} scrolls sideways`).to.be.at.most(0);
}

/** A landlord with a home and a rental, a pending proposal for each. */
async function seedLandlord(orgId: string) {
  const lead = await createTestLead(orgId, { first_name: 'Ivy', last_name: 'Landlord' });
  await withOrg(orgId, async (db) => {
    const [home] = await db('properties')
      .insert({ org_id: orgId, lead_id: lead.id, label: 'Home', address: '1 Home Row', created_at: new Date(Date.now() - 60_000) })
      .returning<{ id: string }[]>('id');
    const [rental] = await db('properties')
      .insert({ org_id: orgId, lead_id: lead.id, label: 'Elm St rental', address: '22 Elm Street, Unit 4' })
      .returning<{ id: string }[]>('id');
    const proposal = (n: number, title: string, property: string) => ({
      org_id: orgId,
      lead_id: lead.id,
      property_id: property,
      number: n,
      title,
      status: 'pending',
      subtotal_cents: 25_000 * n,
      tax_cents: 0,
      total_cents: 25_000 * n,
      sent_at: new Date(),
    });
    await db('proposals').insert([proposal(1, 'Kitchen tap', home.id), proposal(2, 'Rental roof repair', rental.id)]);
  });
  return lead;
}

describe('several properties in a browser', function () {
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

  it('at 390 px the customer switches property on the portal and sees only that property’s documents', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const lead = await seedLandlord(org.orgId);
    const link = await linkFor(org.orgId, lead.id);
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/p/${link.token}/proposals`);
      await page.getByRole('heading', { name: 'Elm St rental' }).waitFor();
      expect(await page.getByText('Kitchen tap').count()).to.equal(1);
      expect(await page.getByText('Rental roof repair').count()).to.equal(1);
      // Styled by portal.css (a tap target), not the browser's default select.
      expect(await page.evaluate<string>("getComputedStyle(document.getElementById('property-filter')).minHeight")).to.equal('44px');
      await shot(page, 'portal-grouped-390');

      await page.getByLabel('Property').selectOption({ label: 'Elm St rental' });
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByText('22 Elm Street, Unit 4').waitFor();
      expect(await page.getByText('Rental roof repair').count()).to.equal(1);
      expect(await page.getByText('Kitchen tap').count()).to.equal(0);
      await shot(page, 'portal-filtered-390');

      // The filter follows the customer to another tab.
      await page.getByRole('link', { name: /Invoices/ }).click();
      expect(page.url()).to.contain('property=');
      expect(await page.getByLabel('Property').inputValue()).to.not.equal('');
    } finally {
      await context.close();
    }
  });

  it('shows the portal filter at 1280 px', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const lead = await seedLandlord(org.orgId);
    const link = await linkFor(org.orgId, lead.id);
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/p/${link.token}/proposals`);
      await page.getByRole('heading', { name: 'Elm St rental' }).waitFor();
      await shot(page, 'portal-grouped-1280');
    } finally {
      await context.close();
    }
  });

  for (const width of [390, 1280]) {
    it(`at ${width} px the contractor adds a property on the customer page`, async () => {
      const org = await createTestOrg({ plan: 'pro' });
      const lead = await seedLandlord(org.orgId);
      const context = await browser!.newContext({ viewport: { width, height: width < 600 ? 844 : 800 } });
      try {
        const page = await logInPage(context, base, org);
        await page.goto(`${base}/customers/${lead.id}`);
        const section = page.locator('#properties');
        await section.getByLabel('Name (optional)').fill('Harbour flats');
        await section.getByLabel('Address').fill('9 Harbour Road, Flat 2');
        await section.getByRole('button', { name: 'Add property' }).click();
        await page.locator('#properties').getByText('9 Harbour Road, Flat 2').waitFor();
        const rows = await getDb()('properties').where({ lead_id: lead.id, address: '9 Harbour Road, Flat 2' });
        expect(rows).to.have.length(1);
        expect(rows[0]).to.include({ label: 'Harbour flats', org_id: org.orgId });
        await page.locator('#properties').scrollIntoViewIfNeeded();
        await shot(page, `customer-properties-${width}`);
      } finally {
        await context.close();
      }
    });
  }
});
