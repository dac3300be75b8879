// Issue #13 end to end in a phone-sized browser (390 px), under the app's CSP: a
// Starter org with a connected card account sends a proposal with a "Good /
// Better / Best" group, optional lines and a 25 % deposit. The customer picks Best
// and an extra line (the total and the deposit follow live), draws a signature,
// approves, pays the deposit of the CHOSEN total on the local test checkout (the
// Stripe stand-in), comes back to a proposal showing it paid, and downloads both
// PDFs through the browser: the signed proposal and the deposit's receipt.
// Screenshots of each step go to test-artifacts/documents-story/.
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import type { Browser, Page } from 'playwright-core';
import { config } from '../../src/config.js';
import { startLocalStripe, stopLocalStripe } from '../../src/dev/local-stripe.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { withOrg } from '../../src/db/tenancy.js';
import type { ProposalRow, ProposalSignatureRow } from '../../src/db/rows.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { connectedOrg } from '../payments/stripe-fixtures.js';
import { OPTION_ROWS } from '../proposals/options-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const SHOTS = path.resolve('test-artifacts/documents-story');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const overflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

/** Each page's text, whitespace collapsed. */
async function pdfPages(buf: Buffer): Promise<string[]> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    const { pages } = await parser.getText();
    return pages.map((p) => p.text.replace(/\s+/g, ' '));
  } finally {
    await parser.destroy();
  }
}

/** Clicks a link that downloads, and returns the file the browser saved with its suggested name. */
async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; body: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const saved = await file.path();
  return { name: file.suggestedFilename(), body: fs.readFileSync(saved) };
}

/** Two strokes drawn with the mouse (pointer events) across the signature canvas. */
async function drawSignature(page: Page): Promise<void> {
  const canvas = page.locator('canvas.signature-pad');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('the signature canvas has no box');
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
}

