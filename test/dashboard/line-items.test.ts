// The line-item editor in a browser: rows are added and removed, totals update
// as you type, services used before are suggested, and the saved proposal has
// exactly the lines on screen (the server computes the stored totals).
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { withOrg } from '../../src/db/tenancy.js';
import { createTestOrg } from '../support/factories.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { seedRouteFixtures } from '../support/route-walk.js';

describe('line-item editor in a browser', function () {
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

  it('adds and removes lines with live totals, suggests past services, and saves what is on screen', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const fx = await seedRouteFixtures(org); // a proposal and an invoice with the service "X"
    const page = await logInPage(await browser!.newContext({ viewport: { width: 390, height: 844 } }), base, org);

    await page.goto(`${base}/proposals/new?leadId=${fx.lead}`);
    // A string, not a function: the test compiles without DOM types.
    const suggested = await page.evaluate<string[]>(
      "Array.from(document.querySelectorAll('datalist#past-services option')).map((o) => o.value)",
    );
    expect(suggested).to.include('X');
    await page.getByLabel('Title').fill('Two lines');
    const lines = page.locator('fieldset.line-items .line-item');
    const before = await lines.count();
    // A finger's height on a phone (VISUAL.md: 44 px targets).
    expect((await page.getByRole('button', { name: 'Add a line' }).boundingBox())!.height).to.be.at.least(44);
    await page.getByRole('button', { name: 'Add a line' }).click();
    expect(await lines.count()).to.equal(before + 1);
    expect((await page.getByRole('button', { name: /^Remove line 1/ }).boundingBox())!.height).to.be.at.least(44);

    await lines.nth(0).getByLabel('Service').fill('Downspout');
    await lines.nth(0).getByLabel('Quantity').fill('2');
    await lines.nth(0).getByLabel('Unit price').fill('100');
    await lines.nth(before).getByLabel('Service').fill('Gutter guard');
    await lines.nth(before).getByLabel('Quantity').fill('3');
    await lines.nth(before).getByLabel('Unit price').fill('10.50');
    await page.getByLabel('Tax rate (%)').fill('10');
    const totals = page.locator('.live-totals');
    expect(await totals.textContent()).to.equal('Subtotal $231.50 · Tax $23.15 · Total $254.65');

    await page.getByRole('button', { name: 'Remove line 1 (Downspout)' }).click();
    expect(await lines.count()).to.equal(before);
    expect(await totals.textContent()).to.equal('Subtotal $31.50 · Tax $3.15 · Total $34.65');
    const extra = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(extra).to.be.at.most(0);

    await page.getByRole('button', { name: /^Save/ }).click();
    await page.waitForURL(/\/proposals\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;
    const saved = await withOrg(org.orgId, async (db) => ({
      proposal: await db('proposals').where({ id }).first<{ total_cents: string }>('total_cents'),
      items: await db('proposal_items').where({ proposal_id: id }).orderBy('position').select<{ service: string }[]>('service'),
    }));
    expect(saved.items.map((i) => i.service)).to.deep.equal(['Gutter guard']);
    expect(Number(saved.proposal.total_cents)).to.equal(3465);
  });
});
