// The contractor marks optional lines and alternatives in the line-item editor
// (issue 13 point 4) in a phone browser: the live total counts only what is
// preselected, added rows get the choice fields too, and the saved proposal's
// lines and total are what the screen showed.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { getDb } from '../../src/db/knex.js';
import type { ProposalItemRow, ProposalRow } from '../../src/db/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';

describe('proposal options in the editor, in a phone browser', function () {
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

  it('counts only preselected lines in the live total and saves each line’s choice', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await logInPage(context, base, org);

    await page.goto(`${base}/proposals/new?leadId=${lead.id}`);
    await page.getByLabel('Title').fill('Gutters, three ways');
    await page.getByLabel('Tax rate (%)').fill('10');
    const lines = page.locator('fieldset.line-items .line-item');
    const fill = async (n: number, service: string, price: string, choice: string, group = '') => {
      const line = lines.nth(n);
      await line.getByLabel('Service').fill(service);
      await line.getByLabel('Quantity').fill('1');
      await line.getByLabel('Unit price').fill(price);
      await line.getByLabel('Customer choice').selectOption(choice);
      await line.getByLabel('Group of alternatives').fill(group);
    };
    await fill(0, 'Aluminium', '100', 'alternative_default', 'Material');
    await fill(1, 'Copper', '300', 'alternative', 'Material');
    await fill(2, 'Guards', '50', 'optional');
    const totals = page.locator('.live-totals');
    // Only the preselected Aluminium counts: 100 + 10 % tax.
    expect(await totals.textContent()).to.equal('Subtotal $100.00 · Tax $10.00 · Total $110.00');

    // An added row has its own choice fields, named for its position.
    await page.getByRole('button', { name: 'Add a line' }).click();
    const added = lines.nth(3);
    expect(await added.getByLabel('Customer choice').getAttribute('name')).to.equal('items[3][choice]');
    expect(await added.getByLabel('Customer choice').inputValue()).to.equal('');
    await fill(3, 'Haul away', '20', '');
    await lines.nth(2).getByLabel('Customer choice').selectOption('optional_selected');
    // 100 + 50 + 20 = 170, + 17 tax.
    expect(await totals.textContent()).to.equal('Subtotal $170.00 · Tax $17.00 · Total $187.00');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')).to.be.at.most(0);

    await page.getByRole('button', { name: /^Save/ }).click();
    await page.waitForURL(/\/proposals\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;
    const proposal = await getDb()('proposals').where({ id }).first<ProposalRow>();
    expect(proposal.total_cents).to.equal(18700);
    const items = await getDb()('proposal_items').where({ proposal_id: id }).orderBy('position').select<ProposalItemRow[]>();
    expect(items.map((i) => [i.service, i.optional, i.group_label, i.selected])).to.deep.equal([
      ['Aluminium', false, 'Material', true],
      ['Copper', false, 'Material', false],
      ['Guards', true, null, true],
      ['Haul away', false, null, true],
    ]);
    await context.close();
  });
});
