// Issue #13 point 5 in a real phone-sized browser: asking for changes from the
// proposal page, then reading the revision and the superseded version.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { withOrg } from '../../src/db/tenancy.js';
import { parseForm } from '../../src/lib/forms.js';
import { updateProposal } from '../../src/proposals/commands.js';
import { markRevisionSent } from '../../src/proposals/revisions.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

describe('portal change requests in a phone browser', function () {
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

  it('asks for changes, then sees the revision with the old version readable as superseded', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Clear Pools' });
    const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Poolowner' });
    const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
    const { url } = await linkFor(org.orgId, lead.id);
    const proposalId = records.pendingProposalIds[0];
    const path = `${new URL(url).pathname}/proposals/${proposalId}`;

    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${base}${path}`);
    await page.getByText('Ask for changes').click();
    await page.getByLabel('What would you like changed?').fill('Mesh guards instead, please.');
    await Promise.all([page.waitForURL(/result=changes/), page.getByRole('button', { name: 'Send my request' }).click()]);
    expect(await page.getByRole('heading', { name: 'You asked for changes' }).isVisible()).to.equal(true);
    expect(await page.getByText('Mesh guards instead, please.').isVisible()).to.equal(true);
    expect(await page.locator('#approve').count()).to.equal(0);

    // The business revises and sends it (the HTTP path is covered by change-requests.test.ts).
    const actor = { type: 'user' as const, userId: org.userId };
    await withOrg(org.orgId, async (db) => {
      const input = parseForm(proposalFormSchema('USD'), {
        lead_id: lead.id,
        title: 'Gutter work, mesh guards',
        items: [{ service: 'Mesh leaf guard', quantity: '1', unit_price: '210' }],
      });
      await updateProposal(db, proposalId, input, actor);
      await markRevisionSent(db, proposalId, actor);
    });

    await page.goto(`${base}${path}`);
    expect(await page.getByText('Gutter work, mesh guards').isVisible()).to.equal(true);
    expect(await page.locator('#approve').count()).to.equal(1);
    await Promise.all([page.waitForURL(/versions\/1$/), page.getByRole('link', { name: 'Version 1' }).click()]);
    expect(await page.getByRole('heading', { name: /version 1/ }).isVisible()).to.equal(true);
    expect(await page.locator('.summary .badge.superseded').isVisible()).to.equal(true);
    expect(await page.getByText('Leaf guard', { exact: true }).isVisible()).to.equal(true);
    // The only form is the header's language switch.
    expect(await page.locator('form:not(.language-switch)').count()).to.equal(0);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).to.equal(0);
    await context.close();
  });
});
