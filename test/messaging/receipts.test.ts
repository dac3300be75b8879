// Issue #15 point 4: every recorded payment (manual or Stripe) queues exactly one
// receipt in the outbox, in the payment's transaction; the worker sends it by
// email with the receipt PDF, or as a short text when the customer has only a phone.
import { expect } from 'chai';
import { getSendQueue } from '../../src/queue/queues.js';
import { withOrg } from '../../src/db/tenancy.js';
import { deliverMessage, setAttachmentSource } from '../../src/messaging/deliver.js';
import { closeTransports } from '../../src/messaging/transports.js';
import { PORTAL_LINK_PLACEHOLDER } from '../../src/messaging/link-placeholder.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { receiptAttachments } from '../../src/documents/receipt-attachment.js';
import { recordStripePayments } from '../../src/payments/stripe/record.js';
import { queueReceipts } from '../../src/db/sql/receipts.js';
import { loginAgent } from '../support/http.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { openInvoice } from '../payments/stripe-fixtures.js';
import { useStandins } from './helpers.js';

interface ReceiptRow {
  id: string;
  channel: string;
  to_address: string;
  subject: string | null;
  body_text: string;
  status: string;
  payment_id: string;
}

async function receipts(orgId: string): Promise<ReceiptRow[]> {
  return withOrg(orgId, (db) =>
    db('message_deliveries')
      .where({ purpose: 'receipt' })
      .orderBy('created_at')
      .select<ReceiptRow[]>('id', 'channel', 'to_address', 'subject', 'body_text', 'status', 'payment_id'),
  );
}

const ATTEMPT = { attempt: 1, maxAttempts: 1 };

