// Screens where merged features meet, at 390 and 1280 px: a proposal with options
// the customer asked to change (the waiting page and the version page list each
// option as it was offered) and an invoice whose customer's link expired (the
// follow-up on hold). Screenshots in test-artifacts/seams.
import fs from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import { saveFollowupRules } from '../../src/messaging/followups.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { FOLLOWUP_RULES } from '../../src/lib/followup-rules.js';
import { closeServer, launchChromium, logInPage, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { createOptionsProposal } from '../proposals/options-fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const OUT = 'test-artifacts/seams';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  const sideways = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(sideways, `${name} scrolls sideways`).to.be.at.most(0);
}

describe('where merged features meet, in a browser', function () {
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
  beforeEach(resetPortalMisses);

  it('a proposal with options, changes requested: each option as it was offered, on the waiting page and the version page', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Clear Gutters' });
    const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Gutterowner' });
    const { proposal } = await createOptionsProposal(org.orgId, org.userId, lead.id);
    const { token } = await linkFor(org.orgId, lead.id);
    const path = `/p/${token}/proposals/${proposal.id}`;
    const view = await supertest(testApp()).get(path);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(view.text)![1].replace(/&#x3D;/g, '=');
    await supertest(testApp())
      .post(`${path}/request-changes`)
      .type('form')
      .send({ _csrf: csrf, changes: 'Copper with guards?' })
      .expect(303);

    for (const width of [390, 1280]) {
      const context = await browser!.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${base}${path}`);
      expect(await page.locator('.item-note').allTextContents()).to.deep.equal([
        'Gutter material: preselected option',
        'Gutter material: other option',
        'Gutter material: other option',
        'Optional, not included',
        'Optional, included',
      ]);
      await shot(page, `changes-requested-options-${width}`);
      await page.goto(`${base}${path}/versions/1`);
      expect(await page.locator('.item-note').count()).to.equal(5);
      await shot(page, `version-options-${width}`);
      await context.close();
    }
  });

  it('an invoice whose customer’s link expired: the follow-up on hold, with the way to a new link', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', email: 'ana.seams@example.test' });
    const actor = { type: 'user' as const, userId: org.userId };
    const invoiceId = await withOrg(org.orgId, async (db) => {
      await saveFollowupRules(
        db,
        FOLLOWUP_RULES.map((rule) => ({ rule, enabled: true, days: 3 })),
        actor,
      );
      const { link } = await generatePortalLink(db, lead.id, actor);
      await db('portal_links')
        .where({ id: link.id })
        .update({ expires_at: new Date(Date.now() - 60_000) });
      const [row] = await db('invoices')
        .insert({
          org_id: org.orgId,
          lead_id: lead.id,
          number: 1,
          status: 'open',
          currency: 'USD',
          issue_date: new Date().toISOString().slice(0, 10),
          due_date: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
          subtotal_cents: 10_000,
          total_cents: 10_000,
          issued_at: new Date(),
        })
        .returning<{ id: string }[]>('id');
      return row.id;
    });
    for (const width of [390, 1280]) {
      const context = await browser!.newContext({ viewport: { width, height: 900 } });
      const page = await logInPage(context, base, org);
      await page.goto(`${base}/invoices/${invoiceId}`);
      expect(await page.locator('#next-followup').textContent()).to.contain('Automatic follow-up on hold');
      await shot(page, `invoice-followup-on-hold-${width}`);
      await context.close();
    }
  });
});
