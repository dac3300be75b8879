// Every dashboard page in a real browser at a phone width (390 px) and a laptop
// width (1280 px): nothing scrolls sideways, the page uses the design system
// (Inter, the one stylesheet), and on a phone the navigation is a menu that
// opens without script.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoice } from '../../src/invoices/commands.js';
import { invoiceFormSchema } from '../../src/invoices/schema.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { createTestOrg, type TestOrg } from '../support/factories.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { adminRoutes, routeUrl, seedRouteFixtures, type Fixture } from '../support/route-walk.js';

// A stored message whose link is one long word: it used to widen the page to ~2,000 px.
// Set DASHBOARD_SCREENSHOTS=<folder> to keep a full-page screenshot of every page at both widths.
const SHOTS = process.env.DASHBOARD_SCREENSHOTS;
const LONG_LINK = `https://app.example.test/p/${'x'.repeat(400)}`;

/** GET pages to visit: every admin route without a side effect on GET, plus the dev outbox. */
function dashboardPages(fx: Fixture): string[] {
  // Not pages: files, images (a request's photo), redirects.
  const skip = /\/(return|refresh|logo|download|pdf|export|photos\/[^/]+)(\/|$)|\.(csv|html)$/;
  const paths = adminRoutes()
    .filter((r) => r.methods.includes('get'))
    .map((r) => routeUrl(r.path, fx))
    .filter((p) => !skip.test(p));
  return [...new Set(paths)];
}

async function overflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe('dashboard layout in a browser', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let org: TestOrg;
  let pages: string[];
  let fixture: Fixture;

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    browser = await launchChromium();
    org = await createTestOrg({ plan: 'starter', name: 'Northwind Gutter, Roofing & Exterior Restoration Specialists' });
    const fx = await seedRouteFixtures(org);
    fixture = fx;
    await withOrg(org.orgId, (db) =>
      db('message_deliveries')
        .where({ id: fx.delivery })
        .update({ body_text: `Hi! Your records: ${LONG_LINK} Thanks.` }),
    );
    // Downloads (PDFs, calendar files) are not pages.
    pages = dashboardPages(fx).filter((path) => !/\/(pdf|ics)$/.test(path));
    // Development's outbox shows the same long message; the route exists only outside production.
    pages.push('/dev/outbox');
    // The fixture's proposal is approved and its invoice issued: their edit links lead back to their
    // pages. The forms themselves, on a proposal still a draft and an invoice still a draft.
    const drafts = await withOrg(org.orgId, async (db) => {
      const actor = { type: 'user' as const, userId: org.userId };
      const items = [{ service: 'Gutter clean', quantity: '1', unit_price: '150' }];
      const proposal = await createProposal(db, parseForm(proposalFormSchema('USD'), { lead_id: fx.lead, title: 'Draft', items }), actor);
      const invoice = await createInvoice(
        db,
        parseForm(invoiceFormSchema('USD'), { lead_id: fx.lead, issue_date: '2026-12-01', due_date: '2026-12-31', items }),
        'USD',
        actor,
      );
      return { proposal: proposal.id, invoice: invoice.id };
    });
    pages.push(`/proposals/${drafts.proposal}/edit`, `/invoices/${drafts.invoice}/edit`);
    if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await closeServer(server);
  });

  for (const width of [390, 1280]) {
    it(`no dashboard page scrolls sideways at ${width} px, and each uses the design system`, async () => {
      const context = await browser!.newContext({ viewport: { width, height: 800 } });
      const page = await logInPage(context, base, org);
      const wide: string[] = [];
      const offStyle: string[] = [];
      for (const path of pages) {
        const res = await page.goto(`${base}${path}`);
        expect(res?.status(), path).to.be.below(400);
        const extra = await overflow(page);
        if (extra > 0) wide.push(`${path} (+${extra} px)`);
        if (SHOTS) {
          const name = `${width}-${path.replace(/[0-9a-f-]{36}/g, 'id').replace(/\W+/g, '_') || 'home'}.png`;
          await page.screenshot({ path: `${SHOTS}/${name}`, fullPage: true });
        }
        const font = await page.evaluate<string>('getComputedStyle(document.body).fontFamily');
        if (!/^"?Inter Variable"?/.test(font)) offStyle.push(path);
      }
      expect(wide, 'pages wider than the window').to.deep.equal([]);
      expect(offStyle, 'pages without the design system font').to.deep.equal([]);
      expect(pages.length).to.be.above(25);
      await context.close();
    });
  }

  it('a refused form opens at the field to fix, not at the page’s top (a payment above the balance, on a phone)', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 800 } });
    const page = await logInPage(context, base, org);
    await page.goto(`${base}/invoices/${fixture.invoice}`);
    await page.locator('#f-amount').fill('99999');
    await page.locator('form[action$="/payments"] button[type="submit"]').click();
    await page.waitForLoadState('load');
    expect(await page.locator('#e-amount').textContent()).to.match(/overpayments are not recorded/);
    expect(await page.evaluate<string>('document.activeElement.id')).to.equal('f-amount');
    const box = await page.locator('#f-amount').boundingBox();
    expect(box!.y).to.be.within(0, 800 - box!.height);
    await context.close();
  });

  it('collapses the navigation into a menu on a phone that opens without script', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 800 }, javaScriptEnabled: false });
    const page = await logInPage(context, base, org);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Invoices' }).isVisible()).to.equal(false);
    await page.getByText('Menu', { exact: true }).click();
    expect(await nav.getByRole('link', { name: 'Invoices' }).isVisible()).to.equal(true);
    await nav.getByRole('link', { name: 'Invoices' }).click();
    await page.waitForURL(`${base}/invoices`);
    await context.close();

    const wide = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const desk = await logInPage(wide, base, org);
    expect(await desk.getByText('Menu', { exact: true }).isVisible()).to.equal(false);
    expect(await desk.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Invoices' }).isVisible()).to.equal(true);
    await wide.close();
  });
});
