// Online approval and rejection in the portal: plan-gated, CSRF-protected, once only.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { parseForm } from '../../src/lib/forms.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { getProposal, getProposalItems, proposalContentSha256 } from '../../src/proposals/queries.js';
import { updateProposal } from '../../src/proposals/commands.js';
import type { PlanId } from '../../src/plans.js';
import type { ProposalRow } from '../../src/db/rows.js';
import type { AuditEventRecord, PortalLinkRecord } from '../support/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

function formTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

/** The approval form's hidden fields as the page rendered them (form token and the content hash shown). */
function approveFieldsFrom(html: string): { _csrf: string; contentSha256: string } {
  const match = /name="contentSha256" value="([0-9a-f]{64})"/.exec(html);
  if (!match) throw new Error('no content hash in the approval form');
  return { _csrf: formTokenFrom(html), contentSha256: match[1] };
}

async function setup(plan: PlanId) {
  const org = await createTestOrg({ plan, name: 'Clear Pools' });
  const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Poolowner' });
  const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 2, pendingProposals: 2 });
  const { token } = await linkFor(org.orgId, lead.id);
  const proposalId = records.pendingProposalIds[0];
  const page = `/p/${token}/proposals/${proposalId}`;
  return { org, lead, token, proposalId, page, records };
}

const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();
const jobsFor = (proposalId: string) => getDb()('jobs').where({ proposal_id: proposalId });

