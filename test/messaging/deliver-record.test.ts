// deliverMessage() called directly, for what happens around the provider call: the email a customer
// gets (sender name, reply-to, the portal link filled in, the files it carries, sent even when the files
// can't be read), and a send the provider accepted while the database could not record it, recorded
// once the database is back instead of being given up.
import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { deliverMessage, setAttachmentSource, type ReceiptRef } from '../../src/messaging/deliver.js';
import { recordPayment } from '../../src/payments/manual.js';
import { openInvoice } from '../payments/stripe-fixtures.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { captureLogs } from '../support/logs.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { customerWithLink, delivery, storeTestDelivery, useStandins, type Customer } from './helpers.js';

const ONE_OF_FIVE = { attempt: 1, maxAttempts: 5 };
const RECORD_FUNCTION = 'record_message_sends(uuid, uuid[], text[], jsonb)';
const PDF = { filename: 'receipt.pdf', content: Buffer.from('%PDF-1.4 receipt'), contentType: 'application/pdf' };

/** A receipt in the outbox: a payment recorded by hand on an invoice of the customer's (the payment queues it). */
async function receiptDelivery(customer: Customer): Promise<ReceiptRef> {
  const orgId = customer.org.orgId;
  const invoiceId = await openInvoice(orgId, customer.leadId, 10_000);
  const paid = await withOrg(orgId, (db) =>
    recordPayment(db, { invoiceId, amountCents: 10_000, method: 'cash' }, { type: 'user', userId: customer.org.userId }),
  );
  expect(paid.receiptIds).to.have.length(1);
  return { deliveryId: paid.receiptIds[0], paymentId: paid.payment.id };
}

