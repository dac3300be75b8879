// Hostile-but-legal text in every field a customer or contractor can type, then
// every dashboard page, every portal page, every email and every text message
// rendered with it: markup never comes out as markup, and plain text (SMS, an
// email's text part and subject) never comes out HTML-escaped.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { renderAccountEmail } from '../../src/mail/account-email.js';
import { previewSend } from '../../src/messaging/queries.js';
import { getOrg } from '../../src/orgs/queries.js';
import { config } from '../../src/config.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { adminRoutes, routeUrl, seedRouteFixtures, type Fixture } from '../support/route-walk.js';
import { loginAgent, testApp } from '../support/http.js';
import { createTestOrg, type TestOrg } from '../support/factories.js';
import { ENTITIES, ESCAPED_MARKUP, HOSTILE_NAME, HOSTILE_NOTE, RAW_MARKUP, RTL_EMOJI_NAME } from '../support/hostile.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { seedCustomerRecords } from '../portal/fixtures.js';

const CONTEXTS = ['general', 'proposal', 'invoice', 'service'] as const;

function expectNoRawMarkup(html: string, where: string): void {
  for (const raw of RAW_MARKUP) expect(html, `${where} prints "${raw}" unescaped`).not.to.contain(raw);
}

function expectPlainText(text: string, where: string): void {
  expect(text, `${where} is HTML-escaped plain text`).not.to.match(ENTITIES);
}

/** Puts hostile text in every free-text column of the org's records. */
async function makeEverythingHostile(orgId: string): Promise<void> {
  const db = getDb();
  const text = `${HOSTILE_NAME} ${HOSTILE_NOTE}`;
  await db('organizations')
    .where({ id: orgId })
    .update({ address: `Unit "2" <b>${HOSTILE_NOTE}`, phone: '+15555550199' });
  await db('users')
    .where({ org_id: orgId })
    .update({ name: db.raw("name || ' ' || ?", [HOSTILE_NOTE]) });
  await db('proposals')
    .where({ org_id: orgId })
    .update({ title: text, customer_message: text, internal_notes: text, approved_by_name: text });
  await db('proposal_items').where({ org_id: orgId }).update({ service: text, description: text });
  await db('jobs')
    .where({ org_id: orgId })
    .update({ service_type: text, address: text, customer_notes: text, internal_notes: text, technician: text });
  await db('invoices').where({ org_id: orgId }).update({ customer_message: text, internal_notes: text });
  await db('invoice_items').where({ org_id: orgId }).update({ service: text, description: text });
  await db('payments').where({ org_id: orgId }).update({ reference: text });
  await db('leads').where({ org_id: orgId }).update({ company: text });
  await db('properties').where({ org_id: orgId }).update({ label: text, address: text });
}

