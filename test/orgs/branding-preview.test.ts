// The live preview runs in a real browser (Debian's chromium) under the app's CSP.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestOrg } from '../support/factories.js';

describe('settings: brand color live preview (browser)', function () {
  this.timeout(60_000);
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async function () {
    skipWithoutChromium(this);
    ({ server, base } = await serveTestApp());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await closeServer(server);
  });

  it('recolors the portal header as the color is typed, with no CSP violation', async () => {
    const org = await createTestOrg({ name: 'Preview Plumbing' });
    const context = await browser.newContext();
    const page = await logInPage(context, base, org);
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
    });
    await page.goto(`${base}/settings/branding`);
    const header = page.locator('[data-preview-header]');
    // Runs in the page; this project's TypeScript has no DOM types, hence the narrow cast.
    type PageWindow = { getComputedStyle(el: unknown): Record<'backgroundColor' | 'color', string> };
    const style = (prop: 'backgroundColor' | 'color') =>
      header.evaluate((el, p) => (globalThis as unknown as PageWindow).getComputedStyle(el)[p], prop);
    expect(await style('backgroundColor')).to.equal('rgb(29, 78, 216)'); // #1d4ed8 default
    await page.fill('#f-brand_color', '#fde047');
    expect(await style('backgroundColor')).to.equal('rgb(253, 224, 71)');
    expect(await style('color')).to.equal('rgb(0, 0, 0)'); // dark text on yellow
    await page.fill('#f-name', 'Renamed Plumbing');
    expect(await page.locator('[data-preview-name]').textContent()).to.equal('Renamed Plumbing');
    expect(violations).to.deep.equal([]);
    await context.close();
  });
});
