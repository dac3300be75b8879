// Issue #13 point 2 in a real phone-sized browser, with the app's CSP in force: a
// signature drawn with pointer events (mouse) and with touch on the canvas, and
// the typed-name signature with JavaScript switched off.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { getDb } from '../../src/db/knex.js';
import type { ProposalSignatureRow } from '../../src/db/rows.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

async function pendingProposalPage(): Promise<{ path: string; proposalId: string }> {
  const org = await createTestOrg({ plan: 'starter', name: 'Clear Pools' });
  const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Poolowner' });
  const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
  const { url } = await linkFor(org.orgId, lead.id);
  const proposalId = records.pendingProposalIds[0];
  return { path: `${new URL(url).pathname}/proposals/${proposalId}`, proposalId };
}

const signatureOf = (proposalId: string) =>
  getDb()('proposal_signatures').where({ proposal_id: proposalId }).first<ProposalSignatureRow | undefined>();

/** How many pixels of the stored PNG are drawn on (alpha above zero). */
async function inkedPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let inked = 0;
  for (let i = info.channels - 1; i < data.length; i += info.channels) if (data[i] > 0) inked += 1;
  return inked;
}

async function fillAndApprove(page: Page): Promise<void> {
  await page.getByLabel('Your full name').fill('Pat Poolowner');
  await page.getByLabel(/I agree to the work/).check();
  await Promise.all([page.waitForURL(/result=approved/), page.locator('#approve button[type="submit"]').click()]);
}

describe('portal signature in a phone browser', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  const contexts: BrowserContext[] = [];

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
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });

  async function phone(options: { javaScriptEnabled?: boolean; hasTouch?: boolean } = {}): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, ...options });
    contexts.push(context);
    const page = await context.newPage();
    // Script errors and CSP refusals (the page must work under the app's own CSP).
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    return { page, problems };
  }

  it('draws a signature with pointer events on the canvas and approves with it', async () => {
    const { path, proposalId } = await pendingProposalPage();
    const { page, problems } = await phone();
    await page.goto(`${base}${path}`);
    const canvas = page.locator('canvas.signature-pad');
    await canvas.scrollIntoViewIfNeeded();
    expect(await canvas.isVisible()).to.equal(true);
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the signature canvas has no box');
    expect(box.width).to.be.greaterThan(250);
    // Two strokes, as a hand would: press, move in small steps, release.
    for (const [y0, y1] of [
      [0.7, 0.3],
      [0.4, 0.8],
    ]) {
      await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * y0);
      await page.mouse.down();
      for (let step = 1; step <= 20; step++) {
        const t = step / 20;
        await page.mouse.move(box.x + box.width * (0.1 + 0.8 * t), box.y + box.height * (y0 + (y1 - y0) * t + 0.15 * Math.sin(t * 6)));
      }
      await page.mouse.up();
    }
    await fillAndApprove(page);
    expect(await page.getByText('You approved this proposal').isVisible()).to.equal(true);
    expect(await page.getByText('Signed by Pat Poolowner (drawn signature)').isVisible()).to.equal(true);
    const sig = await signatureOf(proposalId);
    expect(sig?.method).to.equal('drawn');
    expect(sig?.signer_name).to.equal('Pat Poolowner');
    expect(await inkedPixels(sig?.image_png ?? Buffer.alloc(0))).to.be.greaterThan(200);
    expect(problems).to.deep.equal([]);
  });

  it('draws with a finger (touch events) too', async () => {
    const { path, proposalId } = await pendingProposalPage();
    const { page, problems } = await phone({ hasTouch: true });
    await page.goto(`${base}${path}`);
    const canvas = page.locator('canvas.signature-pad');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the signature canvas has no box');
    const cdp = await page.context().newCDPSession(page);
    const at = (t: number) => [{ x: box.x + box.width * (0.15 + 0.7 * t), y: box.y + box.height * (0.5 + 0.3 * Math.sin(t * 7)) }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) });
    for (let step = 1; step <= 20; step++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(step / 20) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await fillAndApprove(page);
    const sig = await signatureOf(proposalId);
    expect(sig?.method).to.equal('drawn');
    expect(await inkedPixels(sig?.image_png ?? Buffer.alloc(0))).to.be.greaterThan(100);
    expect(problems).to.deep.equal([]);
  });

  it('approves with the typed name when JavaScript is off (no drawing box shown)', async () => {
    const { path, proposalId } = await pendingProposalPage();
    const { page } = await phone({ javaScriptEnabled: false });
    await page.goto(`${base}${path}`);
    expect(await page.locator('canvas.signature-pad').isVisible()).to.equal(false);
    expect(await page.getByText('Typing your name and approving is your electronic signature').isVisible()).to.equal(true);
    await fillAndApprove(page);
    expect(await page.getByText('Signed by Pat Poolowner (typed name)').isVisible()).to.equal(true);
    const sig = await signatureOf(proposalId);
    expect(sig?.method).to.equal('typed');
    expect(sig?.image_png).to.equal(null);
  });
});