describe('documents and approval, the whole story in a phone browser (issue 13)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let server: Server;
  let base: string;
  let standIn: StripeConnectStandIn;
  const savedPublicUrl = config.publicUrl;

  before(async function () {
    skipWithoutChromium(this);
    fs.mkdirSync(SHOTS, { recursive: true });
    ({ server, base } = await serveTestApp());
    // The way back from Checkout leads to the public URL: here, this server.
    Object.assign(config, { publicUrl: base });
    standIn = await startLocalStripe(base);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopLocalStripe();
    await closeServer(server);
    Object.assign(config, { publicUrl: savedPublicUrl });
  });

  beforeEach(resetPortalMisses);

  it('picks Best and an optional line, signs by drawing, pays the deposit of the chosen total, downloads both PDFs', async () => {
    const org = await connectedOrg(standIn, { plan: 'starter' });
    const actor = { type: 'user', userId: org.userId, label: org.email } as const;
    const proposal = await withOrg(org.orgId, async (db) => {
      const input = parseForm(proposalFormSchema('USD'), {
        lead_id: org.leadId,
        title: 'New gutters',
        tax_rate: '8.25',
        items: OPTION_ROWS,
        deposit_kind: 'percent',
        deposit_percent: '25',
      });
      const created = await createProposal(db, input, actor, 'USD');
      return (await markProposalSent(db, created.id, actor)).proposal;
    });
    const { url } = await linkFor(org.orgId, org.leadId);
    const proposalPath = `${new URL(url).pathname}/proposals/${proposal.id}`;

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      // The local test checkout (a development page) has no icon, so the browser asks for /favicon.ico there.
      if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) problems.push(`${msg.text()} ${msg.location().url}`);
    });
    await page.goto(`${base}${proposalPath}`);
    const total = page.locator('.totals [data-choice-total]');
    const depositNote = page.locator('.deposit-note');
    // The preselected choice: Good + downspouts = 1,250.00 + 103.13 tax; 25 % = 338.28.
    expect(await total.textContent()).to.equal('$1,353.13');
    expect(await depositNote.textContent()).to.contain('A deposit of $338.28 (25%) is due on approval');
    // Said at the top too, beside the Approve button that leads to the form.
    const summaryDeposit = page.locator('.summary-deposit');
    expect(await summaryDeposit.textContent()).to.equal('Deposit due on approval: $338.28');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, '1-opened-390');

    // Best instead of Good, plus the gutter guards: 200 + 3,000 + 400 + 50 = 3,650.00 + 301.13 tax.
    await page.getByRole('radio', { name: /Copper gutters/ }).check();
    await page.getByRole('checkbox', { name: /Gutter guards/ }).check();
    expect(await total.textContent()).to.equal('$3,951.13');
    expect(await page.locator('.amount').textContent()).to.equal('$3,951.13');
    // The deposit follows the chosen total: 25 % of 3,951.13 = 987.78.
    expect(await depositNote.textContent()).to.contain('A deposit of $987.78 (25%) is due on approval');
    expect(await summaryDeposit.textContent()).to.equal('Deposit due on approval: $987.78');
    await shot(page, '2-chosen-390');

    await drawSignature(page);
    await page.getByLabel('Your full name').fill('Maria Delacroix');
    await page.getByLabel(/I agree/).check();
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, '3-signed-390');
    await page.getByRole('button', { name: 'Approve $3,951.13' }).click();

    // Straight on to the (local test) checkout for the deposit of the chosen total.
    await page.waitForURL(/\/dev\/checkout\/cs_/);
    expect(await page.textContent('body')).to.contain('Deposit, proposal #');
    await shot(page, '4-checkout-390');
    await page.getByRole('button', { name: 'Pay $987.78' }).click();

    // Back on the proposal: approved, signed, the deposit paid.
    await page.waitForURL((u) => u.pathname === proposalPath);
    const body = await page.textContent('body');
    expect(body).to.contain('Approved by Maria Delacroix');
    expect(body).to.contain('Deposit of $987.78 paid');
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, '5-deposit-paid-390');

    // Both PDFs, through the browser's own download.
    const proposalPdf = await download(page, () => page.getByRole('link', { name: 'Download PDF' }).click());
    expect(proposalPdf.name).to.equal(`proposal-${proposal.number}.pdf`);
    const receiptPdf = await download(page, () => page.getByRole('link', { name: /Deposit receipt/ }).click());
    expect(receiptPdf.name).to.match(/^receipt-.*\.pdf$/);

    // The same page on a desktop screen.
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await overflow(page)).to.be.at.most(0);
    await shot(page, '6-deposit-paid-1280');

    const pages = await pdfPages(proposalPdf.body);
    expect(pages.length).to.be.at.least(2);
    const content = pages.slice(0, -1).join(' ');
    for (const chosen of ['Gutter cleaning', 'Copper gutters', 'Gutter guards', 'Downspout extensions']) expect(content).to.contain(chosen);
    for (const notChosen of ['Aluminium gutters', 'Steel gutters']) expect(content).not.to.contain(notChosen);
    expect(content).to.contain('Total $3,951.13');
    const last = pages.at(-1) ?? '';
    expect(last).to.contain('Signature');
    expect(last).to.contain('Maria Delacroix');
    expect(last).to.contain('Drawn by hand');
    expect(last).to.contain('$3,951.13');

    const receipt = (await pdfPages(receiptPdf.body)).join(' ');
    expect(receipt).to.contain(`proposal #${proposal.number}`);
    expect(receipt).to.contain('Amount paid $987.78');

    const state = await withOrg(org.orgId, async (db) => ({
      proposal: await db('proposals').where({ id: proposal.id }).first<ProposalRow>(),
      payments: await db('payments')
        .where({ proposal_id: proposal.id })
        .select<{ amount_cents: number; status: string; invoice_id: string | null }[]>('amount_cents', 'status', 'invoice_id'),
      signature: await db('proposal_signatures').where({ proposal_id: proposal.id }).first<ProposalSignatureRow | undefined>(),
      chosen: await db('proposal_items').where({ proposal_id: proposal.id, selected: true }).orderBy('position').pluck<string[]>('service'),
    }));
    expect(state.proposal.status).to.equal('approved');
    expect(Number(state.proposal.total_cents)).to.equal(395_113);
    expect(Number(state.proposal.deposit_cents)).to.equal(98_778);
    expect(state.payments).to.deep.equal([{ amount_cents: 98_778, status: 'succeeded', invoice_id: null }]);
    expect(state.signature?.method).to.equal('drawn');
    expect(state.signature?.signer_name).to.equal('Maria Delacroix');
    expect(state.signature?.image_png?.length ?? 0).to.be.greaterThan(100);
    expect(state.chosen).to.deep.equal(['Gutter cleaning', 'Copper gutters', 'Gutter guards', 'Downspout extensions']);
    expect(problems, 'no script error or CSP refusal').to.deep.equal([]);
    await context.close();
  });
});
