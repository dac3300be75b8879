// The portal link is never stored with a message: message_deliveries holds a
// placeholder, the worker puts the real link in at send time, pages that show a
// stored message show the link redacted, and a link revoked after queuing
// stops the send.
import { expect } from 'chai';
import type { Worker } from 'bullmq';
import Handlebars from 'handlebars';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import type { AuditEventRow } from '../../src/db/audit.js';
import { LINK_REVOKED_REASON } from '../../src/messaging/deliver.js';
import { PORTAL_LINK_PLACEHOLDER, REDACTED_TOKEN, fillPortalLink, redactPortalLink } from '../../src/messaging/link-placeholder.js';
import { dispatchDelivery } from '../../src/messaging/outbox.js';
import { loadMessagingPanel } from '../../src/messaging/panel.js';
import { defaultTemplate, renderMessage } from '../../src/messaging/templates.js';
import { regeneratePortalLink, revokePortalLink } from '../../src/portal-links/commands.js';
import { closeQueues } from '../../src/queue/queues.js';
import { createSendWorker } from '../../workers/send-message.js';
import type { RunningWorker } from '../../src/queue/worker.js';
import { up as scrubStoredLinks } from '../../migrations/20261126010000_messaging_link_placeholder.js';
import { loginAgent } from '../support/http.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, sendQueueSettled, storeTestDelivery, useStandins, waitForStatus, type Customer } from './helpers.js';

function tokenOf(customer: Customer): string {
  const token = customer.link.split('/p/')[1];
  expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
  return token;
}

/** The whole stored row as JSON, read as the connecting (superuser) role: what a backup would hold. */
async function storedRowJson(deliveryId: string): Promise<string> {
  const { rows } = await getDb().raw<{ rows: { row: unknown }[] }>('select row_to_json(d) as row from message_deliveries d where id = ?', [
    deliveryId,
  ]);
  expect(rows).to.have.length(1);
  return JSON.stringify(rows[0].row);
}

async function linkIdOf(customer: Customer): Promise<string> {
  return withOrg(
    customer.org.orgId,
    async (db) => (await db('portal_links').where({ lead_id: customer.leadId }).whereNull('revoked_at').first<{ id: string }>('id')).id,
  );
}