describe('hostile text is escaped on every page and in every message', () => {
  let org: TestOrg;
  let fx: Fixture;
  let token: string;
  let records: Awaited<ReturnType<typeof seedCustomerRecords>>;
  const saved = { sid: config.twilio.accountSid, smtp: config.smtp.url, service: config.twilio.messagingServiceSid };

  before(async function () {
    this.timeout(60_000);
    org = await createTestOrg({ plan: 'pro' });
    fx = await seedRouteFixtures(org);
    records = await seedCustomerRecords(org.orgId, fx.lead, {
      proposals: 2,
      pendingProposals: 1,
      invoices: 2,
      openInvoices: 1,
      payments: 2,
      jobs: 2,
      upcomingJobs: 1,
    });
    await makeEverythingHostile(org.orgId);
    token = (await linkFor(org.orgId, fx.lead)).token;
    // Both channels "configured", so the previews render instead of listing setup problems.
    config.twilio.accountSid = 'AC00000000000000000000000000000000';
    config.twilio.messagingServiceSid = 'MG00000000000000000000000000000000';
    config.smtp.url = 'smtp://127.0.0.1:9';
    closeTransports();
  });

  after(() => {
    config.twilio.accountSid = saved.sid;
    config.twilio.messagingServiceSid = saved.service;
    config.smtp.url = saved.smtp;
    closeTransports();
  });

  it('the factories really hold hostile text', async () => {
    const lead = await withOrg(org.orgId, (db) => db('leads').where({ id: fx.lead }).first<{ first_name: string; last_name: string }>());
    expect(lead.first_name).to.equal(RTL_EMOJI_NAME);
    expect(lead.last_name).to.equal(HOSTILE_NAME);
    const { name } = await getDb()('organizations').where({ id: org.orgId }).first<{ name: string }>('name');
    expect(name).to.contain(HOSTILE_NAME);
  });

  it('every dashboard page', async function () {
    this.timeout(120_000);
    const agent = await loginAgent(org.email, org.password);
    const urls = adminRoutes()
      .filter((r) => r.methods.includes('get'))
      .map((r) => routeUrl(r.path, fx));
    for (const context of CONTEXTS) {
      for (const channel of ['sms', 'email']) {
        const q = `channel=${channel}&context=${context}&proposalId=${records.pendingProposalIds[0]}&invoiceId=${records.invoiceIds[0]}&jobId=${fx.job}`;
        urls.push(`/customers/${fx.lead}/send?${q}`, `/customers/${fx.lead}/send/email.html?${q}`);
      }
    }
    // Text typed into a search box or a query string comes back on the page.
    urls.push(`/customers?q=${encodeURIComponent(HOSTILE_NOTE)}`, `/customers?q=${encodeURIComponent(HOSTILE_NAME)}`);
    const seen = new Set<string>();
    let pages = 0;
    for (const url of urls) {
      const res = await agent.get(url);
      if (res.status >= 300 && res.status < 400) continue;
      expect(res.status, url).to.be.below(500);
      if (!/html/.test(String(res.headers['content-type']))) continue;
      pages += 1;
      expectNoRawMarkup(res.text, `GET ${url}`);
      for (const escaped of ESCAPED_MARKUP) if (res.text.includes(escaped)) seen.add(escaped);
    }
    expect(pages).to.be.greaterThan(25);
    expect([...seen]).to.have.members(ESCAPED_MARKUP);

    // A form sent back with hostile input is re-rendered (422) with it escaped.
    const bad = await agent
      .post('/customers')
      .type('form')
      .send({ _csrf: agent.csrf, first_name: HOSTILE_NOTE, last_name: HOSTILE_NAME, email: 'not an email <b>' });
    expect(bad.status).to.equal(422);
    expectNoRawMarkup(bad.text, 'POST /customers (422)');
    expect(bad.text).to.contain('&lt;img src');
    // The customer page names the customer, escaped, with the right-to-left emoji name intact.
    const customer = await agent.get(`/customers/${fx.lead}`);
    expect(customer.text).to.contain('O&#x27;Brien &amp; Sons &lt;Ltd&gt; &quot;quoted&quot;');
    expect(customer.text).to.contain(RTL_EMOJI_NAME);
  });

  it('every portal page', async function () {
    this.timeout(60_000);
    await resetPortalMisses();
    const app = supertest(testApp());
    const urls = [
      `/p/${token}`,
      ...['proposals', 'invoices', 'payments', 'history'].map((tab) => `/p/${token}/${tab}`),
      ...records.proposalIds.map((id) => `/p/${token}/proposals/${id}`),
      ...records.invoiceIds.map((id) => `/p/${token}/invoices/${id}`),
      `/p/${token}/request`,
      `/p/${token}/request?sent=work`,
      `/p/${token}/visits/${records.jobIds[0]}/reschedule`,
    ];
    for (const url of urls) {
      const res = await app.get(url);
      expect(res.status, url).to.equal(200);
      expectNoRawMarkup(res.text, `GET ${url}`);
    }
    const proposal = await app.get(`/p/${token}/proposals/${records.pendingProposalIds[0]}`);
    expect(proposal.text).to.contain('O&#x27;Brien &amp; Sons &lt;Ltd&gt;');
    expect(proposal.text).to.contain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    // The approval form sent back with a hostile name and no agreement: re-rendered, escaped.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(proposal.text)![1];
    const refused = await app
      .post(`/p/${token}/proposals/${records.pendingProposalIds[0]}/approve`)
      .type('form')
      .send({ _csrf: csrf, approverName: HOSTILE_NOTE });
    expect(refused.status).to.equal(422);
    expectNoRawMarkup(refused.text, 'portal approval (422)');
    // A request for work sent back (an address too long) keeps the hostile text, escaped.
    const form = await app.get(`/p/${token}/request`);
    const requestRefused = await app
      .post(`/p/${token}/request`)
      .field('_csrf', /name="_csrf" value="([^"]+)"/.exec(form.text)![1].replace(/&#x3D;/g, '='))
      .field('description', HOSTILE_NOTE)
      .field('address', 'x'.repeat(501));
    expect(requestRefused.status).to.equal(422);
    expectNoRawMarkup(requestRefused.text, 'portal request (422)');
    expect(requestRefused.text).to.contain('&lt;img src');
  });

  it('every text message and customer email', async () => {
    const orgRow = await withOrg(org.orgId, (db) => getOrg(db));
    for (const context of CONTEXTS) {
      for (const channel of ['sms', 'email'] as const) {
        const preview = await withOrg(org.orgId, (db) =>
          previewSend(db, orgRow, fx.lead, {
            channel,
            context,
            proposalId: records.pendingProposalIds[0],
            invoiceId: records.invoiceIds[0],
            jobId: fx.job,
          }),
        );
        const where = `${channel}/${context}`;
        expect(preview.problems, where).to.deep.equal([]);
        const message = preview.message!;
        expectPlainText(message.text, `${where} text`);
        expect(message.text, where).to.contain(RTL_EMOJI_NAME);
        if (channel === 'email') {
          expectPlainText(message.subject!, `${where} subject`);
          expectNoRawMarkup(message.html!, `${where} html`);
          expect(message.html, where).to.contain('O&#x27;Brien &amp; Sons &lt;Ltd&gt;');
          expect(`${message.subject} ${message.text}`, where).to.contain(HOSTILE_NAME);
        } else {
          expect(message.text, where).to.contain(HOSTILE_NAME);
        }
      }
    }
  });

  it('every account email', async () => {
    const locals = {
      name: `${HOSTILE_NAME} ${HOSTILE_NOTE}`,
      orgName: HOSTILE_NAME,
      inviterName: `${RTL_EMOJI_NAME} ${HOSTILE_NOTE}`,
      link: 'https://app.example.test/x?a=1&b=2',
      loginLink: 'https://app.example.test/login',
      resetLink: 'https://app.example.test/forgot-password',
      expiresOn: '1 December 2026',
      validMinutes: 60,
      validHours: 24,
    };
    const fs = await import('node:fs/promises');
    const { viewsDir } = await import('../../src/paths.js');
    const templates = [...new Set((await fs.readdir(`${viewsDir}/emails`)).map((f) => f.split('.')[0]))];
    expect(templates).to.include.members(['invitation', 'password-reset', 'signup-confirm', 'signup-existing']);
    for (const template of templates) {
      const email = await renderAccountEmail(template, locals);
      expectNoRawMarkup(email.html, `${template} html`);
      expect(email.html, template).to.contain('O&#x27;Brien &amp; Sons &lt;Ltd&gt;');
      expectPlainText(email.text, `${template} text`);
      expectPlainText(email.subject, `${template} subject`);
      expect(email.text, template).to.contain(HOSTILE_NAME);
    }
  });
});
