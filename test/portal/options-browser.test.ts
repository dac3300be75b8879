// Optional lines and alternatives in a phone browser (issue 13 point 4): the
// customer picks an alternative and an optional line, the total follows live
// (a self-hosted script under the portal's CSP), they approve and the database
// holds exactly that choice; without script, "Update total" does the same, and an
// approval of picks whose total was never shown is refused.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { getDb } from '../../src/db/knex.js';
import type { ProposalRow } from '../../src/db/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createOptionsProposal } from '../proposals/options-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const require = createRequire(import.meta.url);
const AXE = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');

const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();
const selectedServices = async (proposalId: string) =>
  getDb()('proposal_items').where({ proposal_id: proposalId, selected: true }).orderBy('position').pluck<string[]>('service');

const shownTotal = (page: Page) => page.locator('.totals [data-choice-total]').textContent();

describe('proposal options in a phone browser', function () {
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

  async function openProposal(options: { javaScriptEnabled?: boolean; bypassCSP?: boolean } = {}) {
    const org = await createTestOrg({ plan: 'starter', name: 'Clear Gutters' });
    const lead = await createTestLead(org.orgId, { first_name: 'Maria', last_name: 'Delacroix' });
    const { proposal } = await createOptionsProposal(org.orgId, org.userId, lead.id);
    const { url } = await linkFor(org.orgId, lead.id);
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, ...options });
    const page = await context.newPage();
    const res = await page.goto(`${base}${new URL(url).pathname}/proposals/${proposal.id}`);
    expect(res?.status()).to.equal(200);
    return { page, context, proposal };
  }

  it('updates the total live as the customer picks Best and the gutter guards, then approves exactly that', async () => {
    const { page, context, proposal } = await openProposal();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') cspErrors.push(m.text());
    });
    expect(await shownTotal(page)).to.equal('$1,353.13');
    // With script the total follows the picks, so the no-script button is hidden.
    expect(await page.getByRole('button', { name: 'Update total' }).isVisible()).to.equal(false);
    const url = page.url();

    await page.getByRole('radio', { name: /Copper gutters/ }).check();
    // 200 + 3,000 + 50 = 3,250.00; 8.25 % = 268.13.
    expect(await shownTotal(page)).to.equal('$3,518.13');
    await page.getByRole('checkbox', { name: /Gutter guards/ }).check();
    // + 400 = 3,650.00; tax 301.13.
    expect(await shownTotal(page)).to.equal('$3,951.13');
    expect(await page.locator('.amount').textContent()).to.equal('$3,951.13');
    expect(await page.locator('label[for="agree"]').textContent()).to.contain('$3,951.13 in total');
    expect(page.url(), 'the page did not reload').to.equal(url);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')).to.be.at.most(0);

    await page.getByLabel('Your full name').fill('Maria Delacroix');
    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: 'Approve $3,951.13' }).click();
    await page.waitForURL(/result=approved/);
    expect(await page.getByRole('status').first().textContent()).to.contain('You approved this proposal');
    expect(cspErrors, 'no script was blocked').to.deep.equal([]);

    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('approved');
    expect(row.total_cents).to.equal(395113);
    expect(await selectedServices(proposal.id)).to.deep.equal([
      'Gutter cleaning',
      'Copper gutters',
      'Gutter guards',
      'Downspout extensions',
    ]);
    await context.close();
  });

  it('without script: "Update total" shows the picks\' total, an approval of a total never shown is refused, then approves', async () => {
    const { page, context, proposal } = await openProposal({ javaScriptEnabled: false });
    await page.getByRole('radio', { name: /Steel gutters/ }).check();
    await page.getByRole('checkbox', { name: /Downspout extensions/ }).uncheck();
    // No script: the total still shows the preselected choice until the customer asks.
    expect(await shownTotal(page)).to.equal('$1,353.13');
    await page.getByRole('button', { name: 'Update total' }).click();
    await page.waitForLoadState();
    // 200 + 1,500 = 1,700.00; 8.25 % = 140.25.
    expect(await shownTotal(page)).to.equal('$1,840.25');
    expect(await page.getByRole('radio', { name: /Steel gutters/ }).isChecked()).to.equal(true);
    expect(await page.getByRole('checkbox', { name: /Downspout extensions/ }).isChecked()).to.equal(false);

    // Ticking a box and approving straight away would approve a total the page never showed: refused.
    await page.getByRole('checkbox', { name: /Gutter guards/ }).check();
    await page.getByLabel('Your full name').fill('Maria Delacroix');
    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: 'Approve $1,840.25' }).click();
    await page.waitForLoadState();
    expect(await page.getByRole('alert').first().textContent()).to.contain('total for your choices is not the one the page showed');
    expect((await proposalRow(proposal.id)).status).to.equal('pending');
    // The refusal shows the picks with their real total: 2,100.00 + 173.25.
    expect(await shownTotal(page)).to.equal('$2,273.25');

    await page.getByLabel(/I agree/).check();
    await page.getByRole('button', { name: 'Approve $2,273.25' }).click();
    await page.waitForURL(/result=approved/);
    const row = await proposalRow(proposal.id);
    expect(row.status).to.equal('approved');
    expect(row.total_cents).to.equal(227325);
    expect(await selectedServices(proposal.id)).to.deep.equal(['Gutter cleaning', 'Steel gutters', 'Gutter guards']);
    await context.close();
  });

  it('passes axe with the choices on screen', async () => {
    // bypassCSP only so axe can be injected; the test above runs under the real CSP.
    const { page, context } = await openProposal({ bypassCSP: true });
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }>('axe.run(document)');
    expect(result.violations.map((v) => `${v.id}: ${v.help} ${JSON.stringify(v.nodes.map((n) => n.target))}`)).to.deep.equal([]);
    await context.close();
  });
});
