// The live preview runs in a real browser (Debian's chromium) under the app's CSP.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { testApp } from '../support/http.js';
import { createTestOrg } from '../support/factories.js';

describe('settings: brand color live preview (browser)', function () {
  this.timeout(60_000);
  let server: http.Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    server = http.createServer(testApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('recolors the portal header as the color is typed, with no CSP violation', async () => {
    const org = await createTestOrg({ name: 'Preview Plumbing' });
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
    });
    await page.goto(`${base}/login`);
    await page.fill('#f-email', org.email);
    await page.fill('#f-password', org.password);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
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
    await page.close();
  });
});