describe('the portal link in stored messages', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  let worker: Worker;
  let running: RunningWorker;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
    ({ worker, running } = createSendWorker({ backoffBaseMs: 20, concurrency: 10, shutdownTimeoutMs: 2_000 }));
    await worker.waitUntilReady();
  });

  after(async () => {
    await running.close();
    await closeQueues();
    await standin.close();
    await smtp.close();
  });

  beforeEach(() => {
    standin.reset();
    smtp.inbox.length = 0;
  });

  it('stores no token for a text; the text Twilio gets carries the real working link', async () => {
    const customer = await customerWithLink({ phone: '+15555550401' });
    const token = tokenOf(customer);
    const agent = await loginAgent(customer.org.email, customer.org.password);
    // The confirm page shows the message as the customer will get it.
    const page = await agent.get(`/customers/${customer.leadId}/send?channel=sms&context=general`);
    expect(page.text).to.contain(customer.link);
    const res = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'sms', context: 'general', confirmTo: '+15555550401', _csrf: agent.csrf });
    expect(res.status).to.equal(303);
    const id = res.headers.location.split('/').pop()!;
    const queuedRow = await storedRowJson(id);
    expect(queuedRow).not.to.contain(token);
    expect(queuedRow).to.contain(PORTAL_LINK_PLACEHOLDER);
    expect(queuedRow).to.contain(`"portal_link_id":"${await linkIdOf(customer)}"`);

    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('sent');
    expect(standin.sent).to.have.length(1);
    expect(standin.sent[0].body).to.contain(customer.link);
    expect(standin.sent[0].body).not.to.contain(PORTAL_LINK_PLACEHOLDER);
    // The link it got opens the customer's portal.
    const portal = await agent.get(new URL(customer.link).pathname);
    expect(portal.status).to.equal(200);

    const sentRow = await storedRowJson(id);
    expect(sentRow).not.to.contain(token);
    const audit = await withOrg(customer.org.orgId, (db) => db('audit_events').select('data'));
    expect(JSON.stringify(audit)).not.to.contain(token);
  });

  it('stores no token for an email; both parts the SMTP server gets carry the real link', async () => {
    const customer = await customerWithLink({ email: 'privacy@example.test' });
    const token = tokenOf(customer);
    const id = await storeTestDelivery(customer, { channel: 'email' });
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('sent');
    expect(await storedRowJson(id)).not.to.contain(token);
    expect(smtp.inbox).to.have.length(1);
    const mail = smtp.inbox[0];
    expect(mail.text).to.contain(customer.link);
    const html = String(mail.html);
    expect(html).to.contain(`href="${customer.link}"`);
    expect(html).to.contain(`>${customer.link}</a>`);
    expect(`${mail.text} ${html}`).not.to.contain(PORTAL_LINK_PLACEHOLDER);
  });

  it('shows the link redacted on the message page, its email preview, the log, the outbox and the customer history', async () => {
    const customer = await customerWithLink({ phone: '+15555550403', email: 'shown@example.test' });
    const token = tokenOf(customer);
    const smsId = await storeTestDelivery(customer);
    const emailId = await storeTestDelivery(customer, { channel: 'email' });
    await dispatchDelivery({ deliveryId: emailId, orgId: customer.org.orgId });
    await waitForStatus(customer.org.orgId, emailId, ['sent']);
    const agent = await loginAgent(customer.org.email, customer.org.password);
    for (const path of [`/messages/${smsId}`, `/messages/${emailId}`, `/messages/${emailId}/email.html`, '/messages', '/dev/outbox']) {
      const page = await agent.get(path);
      expect(page.status, path).to.equal(200);
      // Development's outbox (404 in production) offers the working link only as the button that opens the portal.
      const text = path === '/dev/outbox' ? page.text.replaceAll(`href="${customer.link}"`, 'href="[open-portal]"') : page.text;
      expect(text, path).not.to.contain(token);
      expect(page.text, path).not.to.contain(PORTAL_LINK_PLACEHOLDER);
    }
    const smsPage = await agent.get(`/messages/${smsId}`);
    expect(smsPage.text).to.contain(`/p/${REDACTED_TOKEN}`);
    const htmlPage = await agent.get(`/messages/${emailId}/email.html`);
    expect(htmlPage.text).to.match(new RegExp(`href="[^"]*/p/${REDACTED_TOKEN}"`));
    const panel = await withOrg(customer.org.orgId, (db) =>
      loadMessagingPanel(db, { id: customer.leadId, first_name: 'Sarah', email: 'shown@example.test', phone: '+15555550403' }),
    );
    expect((panel.history as unknown[]).length).to.equal(2);
    expect(JSON.stringify(panel.history)).not.to.contain(token);
  });

  it('fails a delivery whose link was revoked after queuing, with a readable reason, and sends nothing', async () => {
    const customer = await customerWithLink({ phone: '+15555550404' });
    const id = await storeTestDelivery(customer);
    const linkId = await linkIdOf(customer);
    await withOrg(customer.org.orgId, (db) => revokePortalLink(db, linkId, { type: 'user', userId: customer.org.userId }));
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('failed');
    expect(done.last_error).to.equal(LINK_REVOKED_REASON);
    expect(done.attempts).to.equal(1);
    await sendQueueSettled(id);
    expect(standin.requests).to.equal(0);
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const page = await agent.get(`/messages/${id}`);
    expect(page.text).to.contain('The portal link was revoked before this message went out; send it again.');
    expect(page.text).to.contain(`/customers/${customer.leadId}/send?channel=sms`); // Try again
    const audit = await withOrg(customer.org.orgId, (db) =>
      db('audit_events').where({ action: 'message.failed', subject_id: id }).first<Pick<AuditEventRow, 'data'> | undefined>('data'),
    );
    expect(audit?.data).to.deep.include({ reason: LINK_REVOKED_REASON });
  });

  it('does not send the old link after the link was regenerated; a new send carries the new one', async () => {
    const customer = await customerWithLink({ email: 'regen@example.test' });
    const id = await storeTestDelivery(customer, { channel: 'email' });
    const fresh = await withOrg(customer.org.orgId, (db) =>
      regeneratePortalLink(db, customer.leadId, { type: 'user', userId: customer.org.userId }),
    );
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('failed');
    expect(done.last_error).to.equal(LINK_REVOKED_REASON);
    expect(smtp.inbox).to.have.length(0);

    const again = await storeTestDelivery(customer, { channel: 'email' });
    await dispatchDelivery({ deliveryId: again, orgId: customer.org.orgId });
    expect((await waitForStatus(customer.org.orgId, again, ['sent', 'failed'])).status).to.equal('sent');
    expect(smtp.inbox).to.have.length(1);
    expect(smtp.inbox[0].text).to.contain(fresh.url);
    expect(smtp.inbox[0].text).not.to.contain(customer.link);
  });

  it('scrubs links from rows stored before the placeholder; such a row still sends the real link', async () => {
    const customer = await customerWithLink({ phone: '+15555550406' });
    const token = tokenOf(customer);
    const linkId = await linkIdOf(customer);
    const legacy = await withOrg(customer.org.orgId, async (db) => {
      const [row] = await db('message_deliveries')
        .insert({
          org_id: customer.org.orgId,
          lead_id: customer.leadId,
          portal_link_id: linkId,
          channel: 'sms',
          to_address: '+15555550406',
          body_text: `Hi Sarah, your page: ${customer.link}`,
          body_html: `<p><a href="${customer.link}">${customer.link}</a></p>`,
        })
        .returning<{ id: string }[]>('id');
      return row.id;
    });
    expect(await storedRowJson(legacy)).to.contain(token);
    await getDb().transaction((trx) => scrubStoredLinks(trx));
    const scrubbed = await storedRowJson(legacy);
    expect(scrubbed).not.to.contain(token);
    expect(scrubbed).to.contain(`your page: ${PORTAL_LINK_PLACEHOLDER}`);
    expect(scrubbed).to.contain(`<a href=\\"${PORTAL_LINK_PLACEHOLDER}\\">${PORTAL_LINK_PLACEHOLDER}</a>`);
    // The table still forces row-level security afterwards.
    const { rows } = await getDb().raw<{ rows: { forced: boolean }[] }>(
      "select relforcerowsecurity as forced from pg_class where relname = 'message_deliveries'",
    );
    expect(rows[0].forced).to.equal(true);

    await dispatchDelivery({ deliveryId: legacy, orgId: customer.org.orgId });
    expect((await waitForStatus(customer.org.orgId, legacy, ['sent', 'failed'])).status).to.equal('sent');
    expect(standin.sent[0].body).to.equal(`Hi Sarah, your page: ${customer.link}`);
  });
});

