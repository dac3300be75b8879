// Issue #13 point 5: besides Approve and Decline the customer can ask for changes
// with a message. The version they saw is frozen with it; the business sees it on
// the proposal and the dashboard home and gets an email through the outbox; a
// revision sent with "Send to customer" is the next version, and the old one stays
// readable in the portal, marked superseded.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { PDFParse } from 'pdf-parse';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import type { ProposalRow, ProposalVersionRow } from '../../src/db/rows.js';
import { deliverMessage } from '../../src/messaging/deliver.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { seedCustomerRecords } from './fixtures.js';
import { linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());

function formTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

async function setup(plan: 'starter' | 'free' = 'starter') {
  const org = await createTestOrg({ plan, name: 'Clear Pools' });
  const lead = await createTestLead(org.orgId, { first_name: 'Pat', last_name: 'Poolowner', email: 'pat@example.com' });
  const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
  const { token } = await linkFor(org.orgId, lead.id);
  const proposalId = records.pendingProposalIds[0];
  return { org, lead, token, proposalId, page: `/p/${token}/proposals/${proposalId}` };
}

const proposalRow = (id: string) => getDb()('proposals').where({ id }).first<ProposalRow>();
const versionsOf = (proposalId: string) =>
  getDb()('proposal_versions').where({ proposal_id: proposalId }).orderBy('version').select<ProposalVersionRow[]>();
const noticesFor = (orgId: string) =>
  getDb()('message_deliveries')
    .where({ org_id: orgId })
    .whereNull('portal_link_id')
    .select<{ id: string; to_address: string; subject: string; body_text: string; body_html: string; status: string }[]>();

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

