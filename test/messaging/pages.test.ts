// The contractor's side: the confirm-then-send page, validation, other orgs,
// templates editor, the panel, development outbox and in-process jobs.
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { loadMessagingPanel } from '../../src/messaging/panel.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { jsonBody, loginAgent } from '../support/http.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, storeTestDelivery, useStandins, waitForStatus } from './helpers.js';

async function countDeliveries(orgId: string): Promise<number> {
  return withOrg(orgId, async (db) => Number((await db('message_deliveries').count<{ count: string }[]>('* as count'))[0].count));
}

describe('messaging pages', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  const savedTwilio = { ...config.twilio };
  const savedSmtp = { ...config.smtp };

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });
  after(async () => {
    Object.assign(config.twilio, savedTwilio);
    Object.assign(config.smtp, savedSmtp);
    closeTransports();
    await standin.close();
    await smtp.close();
  });

  it("shows another org's customer, delivery and preview as 404, like missing ones", async () => {
    const mine = await customerWithLink();
    const theirs = await customerWithLink();
    const theirDelivery = await storeTestDelivery(theirs);
    const agent = await loginAgent(mine.org.email, mine.org.password);
    for (const path of [
      `/customers/${theirs.leadId}/send`,
      `/customers/${theirs.leadId}/send/email.html`,
      `/messages/${theirDelivery}`,
      `/messages/${theirDelivery}/email.html`,
      '/customers/00000000-0000-0000-0000-000000000000/send',
      '/messages/not-a-uuid',
    ]) {
      expect((await agent.get(path)).status, path).to.equal(404);
    }
    const res = await agent
      .post(`/customers/${theirs.leadId}/send`)
      .type('form')
      .send({ channel: 'sms', context: 'general', confirmTo: '+15555550123', _csrf: agent.csrf });
    expect(res.status).to.equal(404);
    expect(await countDeliveries(theirs.org.orgId)).to.equal(1);
  });

  it('without an active portal link, says so, offers to create it on the spot and queues nothing', async () => {
    const customer = await customerWithLink({}, { link: false });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const page = await agent.get(`/customers/${customer.leadId}/send?channel=sms`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('doesn’t have an active portal link yet');
    expect(page.text).to.contain(`action="/customers/${customer.leadId}/send/link"`);
    expect(page.text).not.to.contain('name="confirmTo"');
    const res = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'sms', context: 'general', confirmTo: '+15555550123', _csrf: agent.csrf });
    expect(res.status).to.equal(422);
    expect(await countDeliveries(customer.org.orgId)).to.equal(0);
  });

  for (const [label, attrs, channel, message] of [
    ['no mobile number', { phone: null }, 'sms', /has no mobile number/],
    ['no email address', { email: null }, 'email', /has no email address/],
    ['a malformed email address', { email: 'sarah@@example' }, 'email', /is not a valid email address/],
  ] as const) {
    it(`explains a customer with ${label} and queues nothing`, async () => {
      const customer = await customerWithLink(attrs);
      const agent = await loginAgent(customer.org.email, customer.org.password);
      const page = await agent.get(`/customers/${customer.leadId}/send?channel=${channel}`);
      expect(page.text).to.match(message);
      const res = await agent
        .post(`/customers/${customer.leadId}/send`)
        .type('form')
        .send({ channel, context: 'general', confirmTo: 'anything', _csrf: agent.csrf });
      expect(res.status).to.equal(422);
      expect(res.text).to.match(message);
      expect(await countDeliveries(customer.org.orgId)).to.equal(0);
    });
  }

  it('refuses when the destination changed after the contractor saw it, and on bad input', async () => {
    const customer = await customerWithLink({ phone: '+15555550301' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const changed = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'sms', context: 'general', confirmTo: '+15555550999', _csrf: agent.csrf });
    expect(changed.status).to.equal(422);
    expect(changed.text).to.contain('changed since you opened this page');
    const bad = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'fax', context: 'general', confirmTo: '+15555550301', _csrf: agent.csrf });
    expect(bad.status).to.equal(422);
    expect(await countDeliveries(customer.org.orgId)).to.equal(0);
  });

  it('renders the proposal context with its number and a named proposal must be the customer’s', async () => {
    const customer = await customerWithLink({ phone: '+15555550302' });
    const proposalId = await withOrg(customer.org.orgId, async (db) => {
      const [p] = await db('proposals')
        .insert({ org_id: customer.org.orgId, lead_id: customer.leadId, number: 17, title: 'New gutters', status: 'pending' })
        .returning<{ id: string }[]>('id');
      return p.id;
    });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const page = await agent.get(`/customers/${customer.leadId}/send?context=proposal&proposalId=${proposalId}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('proposal #17');
    expect(page.text).to.contain('+15555550302');
    const other = await customerWithLink();
    const wrong = await agent.get(`/customers/${other.leadId}/send?context=proposal&proposalId=${proposalId}`);
    expect(wrong.status).to.equal(404);
  });

  it('edits a template: refuses unknown placeholders, previews, saves and uses it', async () => {
    const customer = await customerWithLink({ phone: '+15555550303' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const editor = await agent.get('/settings/messages?channel=sms&context=general');
    expect(editor.status).to.equal(200);
    expect(editor.text).to.contain('/static/messages-preview.js');
    expect(editor.text).not.to.match(/<script>(?!<\/script>)/);
    /** Saves `body` as the general text template, as the editor's form does. */
    const save = (body: string) =>
      agent.post('/settings/messages').type('form').send({ channel: 'sms', context: 'general', body, intent: 'save', _csrf: agent.csrf });

    const bad = await save('Hi {{password}} {{link}}');
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('is not a placeholder you can use');
    const broken = await save('Hi {{#if firstName}} {{link}}');
    expect(broken.status).to.equal(422);
    // Said for someone editing a text, not as the parser's "Parse error on line 1:".
    expect(broken.text).to.contain('A {{#if …}} has no {{/if}} to close it').and.not.to.contain('Parse error');
    const stray = await save('Hi {{firstName}}\n{{/if}} {{link}}');
    expect(stray.status).to.equal(422);
    expect(stray.text).to.contain('A {{/if}} on line 2 closes nothing');
    // No preview to count: no " characters" with no number.
    expect(stray.text).to.not.match(/id="tpl-preview-length">\s*characters/);
    const empty = await save('  ');
    expect(empty.status).to.equal(422);
    expect(empty.text).to.contain('Write the message.');
    const noLink = await save('Hi {{firstName}}');
    expect(noLink.status).to.equal(422);

    const body = 'Hello {{firstName}}! {{businessName}} keeps your quotes and bills here, save it: {{link}}';
    const preview = await agent
      .post('/settings/messages/preview')
      .set('x-csrf-token', agent.csrf)
      .type('form')
      .send({ channel: 'sms', context: 'general', body });
    expect(preview.status).to.equal(200);
    expect(jsonBody<{ text: string }>(preview).text).to.match(
      /^Hello Sarah! .* save it: https:\/\/example\.com\/p\/Sample-private-link-for-the-preview-0000000$/,
    );
    const serverPreview = await agent
      .post('/settings/messages')
      .type('form')
      .send({ channel: 'sms', context: 'general', body, intent: 'preview', _csrf: agent.csrf });
    expect(serverPreview.status).to.equal(200);
    expect(serverPreview.text).to.contain('Hello Sarah!');

    const saved = await agent
      .post('/settings/messages')
      .type('form')
      .send({ channel: 'sms', context: 'general', body, intent: 'save', _csrf: agent.csrf });
    expect(saved.status).to.equal(303);
    const send = await agent.get(`/customers/${customer.leadId}/send?channel=sms&context=general`);
    expect(send.text).to.contain(`Hello Sarah! `);
    expect(send.text).to.contain(`save it: ${customer.link}`);
    const audit = await withOrg(customer.org.orgId, (db) =>
      db('audit_events').where({ action: 'message_template.saved' }).count<{ count: string }[]>('* as count'),
    );
    expect(Number(audit[0].count)).to.equal(1);
  });

  it('fills the customer-page panel: buttons per contact, history, and what to configure in production', async () => {
    const customer = await customerWithLink({ phone: '+15555550304', email: null });
    await storeTestDelivery(customer);
    const panel = await withOrg(customer.org.orgId, async (db) => {
      const ctx = { id: customer.leadId, first_name: 'Sarah', email: null, phone: '+15555550304' };
      const normal = await loadMessagingPanel(db, ctx);
      const saved = { ...config.twilio, isProduction: config.isProduction };
      try {
        config.twilio.accountSid = undefined;
        config.isProduction = true;
        const production = await loadMessagingPanel(db, ctx);
        return { normal, production };
      } finally {
        config.twilio.accountSid = saved.accountSid;
        config.isProduction = saved.isProduction;
      }
    });
    const normal = panel.normal as { sms: { enabled: boolean }; email: { enabled: boolean; reason: string }; history: unknown[] };
    expect(normal.sms.enabled).to.equal(true);
    expect(normal.email.enabled).to.equal(false);
    expect(normal.email.reason).to.match(/no email address/);
    expect(normal.history).to.have.length(1);
    const production = panel.production as { sms: { enabled: boolean; reason: string } };
    expect(production.sms.enabled).to.equal(false);
    expect(production.sms.reason).to.contain('TWILIO_ACCOUNT_SID');
  });

  it('in development without credentials or Redis: runs in-process, prints and lists it on /dev/outbox (404 in production)', async () => {
    const customer = await customerWithLink({ phone: '+15555550305' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const saved = { twilio: { ...config.twilio }, smtpUrl: config.smtp.url, redisUrl: config.redisUrl };
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    try {
      Object.assign(config.twilio, { accountSid: undefined, authToken: undefined, messagingServiceSid: undefined, apiUrl: undefined });
      config.smtp.url = undefined;
      config.redisUrl = undefined;
      closeTransports();
      process.stdout.write = (chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      };
      const res = await agent
        .post(`/customers/${customer.leadId}/send`)
        .type('form')
        .send({ channel: 'sms', context: 'general', confirmTo: '+15555550305', _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      const id = res.headers.location.split('/').pop()!;
      const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed']);
      expect(done.provider_id).to.match(/^dev-/);
    } finally {
      process.stdout.write = write;
      Object.assign(config.twilio, saved.twilio);
      config.smtp.url = saved.smtpUrl;
      config.redisUrl = saved.redisUrl;
      closeTransports();
    }
    // The console shows the message as it would go out; the stored copy on /dev/outbox hides the token,
    // and the outbox offers the working link only as the way to open the portal (development only).
    expect(printed.join('')).to.contain(customer.link);
    expect(standin.sent).to.have.length(0);
    const outbox = await agent.get('/dev/outbox');
    expect(outbox.status).to.equal(200);
    expect(outbox.text.split(customer.link.split('/p/')[1])).to.have.length(2);
    expect(outbox.text).to.contain(`href="${customer.link}"`);
    expect(outbox.text).to.contain(`${config.publicUrl}/p/••••••`);
    expect(outbox.text).to.contain('development outbox');
    config.isProduction = true;
    try {
      expect((await agent.get('/dev/outbox')).status).to.equal(404);
    } finally {
      config.isProduction = false;
    }
  });

  it('lists the org’s messages on /messages with readable failure reasons', async () => {
    const customer = await customerWithLink({ phone: '+15555550306' });
    const id = await storeTestDelivery(customer);
    await withOrg(customer.org.orgId, (db) =>
      db('message_deliveries').update({ status: 'undeliverable', last_error: 'The customer has opted out of texts' }).where({ id }),
    );
    const other = await customerWithLink({ phone: '+15555550307' });
    await storeTestDelivery(other);
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const log = await agent.get('/messages');
    expect(log.status).to.equal(200);
    // Numbers as people in the business's country write them.
    expect(log.text).to.contain('(555) 555-0306');
    expect(log.text).to.contain('opted out of texts');
    expect(log.text).not.to.contain('(555) 555-0307');
    const filtered = await agent.get('/messages?status=sent');
    expect(filtered.text).not.to.contain('+15555550306');
    expect((await delivery(customer.org.orgId, id)).status).to.equal('undeliverable');
  });
});
