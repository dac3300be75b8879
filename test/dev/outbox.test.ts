// The development outbox: customer messages with a working link to the portal
// they carry, and account emails (password resets, invitations) instead of the console.
import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { closeMailer } from '../../src/mail/account-email.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';

describe('development outbox', () => {
  const savedSmtp = config.smtp.url;
  before(async () => {
    config.smtp.url = undefined;
    await closeMailer();
  });
  after(async () => {
    config.smtp.url = savedSmtp;
    await closeMailer();
  });

  it('shows a link to open the portal a message carries, and password-reset emails with their link', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ola', phone: '+14155552671' });
    const url = await withOrg(
      org.orgId,
      async (db) => (await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId })).link.url,
    );
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/customers/${lead.id}/send?channel=sms&context=general`);
    const sent = await agent
      .post(`/customers/${lead.id}/send`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), channel: 'sms', context: 'general', confirmTo: '+14155552671' });
    expect(sent.status).to.equal(303);

    const stranger = supertest.agent(testApp());
    const form = await stranger.get('/forgot-password');
    await stranger
      .post('/forgot-password')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: org.email });

    const outbox = (await agent.get('/dev/outbox')).text;
    expect(outbox).to.contain(`href="${url}"`);
    expect(outbox).to.contain('Open the customer’s portal');
    expect(outbox).to.match(/Account emails[\s\S]*To [^<]*@example\.test/);
    // The job this queued would be picked up by a later test's worker: settle the row so nothing is sent.
    await withOrg(org.orgId, (db) => db('message_deliveries').update({ status: 'failed', last_error: 'test cleanup' }));
    expect(outbox).to.match(new RegExp(`${config.publicUrl.replace(/[.]/g, '\\.')}/reset-password/[A-Za-z0-9_-]+`));
  });
});
