// Sending portal links through the real BullMQ worker and real Redis, against
// a real SMTP server and a Twilio stand-in the real twilio client talks to.
import { expect } from 'chai';
import type { Worker } from 'bullmq';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { dispatchDelivery, sweepOutbox } from '../../src/messaging/outbox.js';
import { closeQueues, enqueueDeliveryJob, jitteredBackoff } from '../../src/queue/queues.js';
import { createSendWorker } from '../../workers/send-message.js';
import { startOutboxSweeper } from '../../workers/sweep-outbox.js';
import type { RunningWorker } from '../../src/queue/worker.js';
import { loginAgent } from '../support/http.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { TWILIO_ERRORS, startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, hasSendJob, sendQueueSettled, storeTestDelivery, useStandins, waitForStatus } from './helpers.js';

describe('sending portal links (worker, real Redis, stand-ins)', () => {
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
    smtp.rejectRecipients.clear();
    smtp.tempFailures = 0;
  });

  it('emails the link through SMTP: subject, link, text and branded HTML parts', async () => {
    const customer = await customerWithLink({ email: 'sarah.home@example.test' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const page = await agent.get(`/customers/${customer.leadId}/send?channel=email&context=general`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('sarah.home@example.test');
    expect(page.text).to.contain(customer.link);
    const res = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'email', context: 'general', confirmTo: 'sarah.home@example.test', _csrf: agent.csrf });
    expect(res.status).to.equal(303);
    const deliveryId = /\/messages\/([0-9a-f-]{36})$/.exec(res.headers.location)![1];
    const queued = await agent.get(res.headers.location);
    expect(queued.text).to.contain('The email to sarah.home@example.test is on its way');
    const done = await waitForStatus(customer.org.orgId, deliveryId, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('sent');
    expect(smtp.inbox).to.have.length(1);
    const mail = smtp.inbox[0];
    const orgName = await withOrg(customer.org.orgId, async (db) => (await db('organizations').first<{ name: string }>('name')).name);
    expect(mail.subject).to.equal(`${orgName}: your customer page`);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').to.contain('sarah.home@example.test');
    expect(mail.from?.value[0].name).to.equal(orgName);
    expect(mail.text).to.contain(customer.link);
    expect(mail.text).to.match(/keep this email or bookmark/i);
    const html = String(mail.html);
    expect(html).to.contain(`href="${customer.link}"`);
    expect(html).to.match(/class="portal-button"[^>]*>Open your customer page</);
    expect(html).to.contain(`>${customer.link}</a>`); // also as plain text
    expect(html).to.contain('#1d4ed8'); // the org's brand colour
    expect(html).to.contain(orgName);
    expect(done.provider_id).to.equal(mail.messageId);
  });

  it('texts the link through the twilio client with a status callback URL', async () => {
    const customer = await customerWithLink({ phone: '+15555550111' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const res = await agent
      .post(`/customers/${customer.leadId}/send`)
      .type('form')
      .send({ channel: 'sms', context: 'general', confirmTo: '+15555550111', _csrf: agent.csrf });
    expect(res.status).to.equal(303);
    const deliveryId = res.headers.location.split('/').pop()!;
    const done = await waitForStatus(customer.org.orgId, deliveryId, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('sent');
    expect(standin.sent).to.have.length(1);
    const sms = standin.sent[0];
    expect(sms.to).to.equal('+15555550111');
    expect(sms.messagingServiceSid).to.equal('MG00000000000000000000000000000000');
    expect(sms.body).to.contain(customer.link);
    expect(sms.body).to.match(/^Hi Sarah,/);
    expect(sms.statusCallback).to.equal(`${config.publicUrl}/webhooks/twilio/status`);
    expect(done.provider_id).to.equal(sms.sid);
    expect(done.attempts).to.equal(1);
  });

  for (const [label, reply, reason] of [
    ['an invalid number (21211)', TWILIO_ERRORS.invalidNumber, /valid mobile number.*21211/],
    ['an opted-out recipient (21610)', TWILIO_ERRORS.optedOut, /opted out.*21610/],
  ] as const) {
    it(`fails at once, without retrying, for ${label} and shows the reason`, async () => {
      const customer = await customerWithLink({ phone: '+15555550122' });
      standin.always('+15555550122', reply);
      const id = await storeTestDelivery(customer);
      await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
      const done = await waitForStatus(customer.org.orgId, id, ['failed', 'undeliverable', 'sent']);
      expect(done.status).to.equal('undeliverable');
      expect(done.last_error).to.match(reason);
      expect(done.attempts).to.equal(1);
      await sendQueueSettled(id);
      expect(standin.requests).to.equal(1);
      const agent = await loginAgent(customer.org.email, customer.org.password);
      const page = await agent.get(`/messages/${id}`);
      expect(page.text).to.contain('Undeliverable');
      expect(page.text).to.match(reason);
    });
  }

  it('retries 429 and 500 with backoff, then sends once', async () => {
    const customer = await customerWithLink({ phone: '+15555550133' });
    standin.script('+15555550133', TWILIO_ERRORS.tooManyRequests, TWILIO_ERRORS.serverError, { kind: 'reset' });
    const id = await storeTestDelivery(customer);
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed', 'undeliverable']);
    expect(done.status).to.equal('sent');
    expect(done.attempts).to.equal(4);
    expect(standin.requests).to.equal(4);
    expect(standin.sent).to.have.length(1);
  });

  it('gives up after 5 attempts of a transient error and says so', async () => {
    const customer = await customerWithLink({ phone: '+15555550144' });
    standin.always('+15555550144', TWILIO_ERRORS.serverError);
    const id = await storeTestDelivery(customer);
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    const done = await waitForStatus(customer.org.orgId, id, ['failed', 'sent', 'undeliverable']);
    expect(done.status).to.equal('failed');
    expect(done.attempts).to.equal(5);
    expect(done.last_error).to.match(/Gave up after 5 attempts/);
    expect(standin.requests).to.equal(5);
  });

  it('marks an address the mail server rejects (550) undeliverable at once, and retries a 451', async () => {
    const rejected = await customerWithLink({ email: 'nobody@example.test' });
    smtp.rejectRecipients.add('nobody@example.test');
    const badId = await storeTestDelivery(rejected, { channel: 'email' });
    await dispatchDelivery({ deliveryId: badId, orgId: rejected.org.orgId });
    const bad = await waitForStatus(rejected.org.orgId, badId, ['failed', 'undeliverable', 'sent']);
    expect(bad.status).to.equal('undeliverable');
    expect(bad.attempts).to.equal(1);
    expect(bad.last_error).to.match(/refused this address.*user unknown/);

    const later = await customerWithLink({ email: 'later@example.test' });
    smtp.tempFailures = 1;
    const id = await storeTestDelivery(later, { channel: 'email' });
    await dispatchDelivery({ deliveryId: id, orgId: later.org.orgId });
    const ok = await waitForStatus(later.org.orgId, id, ['failed', 'undeliverable', 'sent']);
    expect(ok.status).to.equal('sent');
    expect(ok.attempts).to.equal(2);
    expect(smtp.inbox).to.have.length(1);
  });

  it('never resends a delivery that was already sent, whatever enqueues it', async () => {
    const customer = await customerWithLink({ phone: '+15555550166' });
    const id = await storeTestDelivery(customer);
    const job = { deliveryId: id, orgId: customer.org.orgId };
    await dispatchDelivery(job);
    await waitForStatus(customer.org.orgId, id, ['sent']);
    await Promise.all([enqueueDeliveryJob(job), dispatchDelivery(job), sweepOutbox({ staleAfterSeconds: 0 })]);
    await sendQueueSettled(id);
    expect(standin.sent.filter((m) => m.to === '+15555550166')).to.have.length(1);
  });

  it('accepts a send while Redis is unreachable; the sweeper delivers it once Redis is back', async () => {
    const customer = await customerWithLink({ phone: '+15555550177' });
    const agent = await loginAgent(customer.org.email, customer.org.password);
    const realRedis = config.redisUrl;
    await closeQueues();
    config.redisUrl = 'redis://127.0.0.1:1'; // nothing listens there
    let location: string;
    try {
      const res = await agent
        .post(`/customers/${customer.leadId}/send`)
        .type('form')
        .send({ channel: 'sms', context: 'general', confirmTo: '+15555550177', _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      location = res.headers.location;
    } finally {
      await closeQueues();
      config.redisUrl = realRedis;
    }
    const id = location.split('/').pop()!;
    const stored = await delivery(customer.org.orgId, id);
    expect(stored.status).to.equal('pending');
    const page = await agent.get(location);
    expect(page.text).to.contain('Queued');
    // Nothing can send it: no job for it exists in Redis, and the row is still pending.
    expect(await hasSendJob(id)).to.equal(false);
    expect(standin.sent.filter((m) => m.to === '+15555550177')).to.have.length(0);
    expect((await delivery(customer.org.orgId, id)).status).to.equal('pending');

    const sweep = await sweepOutbox({ staleAfterSeconds: 0 });
    expect(sweep.redispatched).to.be.greaterThan(0);
    const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed']);
    expect(done.status).to.equal('sent');
    expect(standin.sent.filter((m) => m.to === '+15555550177')).to.have.length(1);
  });

  it('registers the sweeper as a BullMQ job scheduler that runs the sweep', async () => {
    const customer = await customerWithLink({ phone: '+15555550188' });
    const id = await storeTestDelivery(customer); // pending, never enqueued
    const sweeper = await startOutboxSweeper({ everyMs: 200, sweep: { staleAfterSeconds: 0 } });
    try {
      const schedulers = await sweeper.queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key)).to.include('outbox-sweep');
      const done = await waitForStatus(customer.org.orgId, id, ['sent', 'failed']);
      expect(done.status).to.equal('sent');
    } finally {
      await sweeper.close();
    }
  });

  it('backs off exponentially with jitter', () => {
    expect(jitteredBackoff(1, 1000, () => 0)).to.equal(500);
    expect(jitteredBackoff(1, 1000, () => 0.999)).to.be.within(999, 1000);
    expect(jitteredBackoff(3, 1000, () => 0)).to.equal(2000);
    expect(jitteredBackoff(4, 1000, () => 0.5)).to.equal(6000);
  });
});

describe('graceful shutdown of the send worker', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });

  after(async () => {
    await closeQueues();
    await standin.close();
    await smtp.close();
  });

  it('finishes the send in flight before closing', async () => {
    const { worker, running } = createSendWorker({ shutdownTimeoutMs: 5_000 });
    await worker.waitUntilReady();
    const customer = await customerWithLink({ phone: '+15555550199' });
    standin.delayMs = 400;
    const id = await storeTestDelivery(customer);
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    await waitForStatus(customer.org.orgId, id, ['sending']);
    await running.close();
    const row = await delivery(customer.org.orgId, id);
    expect(row.status).to.equal('sent');
    expect(standin.sent.filter((m) => m.to === '+15555550199')).to.have.length(1);
  });

  it('stops waiting after its bound when a send hangs', async () => {
    const { worker, running } = createSendWorker({ shutdownTimeoutMs: 300 });
    await worker.waitUntilReady();
    const customer = await customerWithLink({ phone: '+15555550100' });
    standin.script('+15555550100', { kind: 'hang', ms: 5_000 });
    const id = await storeTestDelivery(customer);
    await dispatchDelivery({ deliveryId: id, orgId: customer.org.orgId });
    await waitForStatus(customer.org.orgId, id, ['sending']);
    const started = Date.now();
    await running.close();
    expect(Date.now() - started).to.be.below(2_000);
  });
});
