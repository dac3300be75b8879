// Every kind of portal page passes axe-core (0 violations) and the Nu HTML
// checker (0 errors): the welcome, the four tabs, a proposal to approve, one to
// accept by message (Free), an expired one, an invoice with Pay, and the 404.
// `npm run audit:portal` adds Lighthouse and screenshots on top of these.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { addDays, todayIn } from '../../src/lib/dates.js';
import { markChangesRequested, markRevisionSent } from '../../src/proposals/revisions.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { closeServer, launchChromium, serveTestApp, skipWithoutChromium } from '../support/browser.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const require = createRequire(import.meta.url);
const AXE = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');
const VNU = path.join(path.dirname(require.resolve('vnu-jar')), 'build', 'dist', 'vnu.jar');

function javaWorks(): boolean {
  try {
    execFileSync('java', ['-version'], { stdio: 'pipe' });
    return fs.existsSync(VNU);
  } catch {
    return false;
  }
}

describe('portal pages: axe and the Nu HTML checker', function () {
  this.timeout(120_000);
  let server: Server;
  let base: string;
  const pages: { name: string; path: string; plan?: 'free' | 'starter' }[] = [];
  let orgId: string;

  before(async function () {
    ({ server, base } = await serveTestApp());
    const org = await createTestOrg({ plan: 'starter', name: 'Maple & Pine Landscaping' });
    orgId = org.orgId;
    await getDb()('organizations').where({ id: orgId }).update({
      phone: '+15555550142',
      email: 'hello@maplepine.example',
      whatsapp_number: '+15555550143',
      address: '12 Elm Street, Springfield',
    });
    const lead = await createTestLead(orgId, { first_name: 'Jo', last_name: 'Marsh' });
    const records = await seedCustomerRecords(orgId, lead.id, {
      proposals: 3,
      pendingProposals: 2,
      invoices: 2,
      openInvoices: 1,
      payments: 2,
      jobs: 3,
      upcomingJobs: 1,
    });
    await getDb()('proposals')
      .where({ id: records.pendingProposalIds[1] })
      .update({ valid_until: addDays(todayIn('America/New_York'), -10) });
    const newcomer = await createTestLead(orgId, { first_name: 'Sam', last_name: 'New' });
    const p = new URL((await linkFor(orgId, lead.id)).url).pathname;
    pages.push(
      { name: 'welcome', path: new URL((await linkFor(orgId, newcomer.id)).url).pathname },
      { name: 'proposals', path: `${p}/proposals` },
      { name: 'invoices', path: `${p}/invoices` },
      { name: 'payments', path: `${p}/payments` },
      { name: 'history', path: `${p}/history` },
      { name: 'request work', path: `${p}/request` },
      { name: 'request sent', path: `${p}/request?sent=work` },
      { name: 'ask to reschedule', path: `${p}/visits/${records.jobIds[0]}/reschedule` },
      { name: 'proposal', path: `${p}/proposals/${records.pendingProposalIds[0]}` },
      { name: 'proposal on Free', path: `${p}/proposals/${records.pendingProposalIds[0]}`, plan: 'free' },
      { name: 'expired proposal', path: `${p}/proposals/${records.pendingProposalIds[1]}` },
      { name: 'invoice', path: `${p}/invoices/${records.invoiceIds[0]}` },
      { name: 'not found', path: '/p/no-such-link' },
    );
    // Signed, changes requested, revised with an earlier version, and that superseded version (issue #13).
    const signer = await createTestLead(orgId, { first_name: 'Lee', last_name: 'Signer' });
    const theirs = await seedCustomerRecords(orgId, signer.id, { proposals: 3, pendingProposals: 3 });
    const [signed, asked, revised] = theirs.pendingProposalIds;
    const actor = { type: 'system' as const, label: 'test' };
    await withOrg(orgId, async (db) => {
      const signature = { signerName: 'Lee Signer', imagePng: null };
      await approveProposal(db, signed, { source: 'portal', approverName: 'Lee Signer', signature }, actor);
      for (const id of [asked, revised]) await markChangesRequested(db, id, { message: 'Mesh guards, please.\nAnd a later date.' }, actor);
      await markRevisionSent(db, revised, actor);
    });
    const s = new URL((await linkFor(orgId, signer.id)).url).pathname;
    pages.push(
      { name: 'signed proposal', path: `${s}/proposals/${signed}` },
      { name: 'changes requested', path: `${s}/proposals/${asked}` },
      { name: 'revised proposal', path: `${s}/proposals/${revised}` },
      { name: 'superseded version', path: `${s}/proposals/${revised}/versions/1` },
    );
    for (const p of pages.slice(-4)) expect((await fetch(base + p.path)).status, p.name).to.equal(200);
  });

  after(async () => {
    await closeServer(server);
  });

  beforeEach(resetPortalMisses);

  const setPlan = (plan: string) => getDb()('organizations').where({ id: orgId }).update({ plan });

  it('has 0 axe violations on every page at 390 and 1280 px', async function () {
    skipWithoutChromium(this);
    const browser = await launchChromium();
    try {
      const found: string[] = [];
      for (const width of [390, 1280]) {
        const context = await browser.newContext({ viewport: { width, height: 844 }, bypassCSP: true });
        const page = await context.newPage();
        for (const p of pages) {
          await setPlan(p.plan ?? 'starter');
          await page.goto(base + p.path);
          await page.addScriptTag({ path: AXE });
          const { violations } = await page.evaluate<{ violations: { id: string; nodes: { target: string[] }[] }[] }>('axe.run(document)');
          for (const v of violations) found.push(`${width}px ${p.name}: ${v.id} ${JSON.stringify(v.nodes.map((n) => n.target))}`);
        }
        await context.close();
      }
      expect(found).to.deep.equal([]);
    } finally {
      await browser.close();
      await setPlan('starter');
    }
  });

  it('has 0 Nu HTML checker errors on every page', async function () {
    if (!javaWorks()) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-nu-'));
    try {
      const files: string[] = [];
      for (const [i, p] of pages.entries()) {
        await setPlan(p.plan ?? 'starter');
        const file = path.join(dir, `${i}.html`);
        fs.writeFileSync(file, await (await fetch(base + p.path)).text());
        files.push(file);
      }
      const { stdout } = await promisify(execFile)('java', ['-jar', VNU, '--format', 'json', '--stdout', '--exit-zero-always', ...files], {
        maxBuffer: 10 * 1024 * 1024,
      });
      const { messages } = JSON.parse(stdout) as { messages: { type: string; url: string; message: string; lastLine?: number }[] };
      const errors = messages
        .filter((m) => m.type === 'error')
        .map((m) => `${pages[Number(path.basename(m.url, '.html'))]?.name}:${m.lastLine ?? ''} ${m.message}`);
      expect(errors).to.deep.equal([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await setPlan('starter');
    }
  });
});
