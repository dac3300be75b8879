// A real phone-sized browser through a real portal link: four tabs, an approval,
// the WhatsApp link, no sideways scrolling, and axe-core with zero violations.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { getDb } from '../../src/db/knex.js';
import type { ProposalRow } from '../../src/db/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const require = createRequire(import.meta.url);
const AXE = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');

interface AxeResult {
  violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
}

async function axeViolations(page: Page): Promise<AxeResult['violations']> {
  await page.addScriptTag({ path: AXE });
  // Strings, not functions: the test compiles without DOM types.
  const result = await page.evaluate<AxeResult>('axe.run(document)');
  return result.violations;
}

/** A tab's link: its label, with "N waiting" when something waits there. */
const tabName = (label: string) => new RegExp(`^${label}( \\d+ waiting)?$`);

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe('portal in a phone browser', function () {
  this.timeout(90_000);
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

  it('opens a link, visits all four tabs, approves a proposal, checks WhatsApp and passes axe on every tab', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Sunny Side Gutters & Roofing Company' });
    await getDb()('organizations').where({ id: org.orgId }).update({
      brand_color: '#f5c400',
      phone: '+15555550142',
      email: 'office@sunnyside.example',
      whatsapp_number: '+15555550143',
    });
    const lead = await createTestLead(org.orgId, { first_name: 'Maria', last_name: 'Delacroix-Whitfield' });
    const records = await seedCustomerRecords(org.orgId, lead.id, {
      proposals: 4,
      pendingProposals: 1,
      invoices: 4,
      openInvoices: 1,
      payments: 3,
      jobs: 4,
      upcomingJobs: 1,
    });
    const { url } = await linkFor(org.orgId, lead.id);
    const pathOnly = new URL(url).pathname;

    // bypassCSP only so axe can be injected; the CSP itself is checked in the test below.
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    const page = await context.newPage();
    const res = await page.goto(`${base}${pathOnly}`);
    expect(res?.status()).to.equal(200);
    expect(await page.locator('h1').textContent()).to.equal('Proposals');

    const tabs = [
      ['Proposals', 'Proposals'],
      ['Invoices', 'Invoices'],
      ['Payments', 'Payments'],
      ['Service History', 'Service History'],
    ];
    for (const [label, heading] of tabs) {
      await page
        .getByRole('navigation', { name: 'Your records' })
        .getByRole('link', { name: tabName(label) })
        .click();
      expect(await page.locator('h1').textContent()).to.equal(heading);
      expect(await page.locator('[aria-current="page"]').textContent()).to.match(tabName(label));
      expect(await horizontalOverflow(page), `${label} scrolls sideways`).to.be.at.most(0);
      const violations = await axeViolations(page);
      expect(
        violations.map((v) => `${v.id}: ${v.help} ${JSON.stringify(v.nodes.map((n) => n.target))}`),
        label,
      ).to.deep.equal([]);
    }

    // WhatsApp: a real wa.me link naming the customer.
    const wa = await page.locator('a.whatsapp-button').getAttribute('href');
    expect(wa).to.match(/^https:\/\/wa\.me\/15555550143\?text=/);
    expect(decodeURIComponent(wa!.split('text=')[1])).to.contain('Maria Delacroix-Whitfield');

    // Approve the pending proposal.
    await page.getByRole('link', { name: tabName('Proposals') }).click();
    await page.locator(`a[href$="/proposals/${records.pendingProposalIds[0]}"]`).click();
    const docWa = await page.locator('a.whatsapp-button').getAttribute('href');
    expect(decodeURIComponent(docWa!.split('text=')[1])).to.match(/I have a question about proposal #\d+\./);
    expect(await axeViolations(page)).to.deep.equal([]);
    expect(await horizontalOverflow(page)).to.be.at.most(0);
    await page.getByLabel('Your full name').fill('Maria Delacroix-Whitfield');
    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: /^Approve \$/ }).click();
    await page.waitForURL(/result=approved/);
    expect(await page.getByRole('status').first().textContent()).to.contain('You approved this proposal');
    const row = await getDb()('proposals').where({ id: records.pendingProposalIds[0] }).first<ProposalRow>();
    expect(row.status).to.equal('approved');
    expect(row.approved_by_name).to.equal('Maria Delacroix-Whitfield');
    expect(row.approved_user_agent).to.contain('Chrome');
    expect(await getDb()('jobs').where({ proposal_id: row.id })).to.have.length(1);
    expect(await axeViolations(page)).to.deep.equal([]);

    // An invoice detail page also fits and passes.
    await page.goto(`${base}${pathOnly}/invoices/${records.invoiceIds[0]}`);
    expect(await horizontalOverflow(page)).to.be.at.most(0);
    expect(await axeViolations(page)).to.deep.equal([]);
    await context.close();
  });

  it('floats a compact WhatsApp button with an accessible name, and nothing is under it at the end of the page', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Clear Water Plumbing' });
    await getDb()('organizations').where({ id: org.orgId }).update({ whatsapp_number: '+15555550143', phone: '+15555550142' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', last_name: 'Lopez' });
    const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1, invoices: 1, openInvoices: 1 });
    const pathOnly = new URL((await linkFor(org.orgId, lead.id)).url).pathname;
    for (const width of [390, 1280]) {
      const context = await browser!.newContext({ viewport: { width, height: width === 390 ? 844 : 800 } });
      const page = await context.newPage();
      for (const target of [`/proposals/${records.pendingProposalIds[0]}`, `/invoices/${records.invoiceIds[0]}`, '/invoices', '/history']) {
        await page.goto(`${base}${pathOnly}${target}`);
        const button = page.getByRole('link', { name: 'Message Clear Water Plumbing on WhatsApp' });
        expect(await button.locator('svg').count(), 'the WhatsApp mark').to.equal(1);
        const box = (await button.boundingBox())!;
        expect(box.width, 'compact').to.be.at.most(64);
        expect(box.height, 'compact').to.be.at.most(64);
        await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
        // Every visible piece of text or control, other than the button itself, stays clear of it.
        const covered = await page.evaluate<string[]>(`(() => {
          const b = document.querySelector('.whatsapp-button').getBoundingClientRect();
          const out = [];
          for (const el of document.querySelectorAll('main *, footer *')) {
            if (el.closest('.whatsapp-button') || el.children.length > 0 && !['A', 'BUTTON', 'SUMMARY', 'INPUT'].includes(el.tagName)) continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) continue;
            if (r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top) out.push(el.tagName + ': ' + el.textContent.trim().slice(0, 40));
          }
          return out;
        })()`);
        expect(covered, `${width}px ${target}`).to.deep.equal([]);
      }
      await context.close();
    }
  });

  it('prints an invoice as the document: its figures and lines, without tabs, buttons, forms or the WhatsApp button', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Print Roofing' });
    await getDb()('organizations').where({ id: org.orgId }).update({ whatsapp_number: '+15555550143', phone: '+15555550142' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', last_name: 'Lopez' });
    const records = await seedCustomerRecords(org.orgId, lead.id, { invoices: 1, openInvoices: 1 });
    const pathOnly = new URL((await linkFor(org.orgId, lead.id)).url).pathname;
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}${pathOnly}/invoices/${records.invoiceIds[0]}`);
    await page.emulateMedia({ media: 'print' });
    for (const gone of ['.portal-tabs', '.language-switch', '.whatsapp-button', '.contact-actions', '.doc-download', '.back']) {
      const shown = await page.evaluate<boolean>(`[...document.querySelectorAll('${gone}')].some((el) => el.getClientRects().length > 0)`);
      expect(shown, gone).to.equal(false);
    }
    expect(await page.locator('form:visible').count(), 'forms').to.equal(0);
    expect(await page.locator('.totals').isVisible()).to.equal(true);
    expect(await page.locator('.line-items').isVisible()).to.equal(true);
    expect(await page.locator('.portal-org').isVisible()).to.equal(true);
    // Ink that doesn't rely on a background: the business's name is dark on the page.
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('.portal-org')).color")).to.equal('rgb(0, 0, 0)');
    await context.close();
  });

  it('lays the four tabs out evenly at 360 and 390 px in both languages: one height, counts in one place, no sideways scroll', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1, invoices: 1, openInvoices: 1, jobs: 1 });
    const pathOnly = new URL((await linkFor(org.orgId, lead.id)).url).pathname;
    for (const language of ['en', 'es']) {
      await getDb()('leads').where({ id: lead.id }).update({ language });
      for (const [width, height] of [
        [360, 740],
        [390, 844],
      ]) {
        const context = await browser!.newContext({ viewport: { width, height } });
        const page = await context.newPage();
        await page.goto(`${base}${pathOnly}/history`);
        const where = `${language} at ${width}px`;
        expect(await horizontalOverflow(page), where).to.be.at.most(0);
        const tabs = await page.evaluate<
          { label: string; top: number; height: number; width: number; lines: number; count: number[] | null }[]
        >(`
          [...document.querySelectorAll('.portal-tabs a')].map((a) => {
            const r = a.getBoundingClientRect();
            const label = document.createRange();
            label.selectNodeContents(a.firstChild);
            const lines = new Set([...label.getClientRects()].map((l) => Math.round(l.top))).size;
            const c = a.querySelector('.count')?.getBoundingClientRect();
            return { label: a.firstChild.textContent.trim(), top: r.top, height: r.height, width: r.width, lines,
              count: c ? [Math.round(r.right - c.right), Math.round(c.top - r.top)] : null };
          })`);
        expect(
          tabs.map((t) => t.label),
          where,
        ).to.have.length(4);
        expect(new Set(tabs.map((t) => t.height)).size, `${where}: one height`).to.equal(1);
        expect(new Set(tabs.map((t) => t.top)).size, `${where}: one row`).to.equal(1);
        for (const tab of tabs) {
          expect(tab.width, `${where}: ${tab.label} is a quarter`).to.be.closeTo(width / 4, 1);
          expect(tab.lines, `${where}: ${tab.label} on at most two lines`).to.be.at.most(2);
        }
        const counts = tabs.filter((t) => t.count).map((t) => t.count!.join(','));
        expect(counts, `${where}: Proposals and Invoices each with a count`).to.have.length(2);
        expect(new Set(counts).size, `${where}: the counts in the same place on their tabs`).to.equal(1);
        await context.close();
      }
    }
  });

  it('works at 360 px with script off, its brand style allowed by the CSP (a kept page by its hash, an outcome page by its nonce)', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    await getDb()('organizations').where({ id: org.orgId }).update({ brand_color: '#0b6e4f' });
    const lead = await createTestLead(org.orgId);
    const records = await seedCustomerRecords(org.orgId, lead.id, {
      proposals: 2,
      pendingProposals: 1,
      invoices: 2,
      openInvoices: 1,
      payments: 1,
      jobs: 2,
    });
    const { url } = await linkFor(org.orgId, lead.id);
    const context = await browser!.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false });
    const page = await context.newPage();
    const pathOnly = new URL(url).pathname;
    const blocked: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/.test(msg.text())) blocked.push(msg.text());
    });
    for (const tab of ['proposals', 'invoices', 'payments', 'history']) {
      await page.goto(`${base}${pathOnly}/${tab}`);
      expect(await horizontalOverflow(page), tab).to.be.at.most(0);
    }
    const headerBg = await page.evaluate<string>("getComputedStyle(document.querySelector('.portal-header')).backgroundColor");
    expect(headerBg).to.equal('rgb(11, 110, 79)');
    expect(blocked).to.deep.equal([]);
    await page.goto(`${base}${pathOnly}/proposals/${records.pendingProposalIds[0]}`);
    await page.getByLabel('Your full name').fill('Sarah Homeowner');
    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: /^Approve \$/ }).click();
    await page.waitForURL(/result=approved/);
    expect((await getDb()('proposals').where({ id: records.pendingProposalIds[0] }).first<ProposalRow>()).status).to.equal('approved');
    await context.close();
  });
});
