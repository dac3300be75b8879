// Issue 14, point 1: the Spanish dashboard's record pages in a real browser at a
// phone width (390 px) and a laptop width (1280 px). Spanish labels run longer
// than English ones: no page may scroll sideways, and the phone menu still opens
// without script. Screenshots of each page go to test-artifacts/dashboard-es/.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { getDb } from '../../src/db/knex.js';
import { createTestOrg, type TestOrg } from '../support/factories.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { seedRouteFixtures, type Fixture } from '../support/route-walk.js';

const SHOTS = 'test-artifacts/dashboard-es';

/** The record pages of the dashboard (home, customers, proposals, jobs, requests, invoices, payments). */
function recordPages(fx: Fixture): string[] {
  return [
    '/',
    '/customers',
    `/customers/${fx.lead}`,
    '/customers/new',
    `/customers/${fx.lead}/edit`,
    '/proposals',
    `/proposals/${fx.proposal}`,
    '/proposals/new',
    `/proposals/${fx.proposal}/edit`,
    '/jobs',
    `/jobs/${fx.job}`,
    `/jobs/${fx.job}/edit`,
    '/requests',
    `/requests/${fx.workRequest}`,
    '/invoices',
    `/invoices/${fx.invoice}`,
    '/invoices/new',
    '/payments',
    `/payments/${fx.payment}`,
  ];
}

async function overflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe('the Spanish dashboard in a browser', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let org: TestOrg;
  let pages: string[];

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    browser = await launchChromium();
    org = await createTestOrg({ plan: 'starter', name: 'Canaletas y Techos Hernández, Restauración de Exteriores' });
    const fx = await seedRouteFixtures(org);
    await getDb()('organizations').where({ id: org.orgId }).update({ locale: 'es-MX', currency: 'MXN', time_zone: 'America/Mexico_City' });
    pages = recordPages(fx);
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await closeServer(server);
  });

  for (const width of [390, 1280]) {
    it(`no Spanish record page scrolls sideways at ${width} px`, async () => {
      const context = await browser!.newContext({ viewport: { width, height: 800 } });
      const page = await logInPage(context, base, org);
      const wide: string[] = [];
      for (const path of pages) {
        const res = await page.goto(`${base}${path}`);
        expect(res?.status(), path).to.be.below(400);
        expect(await page.getAttribute('html', 'lang'), path).to.equal('es');
        const extra = await overflow(page);
        if (extra > 0) wide.push(`${path} (+${extra} px)`);
        const name = `${width}-${path.replace(/[0-9a-f-]{36}/g, 'id').replace(/\W+/g, '_') || 'home'}.png`;
        await page.screenshot({ path: `${SHOTS}/${name}`, fullPage: true });
      }
      expect(wide, 'pages wider than the window').to.deep.equal([]);
      await context.close();
    });
  }

  it('opens the phone menu without script, in Spanish', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 800 }, javaScriptEnabled: false });
    const page = await logInPage(context, base, org);
    const nav = page.getByRole('navigation', { name: 'Principal' });
    expect(await nav.getByRole('link', { name: 'Facturas' }).isVisible()).to.equal(false);
    await page.getByText('Menú', { exact: true }).click();
    expect(await nav.getByRole('link', { name: 'Facturas' }).isVisible()).to.equal(true);
    await nav.getByRole('link', { name: 'Facturas' }).click();
    await page.waitForURL(`${base}/invoices`);
    await context.close();
  });
});
