// deliverMessage() called directly, one attempt at a time, against the Twilio
// stand-in and a real SMTP server: how each provider answer is sorted into
// sent / retry later / failed / undeliverable, with the reason the contractor reads.
import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { deliverMessage, LINK_EXPIRED_REASON, LINK_REVOKED_REASON } from '../../src/messaging/deliver.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { revokeCustomerLink } from '../../src/portal-links/commands.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type ScriptedReply, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, storeTestDelivery, useStandins, type Customer } from './helpers.js';

const ONE_OF_FIVE = { attempt: 1, maxAttempts: 5 };

describe('deliverMessage: one attempt, sorted by the provider’s answer', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });
  after(async () => {
    closeTransports();
    await standin.close();
    await smtp.close();
  });
  beforeEach(() => {
    standin.reset();
    smtp.inbox.length = 0;
    smtp.rejectRecipients.clear();
    smtp.tempFailures = 0;
  });

  async function smsTo(phone: string, reply?: ScriptedReply) {
    const customer = await customerWithLink({ phone });
    if (reply) standin.script(phone, reply);
    const id = await storeTestDelivery(customer);
    return { customer, id, job: { deliveryId: id, orgId: customer.org.orgId } };
  }

  async function attempt(job: { deliveryId: string; orgId: string }, info = ONE_OF_FIVE) {
    return deliverMessage(job, info).then(
      (outcome) => ({ outcome, err: undefined as unknown }),
      (err: unknown) => ({ outcome: undefined, err }),
    );
  }

  async function auditOf(orgId: string, id: string) {
    return withOrg(orgId, (db) => db('audit_events').where({ subject_id: id }).orderBy('created_at').select('action', 'data'));
  }

  it('sends an SMS once, records the provider id, and skips the row from then on', async () => {
    const { customer, id, job } = await smsTo('+15555550701');
    const first = await attempt(job);
    expect(first.err).to.equal(undefined);
    expect(first.outcome).to.deep.equal({ result: 'sent', providerId: standin.sent[0].sid });
    const row = await delivery(customer.org.orgId, id);
    expect(row).to.include({ status: 'sent', provider_id: standin.sent[0].sid, attempts: 1 });
    expect(standin.sent[0].body).to.contain(customer.link);
    const sentAudit = await withOrg(customer.org.orgId, (db) =>
      db('audit_events').where({ subject_id: id, action: 'message.sent' }).select('actor_type', 'actor_label', 'subject_type', 'data'),
    );
    expect(sentAudit).to.deep.equal([
      {
        actor_type: 'system',
        actor_label: 'send-message worker',
        subject_type: 'message_delivery',
        data: { channel: 'sms', providerId: standin.sent[0].sid },
      },
    ]);
    expect((await attempt(job)).outcome).to.deep.equal({ result: 'skipped', status: 'sent' });
    expect(standin.requests).to.equal(1);
    const missing = await attempt({ deliveryId: '00000000-0000-4000-8000-000000000000', orgId: customer.org.orgId });
    expect(missing.outcome).to.deep.equal({ result: 'skipped', status: 'missing' });
  });

  for (const [code, phone, reason] of [
    [
      21211,
      '+15555550705',
      'Twilio says this isn’t a valid mobile number (error 21211). Check the customer’s phone number and send again.',
    ],
    [
      21610,
      '+15555550706',
      'The customer has opted out of texts from this business by replying STOP (Twilio error 21610). Texts are blocked until they reply START; send the link by email instead.',
    ],
  ] as const) {
    it(`marks a number Twilio refuses with error ${code} undeliverable at once, saying what to do`, async () => {
      const { customer, id, job } = await smsTo(phone, { kind: 'error', status: 400, code, message: 'Refused' });
      const { err } = await attempt(job);
      expect(err).to.be.instanceOf(UnrecoverableError);
      const row = await delivery(customer.org.orgId, id);
      expect(row.status).to.equal('undeliverable');
      expect(row.last_error).to.equal(reason);
    });
  }

  for (const code of [21614, 21408, 21612]) {
    it(`marks a number Twilio can't text (error ${code}) undeliverable at once`, async () => {
      const { customer, id, job } = await smsTo(`+1555555${code % 1000 === 614 ? '0702' : code % 1000 === 408 ? '0703' : '0704'}`, {
        kind: 'error',
        status: 400,
        code,
        message: 'No can do',
      });
      const { err } = await attempt(job);
      expect(err).to.be.instanceOf(UnrecoverableError);
      const row = await delivery(customer.org.orgId, id);
      expect(row.status).to.equal('undeliverable');
      expect(row.last_error).to.equal(`Twilio can’t text this number (error ${code}): No can do`);
      const audit = await auditOf(customer.org.orgId, id);
      expect(audit).to.deep.include({
        action: 'message.undeliverable',
        data: { channel: 'sms', reason: `Twilio can’t text this number (error ${code}): No can do` },
      });
    });
  }

  it('fails a request Twilio refuses for another reason, naming the HTTP status and error code', async () => {
    const { customer, id, job } = await smsTo('+15555550705', { kind: 'error', status: 400, code: 21602, message: 'Body is required' });
    // Another message to the same customer, already sent: a failure touches only its own row.
    const earlier = await storeTestDelivery(customer);
    await withOrg(customer.org.orgId, (db) => db('message_deliveries').where({ id: earlier }).update({ status: 'sent' }));
    const { err } = await attempt(job);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect((err as Error).message).to.equal('Twilio refused the message (HTTP 400, error 21602): Body is required');
    const row = await delivery(customer.org.orgId, id);
    expect(row).to.include({ status: 'failed', last_error: 'Twilio refused the message (HTTP 400, error 21602): Body is required' });
    expect(await delivery(customer.org.orgId, earlier)).to.include({ status: 'sent', last_error: null });
    const failedAudit = await withOrg(customer.org.orgId, (db) =>
      db('audit_events').where({ subject_id: id }).select('action', 'actor_type', 'actor_label', 'subject_type', 'data'),
    );
    expect(failedAudit).to.deep.equal([
      {
        action: 'message.failed',
        actor_type: 'system',
        actor_label: 'send-message worker',
        subject_type: 'message_delivery',
        data: { channel: 'sms', reason: 'Twilio refused the message (HTTP 400, error 21602): Body is required' },
      },
    ]);
  });

  it("keeps the first 2,000 characters of a provider's very long error", async () => {
    const long = `Refused: ${'x'.repeat(3_000)}`;
    const { customer, id, job } = await smsTo('+15555550736', { kind: 'error', status: 400, code: 21602, message: long });
    await attempt(job);
    const saved = (await delivery(customer.org.orgId, id)).last_error as string;
    expect(saved).to.have.length(2_000);
    expect(saved).to.equal(`Twilio refused the message (HTTP 400, error 21602): ${long}`.slice(0, 2_000));
  });

  it('leaves the error code out when Twilio gives none, and treats a 499 as a refusal', async () => {
    const { customer, id, job } = await smsTo('+15555550706', { kind: 'error', status: 499, code: 0, message: 'Odd' });
    const { err } = await attempt(job);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect((await delivery(customer.org.orgId, id)).last_error).to.equal('Twilio refused the message (HTTP 499): Odd');
  });

  for (const status of [429, 500, 503]) {
    it(`retries a ${status} later: the row goes back to queued, no audit, a plain error for the queue`, async () => {
      const phone = `+1555555071${status % 10}`;
      const { customer, id, job } = await smsTo(phone, { kind: 'error', status, code: 20000 + status, message: 'Busy' });
      const { err } = await attempt(job);
      expect(err).to.be.instanceOf(Error);
      expect(err).not.to.be.instanceOf(UnrecoverableError);
      expect((err as Error).message).to.equal('Twilio: Busy');
      const row = await delivery(customer.org.orgId, id);
      expect(row).to.include({ status: 'queued', last_error: 'Twilio: Busy', attempts: 1 });
      // Going back to the queue is no event in the message's history.
      expect(await auditOf(customer.org.orgId, id)).to.deep.equal([]);
      // The retry claims the queued row and sends.
      expect((await attempt(job, { attempt: 2, maxAttempts: 5 })).outcome).to.include({ result: 'sent' });
      expect(await delivery(customer.org.orgId, id)).to.include({ status: 'sent', attempts: 2 });
    });
  }

  it('gives up on the last attempt of a transient error and says how many were made', async () => {
    const { customer, id, job } = await smsTo('+15555550720', { kind: 'error', status: 503, code: 20503, message: 'Down' });
    const { err } = await attempt(job, { attempt: 3, maxAttempts: 3 });
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect((err as Error).message).to.equal('Gave up after 3 attempts. Last error: Twilio: Down');
    expect(await delivery(customer.org.orgId, id)).to.include({
      status: 'failed',
      last_error: 'Gave up after 3 attempts. Last error: Twilio: Down',
    });
    expect((await auditOf(customer.org.orgId, id)).map((a: { action: string }) => a.action)).to.include('message.failed');
  });

  it('emails, and sorts a 550 as undeliverable and a 451 as retry later', async () => {
    const customer: Customer = await customerWithLink({ email: 'deliver.ok@example.test' });
    const id = await storeTestDelivery(customer, { channel: 'email' });
    const sent = await attempt({ deliveryId: id, orgId: customer.org.orgId });
    expect(sent.outcome).to.include({ result: 'sent' });
    expect(smtp.inbox).to.have.length(1);

    const refused = await customerWithLink({ email: 'deliver.refused@example.test' });
    smtp.rejectRecipients.add('deliver.refused@example.test');
    const refusedId = await storeTestDelivery(refused, { channel: 'email' });
    const r = await attempt({ deliveryId: refusedId, orgId: refused.org.orgId });
    expect(r.err).to.be.instanceOf(UnrecoverableError);
    const refusedRow = await delivery(refused.org.orgId, refusedId);
    expect(refusedRow.status).to.equal('undeliverable');
    expect(refusedRow.last_error).to.match(
      /^The recipient’s mail server refused this address \(.*550.*\)\. Check the customer’s email address\.$/,
    );

    const busy = await customerWithLink({ email: 'deliver.busy@example.test' });
    smtp.tempFailures = 1;
    const busyId = await storeTestDelivery(busy, { channel: 'email' });
    const b = await attempt({ deliveryId: busyId, orgId: busy.org.orgId });
    expect(b.err).not.to.be.instanceOf(UnrecoverableError);
    expect((b.err as Error).message).to.match(/^Email: /);
    expect((await delivery(busy.org.orgId, busyId)).status).to.equal('queued');
  });

  it('fails, without calling the provider, a message whose link was revoked since it was queued', async () => {
    const { customer, id, job } = await smsTo('+15555550730');
    await withOrg(customer.org.orgId, (db) => revokeCustomerLink(db, customer.leadId, { type: 'user', userId: customer.org.userId }));
    const { err } = await attempt(job);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect(await delivery(customer.org.orgId, id)).to.include({ status: 'failed', last_error: LINK_REVOKED_REASON });
    expect(standin.requests).to.equal(0);
  });

  it('fails, without calling the provider, a message whose link expired since it was queued (a follow-up or a manual send alike)', async () => {
    const { customer, id, job } = await smsTo('+15555550733');
    await withOrg(customer.org.orgId, (db) =>
      db('portal_links')
        .where({ lead_id: customer.leadId })
        .update({ expires_at: new Date(Date.now() - 1000) }),
    );
    const { err } = await attempt(job);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect(await delivery(customer.org.orgId, id)).to.include({ status: 'failed', last_error: LINK_EXPIRED_REASON });
    expect(standin.requests).to.equal(0);
  });

  it("fails a message whose link can't be decrypted any more (APP_SECRET changed), telling what to do", async () => {
    const { customer, id, job } = await smsTo('+15555550731');
    const original = config.appSecret;
    config.appSecret = 'a-different-secret-a-different-secret-123456';
    try {
      const { err } = await attempt(job);
      expect(err).to.be.instanceOf(UnrecoverableError);
    } finally {
      config.appSecret = original;
    }
    expect((await delivery(customer.org.orgId, id)).last_error).to.equal(
      'The portal link in this message can’t be decrypted on this server (APP_SECRET changed since the link was made). ' +
        'Regenerate the customer’s portal link, then send again.',
    );
    expect(standin.requests).to.equal(0);
  });

  it('two attempts at the same message at once: one sends, the other finds it sending', async () => {
    const { customer, id, job } = await smsTo('+15555550734');
    const outcomes = await Promise.all([attempt(job), attempt(job)]);
    expect(outcomes.map((o) => o.err)).to.deep.equal([undefined, undefined]);
    expect(outcomes.map((o) => o.outcome!.result).sort()).to.deep.equal(['sent', 'skipped']);
    expect(outcomes.find((o) => o.outcome!.result === 'skipped')!.outcome).to.deep.equal({ result: 'skipped', status: 'sending' });
    expect(standin.sent.filter((m) => m.to === '+15555550734')).to.have.length(1);
    expect(await delivery(customer.org.orgId, id)).to.include({ status: 'sent', attempts: 1 });
  });

  it('fails a message that needs a link when its row has none', async () => {
    const { customer, id, job } = await smsTo('+15555550732');
    await withOrg(customer.org.orgId, (db) => db('message_deliveries').where({ id }).update({ portal_link_id: null }));
    const { err } = await attempt(job);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect((await delivery(customer.org.orgId, id)).last_error).to.equal('This message has no portal link to put in; send it again.');
    expect(standin.requests).to.equal(0);
  });

  it('in production, fails a channel that is not set up and names the settings', async () => {
    const { customer, id, job } = await smsTo('+15555550733');
    const saved = { isProduction: config.isProduction, sid: config.twilio.accountSid };
    config.isProduction = true;
    config.twilio.accountSid = undefined;
    closeTransports();
    try {
      const { err } = await attempt(job);
      expect(err).to.be.instanceOf(UnrecoverableError);
    } finally {
      config.isProduction = saved.isProduction;
      config.twilio.accountSid = saved.sid;
      closeTransports();
    }
    expect(await delivery(customer.org.orgId, id)).to.include({
      status: 'failed',
      last_error: 'Text messages are not set up on this server: set TWILIO_ACCOUNT_SID.',
    });

    const mailCustomer = await customerWithLink({ email: 'deliver.nosmtp@example.test' });
    const mailId = await storeTestDelivery(mailCustomer, { channel: 'email' });
    const savedUrl = config.smtp.url;
    config.isProduction = true;
    config.smtp.url = undefined;
    closeTransports();
    try {
      await attempt({ deliveryId: mailId, orgId: mailCustomer.org.orgId });
    } finally {
      config.isProduction = saved.isProduction;
      config.smtp.url = savedUrl;
      closeTransports();
    }
    expect((await delivery(mailCustomer.org.orgId, mailId)).last_error).to.equal(
      'Email is not set up on this server: set SMTP_URL, MAIL_FROM.',
    );
  });
});