describe('payment receipts', () => {
  // Jobs this file enqueues are nobody's here: leave none for a later file's send worker.
  afterEach(() => getSendQueue().drain(true));

  let smtp: TestSmtp;
  let twilio: TwilioStandin;

  before(async () => {
    smtp = await startTestSmtp();
    twilio = await startTwilioStandin();
    useStandins(twilio, smtp);
    setAttachmentSource(receiptAttachments);
  });
  after(async () => {
    setAttachmentSource(undefined);
    closeTransports(); // the SMTP pool, or the test server waits for it
    await smtp.close();
    await twilio.close();
  });

  it('a manual payment recorded on the invoice page queues one receipt, sent by email with the receipt PDF', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Maple Gutters' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', email: 'ana@example.test' });
    const invoiceId = await openInvoice(org.orgId, lead.id, 30_000);
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/invoices/${invoiceId}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const res = await agent.post(`/invoices/${invoiceId}/payments`).type('form').send({ _csrf: csrf, amount: '120.00', method: 'check' });
    expect(res.status).to.equal(303);
    // The form offers to send none; by default one goes.
    expect(page.text).to.contain('name="no_receipt"').and.to.contain('Don’t send the customer a receipt for this payment');
    // The business is told a receipt goes out: recording a payment is not only a note for its books.
    expect((await agent.get(res.headers.location)).text).to.match(
      /Payment recorded on invoice #\d+\. A receipt is on its way to the customer\./,
    );

    const [receipt, ...more] = await receipts(org.orgId);
    expect(more).to.have.length(0);
    expect(receipt).to.include({ channel: 'email', to_address: 'ana@example.test' });
    expect(receipt.subject).to.match(/^Receipt from Maple Gutters — invoice #\d+$/);
    expect(receipt.body_text).to.contain('received your payment of $120.00');
    expect(receipt.body_text).to.contain('Still owed on this invoice: $180.00.');

    const before = smtp.inbox.length;
    const outcome = await deliverMessage({ deliveryId: receipt.id, orgId: org.orgId }, ATTEMPT);
    expect(outcome.result).to.equal('sent');
    const mail = smtp.inbox[before];
    expect(mail.subject).to.equal(receipt.subject);
    expect(mail.attachments).to.have.length(1);
    expect(mail.attachments[0].contentType).to.equal('application/pdf');
    expect(mail.attachments[0].filename).to.match(/^receipt-\d+-1\.pdf$/);
    expect(mail.attachments[0].content.subarray(0, 5).toString()).to.equal('%PDF-');
    expect((await receipts(org.orgId))[0].status).to.equal('sent');
    // Sent once: a second job for the same row does nothing.
    expect((await deliverMessage({ deliveryId: receipt.id, orgId: org.orgId }, ATTEMPT)).result).to.equal('skipped');
    expect(smtp.inbox.length).to.equal(before + 1);

    // A refund's flash names the amount as money, not as the form's plain number.
    const paymentId = await withOrg(org.orgId, (db) => db('payments').where({ invoice_id: invoiceId }).first('id')).then(
      (p) => (p as { id: string }).id,
    );
    const paymentPage = await agent.get(`/payments/${paymentId}`);
    const refundCsrf = /name="_csrf" value="([^"]+)"/.exec(paymentPage.text)![1];
    const refunded = await agent.post(`/payments/${paymentId}/refund`).type('form').send({ _csrf: refundCsrf, amount: '20' });
    expect(refunded.status).to.equal(303);
    expect((await agent.get(refunded.headers.location)).text).to.contain('Refund recorded ($20.00).');
    // Home's recent payments say a refund is one, not only by its minus sign.
    expect((await agent.get('/')).text).to.contain('−$20.00</a> (refund)');
  });

  it('a payment recorded with "Don’t send a receipt" ticked queues none, and says nothing of one', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Quiet Gutters' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', email: 'ana.quiet@example.test' });
    const invoiceId = await openInvoice(org.orgId, lead.id, 30_000);
    const agent = await loginAgent(org.email, org.password);
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await agent.get(`/invoices/${invoiceId}`)).text)![1];
    const res = await agent
      .post(`/invoices/${invoiceId}/payments`)
      .type('form')
      .send({ _csrf: csrf, amount: '120.00', method: 'check', no_receipt: 'on' });
    expect(res.status).to.equal(303);
    expect(await receipts(org.orgId)).to.have.length(0);
    const after = (await agent.get(res.headers.location)).text;
    expect(after)
      .to.match(/Payment recorded on invoice #\d+\./)
      .and.not.to.contain('receipt is on its way');
  });

  it('a customer with only a phone gets a short text; one with neither gets nothing, and the payment still records', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Birch Roofing' });
    const texter = await createTestLead(org.orgId, { first_name: 'Ben', email: null, phone: '+15555550123' });
    const silent = await createTestLead(org.orgId, { first_name: 'Cy', email: null, phone: null });
    const a = await openInvoice(org.orgId, texter.id, 5_000);
    const b = await openInvoice(org.orgId, silent.id, 5_000);
    const { recordPayment } = await import('../../src/payments/manual.js');
    const actor = { type: 'user' as const, userId: org.userId };
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: a, amountCents: 5_000, method: 'cash' }, actor));
    const paidB = await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: b, amountCents: 5_000, method: 'cash' }, actor));
    expect(paidB.receiptIds).to.deep.equal([]);

    const rows = await receipts(org.orgId);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ channel: 'sms', to_address: '+15555550123', subject: null });
    expect(rows[0].body_text).to.match(/^Birch Roofing: payment of \$50\.00 received for invoice #\d+\. Thank you!$/);
    expect(rows[0].body_text.length).to.be.below(160);
    expect((await deliverMessage({ deliveryId: rows[0].id, orgId: org.orgId }, ATTEMPT)).result).to.equal('sent');
  });

  it('a receipt carries no portal link: it goes out whole to a customer whose link has expired', async () => {
    const org = await createTestOrg({ plan: 'starter', name: 'Cedar Paving' });
    const lead = await createTestLead(org.orgId, { first_name: 'Dee', email: 'dee@example.test' });
    const invoiceId = await openInvoice(org.orgId, lead.id, 8_000);
    const actor = { type: 'user' as const, userId: org.userId };
    await withOrg(org.orgId, async (db) => {
      await generatePortalLink(db, lead.id, actor);
      await db('portal_links')
        .where({ lead_id: lead.id })
        .update({ expires_at: new Date(Date.now() - 1000) });
    });
    const { recordPayment } = await import('../../src/payments/manual.js');
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId, amountCents: 8_000, method: 'cash' }, actor));
    const [receipt] = await receipts(org.orgId);
    const stored = await withOrg(org.orgId, (db) =>
      db('message_deliveries').where({ id: receipt.id }).first<{ portal_link_id: string | null; body_html: string }>(),
    );
    expect(stored.portal_link_id).to.equal(null);
    for (const part of [receipt.body_text, stored.body_html]) {
      expect(part).not.to.contain(PORTAL_LINK_PLACEHOLDER);
      expect(part).not.to.contain('/p/');
    }
    const before = smtp.inbox.length;
    expect((await deliverMessage({ deliveryId: receipt.id, orgId: org.orgId }, ATTEMPT)).result).to.equal('sent');
    expect(smtp.inbox[before].text).not.to.contain('/p/');
  });

  it('a Stripe payment seen again (webhook twice, then reconciliation) queues its receipt once', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId, { first_name: 'Dee', email: 'dee@example.test' });
    const invoiceId = await openInvoice(org.orgId, lead.id, 10_000);
    const payment = {
      paymentIntent: {
        id: `pi_receipt_${Math.random().toString(36).slice(2, 10)}`,
        status: 'succeeded',
        amount_received: 10_000,
        currency: 'usd',
        created: Math.floor(Date.now() / 1000),
        metadata: { org_id: org.orgId, invoice_id: invoiceId },
        latest_charge: null,
      },
      checkoutSessionId: null,
    };
    for (let i = 0; i < 3; i++) await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [payment]));
    const rows = await receipts(org.orgId);
    expect(rows).to.have.length(1);
    expect(rows[0].body_text).to.contain('This invoice is now paid in full.');
    // And asking again directly for the same payment adds nothing (unique per payment).
    expect(await withOrg(org.orgId, (db) => queueReceipts(db, [rows[0].payment_id]))).to.deep.equal([]);
    expect(await receipts(org.orgId)).to.have.length(1);
  });
});