describe('portal approval', () => {
  const app = () => supertest(testApp());
  beforeEach(resetPortalMisses);

  it('approves once on Starter: name, time, IP, user agent, content hash, one job, audit; a second submit shows the outcome', async () => {
    const { org, page, proposalId } = await setup('starter');
    const view = await app().get(page);
    // The amount and its Approve action lead the page, above the line items; the form repeats it at the end.
    expect(view.text).to.contain('Approve $346.50').and.to.contain('I agree');
    expect(view.text.indexOf('href="#approve"')).to.be.lessThan(view.text.indexOf('items-heading'));
    const fields = approveFieldsFrom(view.text);
    const csrf = fields._csrf;
    const res = await app()
      .post(`${page}/approve`)
      .set('User-Agent', 'PortalTest/1.0')
      .type('form')
      .send({ ...fields, approverName: '  Pat Poolowner ', agree: 'yes' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=approved`);
    expect(res.headers['cache-control']).to.equal('no-store');
    const row = await proposalRow(proposalId);
    expect(row.status).to.equal('approved');
    expect(row.approval_source).to.equal('portal');
    expect(row.approved_by_name).to.equal('Pat Poolowner');
    expect(row.approved_at).to.be.instanceOf(Date);
    expect(row.approved_ip).to.match(/127\.0\.0\.1|::1/);
    expect(row.approved_user_agent).to.equal('PortalTest/1.0');
    expect(row.approved_content_sha256).to.equal(fields.contentSha256);
    expect(await jobsFor(proposalId)).to.have.length(1);
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'proposal.approved', subject_id: proposalId })
      .select<AuditEventRecord[]>();
    expect(audit).to.have.length(1);
    expect(audit[0].actor_type).to.equal('customer');
    expect(audit[0].actor_label).to.equal('Pat Poolowner');
    const [job] = await jobsFor(proposalId).select<{ id: string }[]>('id');
    expect(audit[0].subject_type).to.equal('proposal');
    expect(audit[0].data).to.deep.equal({ number: row.number, source: 'portal', approver_name: 'Pat Poolowner', job_id: job.id });

    const shown = await app().get(`${page}?result=approved`);
    expect(shown.text).to.contain('You approved this proposal').and.to.contain('Approved by Pat Poolowner');
    // No form but the header's language switch.
    expect(shown.text.replace(/<form[^>]*class="language-switch"[\s\S]*?<\/form>/, '')).not.to.contain('action="');

    const again = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes' });
    expect(again.status).to.equal(303);
    expect(again.headers.location).to.equal(`${page}?result=already`);
    const reject = await app().post(`${page}/reject`).type('form').send({ _csrf: csrf, reason: 'changed my mind' });
    expect(reject.headers.location).to.equal(`${page}?result=already`);
    expect((await proposalRow(proposalId)).status).to.equal('approved');
    expect(await jobsFor(proposalId)).to.have.length(1);
    expect(await getDb()('audit_events').where({ org_id: org.orgId, action: 'proposal.approved' })).to.have.length(1);
  });

  it('carries the hash of exactly what is shown: the same hash the service computes from the stored proposal', async () => {
    const { org, page, proposalId } = await setup('starter');
    const { contentSha256 } = approveFieldsFrom((await app().get(page)).text);
    const stored = await withOrg(org.orgId, async (db) =>
      proposalContentSha256(await getProposal(db, proposalId), await getProposalItems(db, proposalId)),
    );
    expect(contentSha256).to.equal(stored);
  });

  it('refuses to approve a proposal that staff changed after the customer opened it (409, current version shown, nothing written)', async () => {
    const { org, lead, page, proposalId } = await setup('starter');
    const shown = await app().get(page);
    expect(shown.text).to.contain('$346.50');
    const fields = approveFieldsFrom(shown.text);

    // Staff raise the price while the customer is reading.
    const input = parseForm(proposalFormSchema('USD'), {
      lead_id: lead.id,
      title: 'Gutter work, revised',
      tax_rate: '5',
      items: [{ service: 'Gutter cleaning', description: '', quantity: '2', unit_price: '475' }],
    });
    await withOrg(org.orgId, (db) => updateProposal(db, proposalId, input, { type: 'user', userId: org.userId, label: org.email }));

    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes' });
    expect(res.status).to.equal(409);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.text).to.contain('This proposal was changed after you opened it');
    expect(res.text).to.contain('Gutter work, revised').and.to.contain('$997.50');
    expect(res.text).to.contain('value="Pat Poolowner"');
    const fresh = approveFieldsFrom(res.text);
    expect(fresh.contentSha256).not.to.equal(fields.contentSha256);
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await jobsFor(proposalId)).to.have.length(0);
    expect(await getDb()('audit_events').where({ org_id: org.orgId, action: 'proposal.approved' })).to.have.length(0);

    // A form without the hash (or with a forged one) is treated the same way.
    for (const contentSha256 of [undefined, 'f'.repeat(64)]) {
      const bare = await app()
        .post(`${page}/approve`)
        .type('form')
        .send({ _csrf: fields._csrf, contentSha256, approverName: 'Pat Poolowner', agree: 'yes' });
      expect(bare.status).to.equal(409);
    }

    // Approving what is now on screen works, and records that content.
    const ok = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fresh, approverName: 'Pat Poolowner', agree: 'yes' });
    expect(ok.status).to.equal(303);
    expect(ok.headers.location).to.equal(`${page}?result=approved`);
    const row = await proposalRow(proposalId);
    expect(row.status).to.equal('approved');
    expect(row.approved_content_sha256).to.equal(fresh.contentSha256);
    expect(Number(row.total_cents)).to.equal(99_750);
  });

  it('makes exactly one job when the same approval is submitted twice at once', async () => {
    const { page, proposalId } = await setup('pro');
    const fields = approveFieldsFrom((await app().get(page)).text);
    const results = await Promise.all(
      [0, 1, 2, 3].map(() =>
        app()
          .post(`${page}/approve`)
          .type('form')
          .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes' }),
      ),
    );
    const outcomes = results.map((r) => r.headers.location?.split('result=')[1]).sort();
    expect(outcomes).to.deep.equal(['already', 'already', 'already', 'approved']);
    expect(await jobsFor(proposalId)).to.have.length(1);
  });

  it('asks for the typed name and the I agree box (422, nothing changed)', async () => {
    const { page, proposalId } = await setup('starter');
    const csrf = formTokenFrom((await app().get(page)).text);
    const noName = await app().post(`${page}/approve`).type('form').send({ _csrf: csrf, approverName: ' ', agree: 'yes' });
    expect(noName.status).to.equal(422);
    expect(noName.text).to.contain('Type your full name').and.to.contain('aria-invalid="true"');
    const noAgree = await app().post(`${page}/approve`).type('form').send({ _csrf: csrf, approverName: 'Pat Poolowner' });
    expect(noAgree.status).to.equal(422);
    expect(noAgree.text).to.contain('Tick the box').and.to.contain('value="Pat Poolowner"');
    expect(noAgree.headers['cache-control']).to.equal('no-store');
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await jobsFor(proposalId)).to.have.length(0);
  });

  it('a refused approval says each thing once, keeps the ticked box and opens at the field to fix', async () => {
    const { page } = await setup('starter');
    const csrf = formTokenFrom((await app().get(page)).text);
    const count = (html: string, text: string) => html.split(text).length - 1;
    const noName = (await app().post(`${page}/approve`).type('form').send({ _csrf: csrf, approverName: ' ', agree: 'yes' })).text;
    expect(count(noName, 'Type your full name')).to.equal(1);
    expect(noName).to.match(/<input type="checkbox" id="agree" name="agree" value="yes" required checked\s*>/);
    // The page comes back at its top: the browser moves to the one field carrying autofocus, the one to fix.
    expect(count(noName, 'autofocus')).to.equal(1);
    expect(noName).to.match(/id="approverName"[^>]*aria-invalid="true"[^>]*autofocus/);

    const noAgree = (await app().post(`${page}/approve`).type('form').send({ _csrf: csrf, approverName: 'Pat Poolowner' })).text;
    expect(count(noAgree, 'Tick the box to confirm you agree')).to.equal(1);
    expect(count(noAgree, 'autofocus')).to.equal(1);
    expect(noAgree).to.match(/id="agree"[^>]*aria-invalid="true"[^>]*autofocus/);
    expect(noAgree).not.to.match(/id="agree"[^>]*checked/);

    // The page as opened: nothing is focused, and "Decline" leads into its closed panel's form (which the browser opens).
    const opened = (await app().get(page)).text;
    expect(opened).not.to.contain('autofocus');
    expect(opened).to.contain('href="#decline-form"');
    expect(opened).to.match(/<details class="panel decline" id="decline">[\s\S]*?<form [^>]*id="decline-form"/);
  });

  it('a result in the address says nothing the proposal does not bear out (a bookmarked ?result=approved on a pending one)', async () => {
    const { page } = await setup('starter');
    for (const result of ['approved', 'rejected', 'changes', 'already']) {
      const view = await app().get(`${page}?result=${result}`);
      expect(view.status).to.equal(200);
      expect(view.text, result).to.not.contain('class="flash');
      expect(view.text, result).to.contain('Approve $346.50');
    }
  });

  it('refuses a POST without a valid form token (403), changing nothing', async () => {
    const { page, proposalId, org } = await setup('starter');
    const other = await setup('starter');
    const otherCsrf = formTokenFrom((await app().get(other.page)).text);
    for (const body of [{}, { _csrf: 'forged' }, { _csrf: otherCsrf }]) {
      const res = await app()
        .post(`${page}/approve`)
        .type('form')
        .send({ ...body, approverName: 'Mallory', agree: 'yes' });
      expect(res.status).to.equal(403);
      expect(res.headers['cache-control']).to.equal('no-store');
      const rej = await app()
        .post(`${page}/reject`)
        .type('form')
        .send({ ...body });
      expect(rej.status).to.equal(403);
    }
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await getDb()('audit_events').where({ org_id: org.orgId }).whereLike('action', 'proposal.%')).to.have.length(0);
  });

  it('is read-only on Free: no form, call / text / email / WhatsApp links to accept, and a POST is refused', async () => {
    const { page, proposalId, token, org } = await setup('free');
    // No contact details yet: no dead end naming the business without a way to reach it.
    const bare = await app().get(page);
    expect(bare.text).to.contain('How to accept this proposal').and.to.contain('Reply to the message that brought you this link');
    expect(bare.text).not.to.contain('please contact');

    await getDb()('organizations')
      .where({ id: org.orgId })
      .update({ phone: '+15555550142', email: 'office@clearpools.example', whatsapp_number: '+15555550143' });
    const view = await app().get(page);
    expect(view.status).to.equal(200);
    expect(view.text).not.to.contain('/approve"');
    const accept = view.text.slice(view.text.indexOf('How to accept this proposal'), view.text.indexOf('items-heading'));
    expect(accept).to.contain('href="tel:+15555550142"').and.to.contain('href="sms:+15555550142"');
    expect(accept).to.contain('Call (555) 555-0142');
    const mailto = /href="(mailto:[^"]+)"/
      .exec(accept)![1]
      .replace(/&amp;/g, '&')
      .replace(/&#x3D;/g, '=');
    expect(mailto).to.match(/^mailto:office@clearpools\.example\?subject=Accepting%20proposal%20%23\d+&body=/);
    expect(decodeURIComponent(mailto.split('body=')[1])).to.match(/I accept proposal #\d+ \(.+, \$346\.50\)/);
    const wa = /href="(https:\/\/wa\.me\/[^"]+)"/.exec(accept)![1].replace(/&#x3D;/g, '=');
    expect(wa).to.match(/^https:\/\/wa\.me\/15555550143\?text=/);
    expect(decodeURIComponent(wa.split('text=')[1]))
      .to.contain('Pat Poolowner')
      .and.to.match(/I accept proposal #\d+/);
    // Even with a valid form token from a Starter era, the Free plan refuses.
    const { portalFormToken } = await import('../../src/portal-links/token.js');
    const link = await getDb()('portal_links')
      .where({ token_sha256: (await import('../../src/portal-links/token.js')).hashPortalToken(token) })
      .first<PortalLinkRecord>();
    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ _csrf: portalFormToken(link.id), approverName: 'Pat', agree: 'yes' });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain('contact them');
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await jobsFor(proposalId)).to.have.length(0);
  });

  it('shows a proposal past its valid-until date as expired, with no Approve form, and refuses a POST approve (410)', async () => {
    const { page, proposalId, org } = await setup('starter');
    const fields = approveFieldsFrom((await app().get(page)).text);
    // Yesterday in the business's zone (the fixture org's zone), so the offer is over.
    const tz = (await getDb()('organizations').where({ id: org.orgId }).first<{ time_zone: string }>('time_zone')).time_zone;
    const { addDays, todayIn } = await import('../../src/lib/dates.js');
    await getDb()('proposals')
      .where({ id: proposalId })
      .update({ valid_until: addDays(todayIn(tz), -1) });

    const view = await app().get(page);
    expect(view.status).to.equal(200);
    expect(view.text).to.contain('Expired').and.to.contain('This proposal has expired').and.to.contain('for an updated proposal');
    expect(view.text).not.to.contain('/approve"');
    expect(view.text).not.to.contain('I agree');

    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ ...fields, approverName: 'Pat Poolowner', agree: 'yes' });
    expect(res.status).to.equal(410);
    expect(res.text).to.contain('This proposal has expired');
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await jobsFor(proposalId)).to.have.length(0);

    // Valid through today: still open.
    await getDb()('proposals')
      .where({ id: proposalId })
      .update({ valid_until: todayIn(tz) });
    expect((await app().get(page)).text).to.contain('/approve"');
  });

  it('rejects with an optional reason, once', async () => {
    const { page, proposalId, records, org } = await setup('starter');
    const csrf = formTokenFrom((await app().get(page)).text);
    const res = await app().post(`${page}/reject`).type('form').send({ _csrf: csrf, reason: 'Too expensive for now' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=rejected`);
    const row = await proposalRow(proposalId);
    expect(row.status).to.equal('rejected');
    expect(row.rejection_reason).to.equal('Too expensive for now');
    expect(await jobsFor(proposalId)).to.have.length(0);
    const again = await app().post(`${page}/reject`).type('form').send({ _csrf: csrf });
    expect(again.headers.location).to.equal(`${page}?result=already`);
    expect(await getDb()('audit_events').where({ org_id: org.orgId, action: 'proposal.rejected' })).to.have.length(1);
    // Without a reason.
    const second = page.replace(proposalId, records.pendingProposalIds[1]);
    const res2 = await app().post(`${second}/reject`).type('form').send({ _csrf: csrf });
    expect(res2.headers.location).to.equal(`${second}?result=rejected`);
    expect((await proposalRow(records.pendingProposalIds[1])).rejection_reason).to.equal(null);
  });

  it('refuses a rejection reason over 1000 characters (422, nothing changed)', async () => {
    const { page, proposalId } = await setup('starter');
    const csrf = formTokenFrom((await app().get(page)).text);
    const long = await app()
      .post(`${page}/reject`)
      .type('form')
      .send({ _csrf: csrf, reason: 'x'.repeat(1001) });
    expect(long.status).to.equal(422);
    expect(long.text).to.contain('at most 1000 characters');
    expect((await proposalRow(proposalId)).status).to.equal('pending');
  });

  it("answers another customer's proposal under a valid link with the plain 404", async () => {
    const a = await setup('starter');
    const b = await setup('starter');
    const csrf = formTokenFrom((await app().get(a.page)).text);
    const res = await app()
      .post(`/p/${a.token}/proposals/${b.proposalId}/approve`)
      .type('form')
      .send({ _csrf: csrf, approverName: 'Pat', agree: 'yes' });
    expect(res.status).to.equal(404);
    expect(res.text).to.contain('This link isn’t available');
    expect((await proposalRow(b.proposalId)).status).to.equal('pending');
  });
});