describe('deliverMessage: the email, its files, and recording the send', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
  });
  after(async () => {
    setAttachmentSource(undefined);
    closeTransports();
    await standin.close();
    await smtp.close();
  });
  beforeEach(() => {
    standin.reset();
    smtp.inbox.length = 0;
  });
  afterEach(() => setAttachmentSource(undefined));

  it("emails from the business's name, with replies to its address and the link filled in; a message that is no receipt asks for no files", async () => {
    const customer = await customerWithLink({ email: 'deliver.files@example.test' });
    const orgId = customer.org.orgId;
    await withOrg(orgId, (db) => db('organizations').where({ id: orgId }).update({ email: 'office@maple.example.test' }));
    const id = await storeTestDelivery(customer, { channel: 'email' });
    const asked: ReceiptRef[] = [];
    setAttachmentSource((_org, receipt) => {
      asked.push(receipt);
      return Promise.resolve([PDF]);
    });

    const outcome = await deliverMessage({ deliveryId: id, orgId }, ONE_OF_FIVE);
    expect(outcome).to.include({ result: 'sent' });
    expect(asked).to.deep.equal([]);
    expect(smtp.inbox).to.have.length(1);
    const mail = smtp.inbox[0];
    const orgName = await withOrg(orgId, (db) => db('organizations').where({ id: orgId }).first<{ name: string }>('name'));
    expect(mail.from?.value[0].name).to.equal(orgName.name);
    expect(mail.replyTo?.value[0].address).to.equal('office@maple.example.test');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0].address : undefined).to.equal('deliver.files@example.test');
    expect(mail.subject).to.be.a('string').and.not.equal('');
    expect(mail.text).to.contain(customer.link);
    expect(mail.html || '').to.contain(customer.link);
    expect(mail.attachments).to.deep.equal([]);
  });

  it('a receipt asks for its files by its payment, once, and carries them', async () => {
    const customer = await customerWithLink({ email: 'deliver.receipt@example.test' });
    const orgId = customer.org.orgId;
    const receipt = await receiptDelivery(customer);
    const asked: Array<[string, ReceiptRef]> = [];
    setAttachmentSource((org, ref) => {
      asked.push([org, ref]);
      return Promise.resolve([PDF]);
    });

    const outcome = await deliverMessage({ deliveryId: receipt.deliveryId, orgId }, ONE_OF_FIVE);
    expect(outcome).to.include({ result: 'sent' });
    expect(asked).to.deep.equal([[orgId, receipt]]);
    expect(smtp.inbox).to.have.length(1);
    expect(smtp.inbox[0].attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).to.deep.equal([
      ['receipt.pdf', 'application/pdf', '%PDF-1.4 receipt'],
    ]);
  });

  it("still sends a receipt, without files, when they can't be read, and says so in the log", async () => {
    const customer = await customerWithLink({ email: 'deliver.nofiles@example.test' });
    const orgId = customer.org.orgId;
    const { deliveryId: id } = await receiptDelivery(customer);
    setAttachmentSource(() => Promise.reject(new Error('database went away')));

    let outcome: Awaited<ReturnType<typeof deliverMessage>> | undefined;
    const logs = await captureLogs(async () => {
      outcome = await deliverMessage({ deliveryId: id, orgId }, ONE_OF_FIVE);
    });
    expect(outcome).to.include({ result: 'sent' });
    expect(smtp.inbox).to.have.length(1);
    expect(smtp.inbox[0].attachments).to.deep.equal([]);
    expect((await delivery(orgId, id)).status).to.equal('sent');
    expect(logs.text).to.contain('could not read the message attachments; sending without them');
    expect(logs.text).to.contain('database went away');
    // Recorded at the first try: nothing to say about the database coming back.
    expect(logs.text).not.to.contain('recorded a sent message after the database came back');
  });

  it('records a send the provider accepted once the database takes it again, and sends nothing twice', async function () {
    this.timeout(15_000);
    const phone = '+15555550831';
    const customer = await customerWithLink({ phone });
    const orgId = customer.org.orgId;
    const id = await storeTestDelivery(customer);

    let outcome: Awaited<ReturnType<typeof deliverMessage>> | undefined;
    let renamed = false;
    // The record step fails while its SQL function is away (as it would with the database restarting).
    await getDb().raw(`alter function ${RECORD_FUNCTION} rename to record_message_sends_away`);
    renamed = true;
    try {
      let failedOnce!: () => void;
      const sawFailure = new Promise<void>((resolve) => (failedOnce = resolve));
      const logs = await captureLogs(
        async () => {
          const sending = deliverMessage({ deliveryId: id, orgId }, ONE_OF_FIVE);
          sending.catch(() => undefined);
          await Promise.race([
            sawFailure,
            new Promise((_, reject) => setTimeout(() => reject(new Error('the record never failed')), 6_000).unref()),
          ]);
          expect((await delivery(orgId, id)).status, 'claimed, not yet recorded').to.equal('sending');
          await getDb().raw('alter function record_message_sends_away(uuid, uuid[], text[], jsonb) rename to record_message_sends');
          renamed = false;
          outcome = await sending;
        },
        (line) => {
          if (line.includes('sent, but recording it failed; retrying')) failedOnce();
        },
      );
      expect(logs.text).to.contain('recorded a sent message after the database came back');
    } finally {
      if (renamed)
        await getDb().raw('alter function record_message_sends_away(uuid, uuid[], text[], jsonb) rename to record_message_sends');
    }

    const sent = standin.sent.filter((m) => m.to === phone);
    expect(sent).to.have.length(1);
    expect(outcome).to.deep.equal({ result: 'sent', providerId: sent[0].sid });
    const row = await delivery(orgId, id);
    expect(row).to.include({ status: 'sent', provider_id: sent[0].sid, attempts: 1 });
    const history = await withOrg(orgId, (db) => db('audit_events').where({ subject_id: id }).select<{ action: string }[]>('action'));
    expect(history.map((h) => h.action)).to.deep.equal(['message.sent']);
  });

  it('gives up recording after its window, naming the provider id, and leaves the row for the sweeper (never sent again)', async function () {
    this.timeout(15_000);
    const phone = '+15555550832';
    const customer = await customerWithLink({ phone });
    const orgId = customer.org.orgId;
    const id = await storeTestDelivery(customer);

    await getDb().raw(`alter function ${RECORD_FUNCTION} rename to record_message_sends_away`);
    let err: unknown;
    let logs: Awaited<ReturnType<typeof captureLogs>>;
    try {
      logs = await captureLogs(async () => {
        err = await deliverMessage({ deliveryId: id, orgId }, ONE_OF_FIVE, { recordRetryMs: 1_000 }).then(
          () => undefined,
          (e: unknown) => e,
        );
      });
    } finally {
      await getDb().raw('alter function record_message_sends_away(uuid, uuid[], text[], jsonb) rename to record_message_sends');
    }

    const sent = standin.sent.filter((m) => m.to === phone);
    expect(sent).to.have.length(1);
    expect(err).to.be.instanceOf(UnrecoverableError);
    expect((err as Error).message).to.match(
      new RegExp(`^Sent \\(provider id ${sent[0].sid}\\) but could not record it: .*record_message_sends`),
    );
    // Tried again within the window (the pauses are recordRetryDelayMs's), then gave up.
    expect(logs.text).to.contain('sent, but recording it failed; retrying');
    expect(logs.text).not.to.contain('recorded a sent message after the database came back');
    // Still 'sending': the sweeper reports it as interrupted; no job sends it again.
    expect(await delivery(orgId, id)).to.include({ status: 'sending', provider_id: null, attempts: 1 });
    expect((await deliverMessage({ deliveryId: id, orgId }, ONE_OF_FIVE)).result).to.equal('skipped');
    expect(standin.sent.filter((m) => m.to === phone)).to.have.length(1);
  });
});