async function pdfText(request: supertest.Test): Promise<string> {
  const res = await request.buffer(true).parse(binary);
  const parser = new PDFParse({ data: new Uint8Array(res.body as Buffer) });
  try {
    return (await parser.getText()).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

const MESSAGE = 'Could you swap the leaf guard for mesh? <script>alert(1)</script>\nAnd drop the back gutter.';

async function requestChanges(page: string, changes = MESSAGE) {
  const view = await app().get(page);
  return app()
    .post(`${page}/request-changes`)
    .type('form')
    .send({ _csrf: formTokenFrom(view.text), changes });
}

describe('portal: request changes', () => {
  let smtp: TestSmtp;
  const saved = { url: config.smtp.url, from: config.smtp.from };
  before(async () => {
    smtp = await startTestSmtp();
    config.smtp.url = smtp.url;
    config.smtp.from = 'Porchlight <no-reply@porchlight.test>';
    closeTransports();
  });
  after(async () => {
    config.smtp.url = saved.url;
    config.smtp.from = saved.from;
    closeTransports();
    await smtp.close();
  });
  beforeEach(async () => {
    smtp.inbox.length = 0;
    await resetPortalMisses();
  });

  it('lists the email to the business as a notice to it, never among what was sent to the customer', async () => {
    const { org, lead, page } = await setup();
    expect((await requestChanges(page)).status).to.equal(303);
    const [notice] = await getDb()('message_deliveries').where({ org_id: org.orgId }).select<{ purpose: string }[]>('purpose');
    expect(notice.purpose).to.equal('notice');
    const agent = await loginAgent(org.email, org.password);
    const customer = (await agent.get(`/customers/${lead.id}`)).text;
    expect(customer).not.to.contain(org.email);
    const log = (await agent.get('/messages')).text;
    expect(log).to.contain('To your business: about this customer').and.contain(org.email);
    await getDb()('message_deliveries').where({ org_id: org.orgId }).update({ status: 'failed', last_error: 'test cleanup' });
  });

  it('freezes the version shown with the message, stops Approve, and emails the business through the outbox', async () => {
    const { org, page, proposalId } = await setup();
    const view = await app().get(page);
    expect(view.text).to.contain('Ask for changes').and.to.contain(`action="${page}/request-changes"`);

    const res = await requestChanges(page);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`${page}?result=changes`);
    const row = await proposalRow(proposalId);
    expect(row.status).to.equal('changes_requested');
    expect(row.version).to.equal(1);
    const [version, ...more] = await versionsOf(proposalId);
    expect(more).to.have.length(0);
    expect(version.version).to.equal(1);
    expect(version.change_message).to.equal(MESSAGE);
    expect(version.superseded_at).to.equal(null);
    expect(version.requested_ip).to.match(/127\.0\.0\.1|::1/);
    expect(crypto.createHash('sha256').update(version.content_json).digest('hex')).to.equal(version.content_sha256);
    expect(JSON.parse(version.content_json)).to.include({ total_cents: 34650 });

    // The business's email: one outbox row (no portal link), sent by the worker's processor.
    const notices = await noticesFor(org.orgId);
    expect(notices).to.have.length(1);
    expect(notices[0].to_address).to.equal(org.email); // no public business email yet: the owner's
    expect(['pending', 'queued']).to.include(notices[0].status);
    expect(notices[0].body_html).to.contain('&lt;script&gt;').and.not.to.contain('<script>');
    const outcome = await deliverMessage({ deliveryId: notices[0].id, orgId: org.orgId }, { attempt: 1, maxAttempts: 5 });
    expect(outcome.result).to.equal('sent');
    expect(smtp.inbox).to.have.length(1);
    const mail = smtp.inbox[0];
    expect(mail.subject).to.equal(`Pat Poolowner asked for changes to proposal #${row.number}`);
    expect(mail.text).to.contain('Could you swap the leaf guard for mesh?').and.to.contain(`http://127.0.0.1:3999/proposals/${proposalId}`);

    const shown = await app().get(`${page}?result=changes`);
    expect(shown.text).to.contain('Your request was sent to Clear Pools').and.to.contain('You asked for changes');
    expect(shown.text).to.contain('Could you swap the leaf guard for mesh? &lt;script&gt;');
    expect(shown.text).to.contain('Changes requested');
    expect(shown.text).not.to.contain('/approve"').and.not.to.contain('/request-changes"');

    // Asked again (a double submit, another tab): nothing more is written.
    const again = await app()
      .post(`${page}/request-changes`)
      .type('form')
      .send({ _csrf: formTokenFrom(view.text), changes: 'again' });
    expect(again.headers.location).to.equal(`${page}?result=already`);
    expect(await versionsOf(proposalId)).to.have.length(1);
    expect(await noticesFor(org.orgId)).to.have.length(1);
    const approve = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ _csrf: formTokenFrom(view.text), approverName: 'Pat Poolowner', agree: 'yes' });
    expect(approve.headers.location).to.equal(`${page}?result=already`);
    expect((await proposalRow(proposalId)).status).to.equal('changes_requested');
  });

  it('shows the request on the proposal page and the dashboard home', async () => {
    const { org, page, proposalId } = await setup();
    await requestChanges(page);
    const agent = await loginAgent(org.email, org.password);
    const home = await agent.get('/');
    expect(home.text).to.contain('Customers asked for changes').and.to.contain(`href="/proposals/${proposalId}"`);
    expect(home.text).to.contain('Could you swap the leaf guard for mesh? &lt;script&gt;');
    const show = await agent.get(`/proposals/${proposalId}`);
    expect(show.text).to.contain('Pat Poolowner asked for changes').and.to.contain('And drop the back gutter.');
    expect(show.text).to.contain(`href="/proposals/${proposalId}/edit">Revise</a>`);
    expect(show.text).to.contain('Send revised proposal');
    expect(show.text).to.contain('Changes requested');
  });

  it('refuses an empty or overlong message and a missing form token, writing nothing', async () => {
    const { org, page, proposalId } = await setup();
    const empty = await requestChanges(page, '   ');
    expect(empty.status).to.equal(422);
    expect(empty.text).to.contain('Tell them what you would like changed');
    expect(empty.text).to.match(/<details class="panel decline changes" id="request-changes" open>/);
    const long = await requestChanges(page, 'x'.repeat(2001));
    expect(long.status).to.equal(422);
    expect(long.text).to.contain('Use at most 2000 characters');
    const noToken = await app().post(`${page}/request-changes`).type('form').send({ changes: 'Please change it' });
    expect(noToken.status).to.equal(403);
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await versionsOf(proposalId)).to.have.length(0);
    expect(await noticesFor(org.orgId)).to.have.length(0);
  });

  it('is an online answer like Approve: not offered on Free, and a POST is refused (403, nothing written)', async () => {
    const { org, lead, page, proposalId } = await setup('free');
    const view = await app().get(page);
    expect(view.text).not.to.contain('request-changes');
    const link = await getDb()('portal_links').where({ lead_id: lead.id }).first<{ id: string }>('id');
    const res = await app()
      .post(`${page}/request-changes`)
      .type('form')
      .send({ _csrf: portalFormToken(link.id), changes: 'Cheaper please' });
    expect(res.status).to.equal(403);
    expect((await proposalRow(proposalId)).status).to.equal('pending');
    expect(await versionsOf(proposalId)).to.have.length(0);
    expect(await noticesFor(org.orgId)).to.have.length(0);
  });

  it('revises and resends through Send to customer: version 2 in the portal, version 1 readable and superseded', async () => {
    const { org, lead, page, proposalId } = await setup();
    await requestChanges(page);
    const agent = await loginAgent(org.email, org.password);

    // Revise: the edit form is open for a proposal with changes requested.
    const edit = await agent.get(`/proposals/${proposalId}/edit`);
    expect(edit.status).to.equal(200);
    const saved = await agent
      .post(`/proposals/${proposalId}`)
      .type('form')
      .send({
        _csrf: csrfFrom(edit.text),
        lead_id: lead.id,
        title: 'Gutter work, mesh guards',
        tax_rate: '0',
        'items[0][service]': 'Mesh leaf guard',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '210.00',
      });
    expect(saved.status, saved.text.match(/class="error"[^<]*<[^>]*>[^<]*/g)?.join(' | ')).to.equal(303);
    expect((await proposalRow(proposalId)).status).to.equal('changes_requested');
    // Until it is sent, the customer still sees the version they asked about, not the edit in progress.
    const meanwhile = await app().get(page);
    expect(meanwhile.text).to.contain('Gutter work option').and.to.contain('$346.50');
    expect(meanwhile.text).not.to.contain('mesh guards').and.not.to.contain('$210.00');
    const customerPdf = await pdfText(app().get(`${page}/pdf`));
    expect(customerPdf).to.contain('Gutter work option').and.not.to.contain('Mesh leaf guard');
    expect(await pdfText(agent.get(`/proposals/${proposalId}/pdf`))).to.contain('Mesh leaf guard');

    // Resend with the one "Send to customer" path.
    const sendPage = `/customers/${lead.id}/send?channel=email&context=proposal&proposalId=${proposalId}`;
    const ready = await agent.get(sendPage);
    expect(ready.status).to.equal(200);
    const sent = await agent
      .post(`/customers/${lead.id}/send`)
      .type('form')
      .send({ _csrf: csrfFrom(ready.text), channel: 'email', context: 'proposal', proposalId, confirmTo: 'pat@example.com' });
    expect(sent.status).to.equal(303);
    const row = await proposalRow(proposalId);
    expect(row.status).to.equal('pending');
    expect(row.version).to.equal(2);
    const [v1] = await versionsOf(proposalId);
    expect(v1.superseded_at).to.be.instanceOf(Date);
    // Settle the queued customer message so no later test's worker sends it.
    await getDb()('message_deliveries')
      .where({ org_id: org.orgId, status: 'queued' })
      .orWhere({ org_id: org.orgId, status: 'pending' })
      .update({ status: 'failed', last_error: 'test cleanup' });

    // The portal shows the new version, with the old one listed as superseded.
    const current = await app().get(page);
    expect(current.text).to.contain('Gutter work, mesh guards').and.to.contain('$210.00');
    expect(current.text).to.contain('version 2');
    expect(current.text).to.contain(`href="${page}/versions/1">Version 1</a> <span class="badge superseded">Superseded</span>`);
    expect(current.text).to.contain('/approve"');

    const old = await app().get(`${page}/versions/1`);
    expect(old.status).to.equal(200);
    expect(old.text).to.contain('Proposal #').and.to.contain('version 1').and.to.contain('Superseded');
    expect(old.text).to.contain('Gutter work option').and.to.contain('$346.50').and.to.contain('Leaf guard');
    expect(old.text).to.contain('It can no longer be approved');
    expect(old.text).not.to.contain('/approve"');
    expect((await app().get(`${page}/versions/2`)).status).to.equal(404);
    expect((await app().get(`${page}/versions/0`)).status).to.equal(404);

    // Approving now signs version 2.
    const fresh = await app().get(page);
    const sha = /name="contentSha256" value="([0-9a-f]{64})"/.exec(fresh.text)?.[1];
    const approved = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ _csrf: formTokenFrom(fresh.text), contentSha256: sha, approverName: 'Pat Poolowner', agree: 'yes' });
    expect(approved.headers.location).to.equal(`${page}?result=approved`);
    const sig = await getDb()('proposal_signatures').where({ proposal_id: proposalId }).first<{ version: number; content_json: string }>();
    expect(sig?.version).to.equal(2);
    expect(sig?.content_json).to.contain('Mesh leaf guard');

    const dash = await agent.get(`/proposals/${proposalId}`);
    expect(dash.text).to.contain('Earlier versions').and.to.contain('Version 1, superseded');
  });
});