describe('the link placeholder', () => {
  const brand = { businessName: 'Maple & Sons <Gutters>', brandColor: '#1d4ed8' };
  const vars = { firstName: 'Sarah', businessName: 'Maple & Sons <Gutters>' };

  it('comes out of the HTML email unchanged and fills in exactly as a direct render would', () => {
    expect(Handlebars.escapeExpression(PORTAL_LINK_PLACEHOLDER)).to.equal(PORTAL_LINK_PLACEHOLDER);
    const template = defaultTemplate('email', 'general');
    const url = 'https://porch.example/p/abc_DEF-123abc_DEF-123abc_DEF-123abc_DEF-12?x=1&y=2';
    const stored = renderMessage('email', template, { ...vars, link: PORTAL_LINK_PLACEHOLDER }, brand);
    const direct = renderMessage('email', template, { ...vars, link: url }, brand);
    expect(stored.html).to.contain(`href="${PORTAL_LINK_PLACEHOLDER}"`);
    const filled = fillPortalLink({ subject: stored.subject, body_text: stored.text, body_html: stored.html }, url);
    expect(filled).to.deep.equal({ subject: direct.subject, body_text: direct.text, body_html: direct.html });
    expect(filled.body_html).to.contain('href="https://porch.example/p/abc_DEF-123abc_DEF-123abc_DEF-123abc_DEF-12?x&#x3D;1&amp;y&#x3D;2"');
  });

  it('cannot be produced by a customer name, business name or template text', () => {
    const sneaky = { firstName: `Sa${PORTAL_LINK_PLACEHOLDER}rah`, businessName: `Maple ${PORTAL_LINK_PLACEHOLDER}` };
    const template = {
      subject: `Hi ${PORTAL_LINK_PLACEHOLDER}{{firstName}}`,
      body: `Text ${PORTAL_LINK_PLACEHOLDER} {{firstName}} {{businessName}} {{link}}`,
    };
    const stored = renderMessage(
      'email',
      template,
      { ...sneaky, link: PORTAL_LINK_PLACEHOLDER },
      { ...brand, businessName: sneaky.businessName },
    );
    expect(stored.subject).to.equal('Hi Sarah');
    expect(stored.text.split(PORTAL_LINK_PLACEHOLDER)).to.have.length(2); // only the {{link}} slot
    expect(stored.text).to.equal(`Text  Sarah Maple  ${PORTAL_LINK_PLACEHOLDER}`); // the stray markers are gone, not replaced
    expect(stored.html!.split(PORTAL_LINK_PLACEHOLDER)).to.have.length(4); // button href, address href and text (no paragraph repeats it)
  });

  it('redacts the placeholder and any legacy token for display', () => {
    const legacy = `old: https://porch.example/p/${'a'.repeat(43)} new: ${PORTAL_LINK_PLACEHOLDER}`;
    const shown = redactPortalLink({ subject: null, body_text: legacy, body_html: `<a href="${PORTAL_LINK_PLACEHOLDER}">x</a>` });
    expect(shown.body_text).to.equal(`old: https://porch.example/p/${REDACTED_TOKEN} new: ${config.publicUrl}/p/${REDACTED_TOKEN}`);
    expect(shown.body_html).to.equal(`<a href="${config.publicUrl}/p/${REDACTED_TOKEN}">x</a>`);
  });
});
