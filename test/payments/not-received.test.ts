// A payment recorded by hand that never arrived after all (a bounced check, a
// reversed transfer, an entry made by mistake): marked on its page, it stays on
// record but stops counting as paid, so the invoice or the deposit is owed again;
// its receipt stops if it has not gone out, and the customer's page says so.
import { expect } from 'chai';
import supertest from 'supertest';
import type { Actor } from '../../src/db/audit.js';
import { getDb } from '../../src/db/knex.js';
import { claimDeliveries } from '../../src/db/sql/messaging.js';
import type { PaymentRow } from '../../src/db/rows.js';
import { withOrg } from '../../src/db/tenancy.js';
import { translate } from '../../src/i18n/index.js';
import { createInvoice, createInvoiceFromProposal, issueInvoice } from '../../src/invoices/commands.js';
import { HttpError } from '../../src/lib/errors.js';
import { markNotReceived, recordDepositPayment, recordPayment, recordRefund } from '../../src/payments/manual.js';
import { depositState } from '../../src/proposals/deposit.js';
import { linkFor } from '../portal/support.js';
import { approvedWithDeposit } from './deposit-fixtures.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { holdOpen, waitsOn } from '../support/locks.js';

/** An issued $300.00 invoice paid in full by check, its receipt queued. */
async function paidByCheck() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId, { first_name: 'Dana', last_name: 'Reyes' });
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const { invoice, payment, receiptIds } = await withOrg(org.orgId, async (db) => {
    const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor);
    await issueInvoice(db, created.id, actor);
    const paid = await recordPayment(db, { invoiceId: created.id, amountCents: 30000, method: 'check', reference: 'Check 1042' }, actor);
    return { invoice: paid.invoice, payment: paid.payment, receiptIds: paid.receiptIds };
  });
  expect(invoice.status).to.equal('paid');
  expect(receiptIds).to.have.length(1);
  return { org, lead, actor, invoice, payment, receiptId: receiptIds[0] };
}

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  return p.then(
    () => expect.fail('accepted'),
    (err: HttpError) => err,
  );
}

const paymentRow = (id: string) => getDb()('payments').where({ id }).first<PaymentRow>();
const invoiceRow = (id: string) => getDb()('invoices').where({ id }).first<{ status: string; amount_paid_cents: string }>();

describe('a payment marked as not received', () => {
  it('on its page: the invoice is owed again, the receipt stops, the customer sees it, and it has no receipt any more', async () => {
    const { org, lead, invoice, payment, receiptId } = await paidByCheck();
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/payments/${payment.id}`);
    expect(page.text).to.contain('Not received after all?');
    expect(page.text).to.contain(`/payments/${payment.id}/pdf`);

    const res = await agent
      .post(`/payments/${payment.id}/not-received`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: 'bounced', note: 'Returned: insufficient funds' })
      .redirects(1);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain(`$300.00 marked as not received. Invoice #${invoice.number} has $300.00 owed again.`);
    expect(res.text).to.contain('The check bounced or the payment was reversed');
    expect(res.text).to.contain('Returned: insufficient funds');
    expect(res.text).to.contain('It no longer counts as paid.');
    expect(res.text, 'no second marking').not.to.contain('Not received after all?');
    expect(res.text, 'no receipt to download').not.to.contain(`/payments/${payment.id}/pdf`);

    const marked = await paymentRow(payment.id);
    expect(marked).to.include({
      status: 'failed',
      failure_reason: 'bounced',
      failure_note: 'Returned: insufficient funds',
      failed_by: org.userId,
    });
    expect(marked.failed_at).to.be.instanceOf(Date);
    expect(Number(marked.amount_cents), 'the payment stays on record as it was').to.equal(30000);
    const reopened = await invoiceRow(invoice.id);
    expect(reopened.status).to.equal('open');
    expect(Number(reopened.amount_paid_cents)).to.equal(0);
    const receipt = await getDb()('message_deliveries').where({ id: receiptId }).first<{ status: string; last_error: string }>();
    expect(receipt.status).to.equal('failed');
    expect(translate('en', receipt.last_error)).to.equal('Not sent: the payment was marked as not received before its receipt went out.');
    const [audit] = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'payment.not_received', subject_id: payment.id })
      .select<{ data: Record<string, unknown> }[]>('data');
    expect(audit.data).to.deep.include({ reason: 'bounced', invoice_id: invoice.id, invoice_status: 'open', receipts_stopped: 1 });

    expect((await agent.get(`/payments/${payment.id}/pdf`)).status, 'no receipt for money never received').to.equal(404);
    // Wherever the dashboard lists it, it says so.
    for (const path of [`/payments/${payment.id}`, `/invoices/${invoice.id}`, `/customers/${lead.id}`, '/payments', '/']) {
      expect((await agent.get(path)).text, path).to.contain('<span class="badge failed">Not received</span>');
    }
    const { token } = await linkFor(org.orgId, lead.id);
    const portal = supertest(testApp());
    const payments = await portal.get(`/p/${token}/payments`);
    expect(payments.text).to.contain('<span class="badge failed">Not received</span>');
    expect(payments.text, 'the open balance counts the invoice again').to.match(/Open balance<\/p>\s*<p class="balance-amount">\$300\.00</);
    expect(payments.text).not.to.contain(`/payments/${payment.id}/pdf`);
    expect((await portal.get(`/p/${token}/payments/${payment.id}/pdf`)).status).to.equal(404);
  });

  it('a deposit waiting on its proposal is owed again, and the invoice made later does not credit it', async () => {
    const { org, actor, proposal } = await approvedWithDeposit();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordDepositPayment(db, { proposalId: proposal.id, currency: 'USD', amountCents: 25000, method: 'cash', sendReceipt: false }, actor),
    );
    expect((await withOrg(org.orgId, (db) => depositState(db, proposal)))?.outstanding_cents).to.equal(0);
    const { token } = await linkFor(org.orgId, proposal.lead_id);
    const portalProposal = () => supertest(testApp()).get(`/p/${token}/proposals/${proposal.id}`);
    expect((await portalProposal()).text).to.contain('Deposit of $250.00 paid.');

    const { invoice } = await withOrg(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'mistake' }, actor));
    expect(invoice, 'no invoice holds it').to.equal(null);
    expect(await withOrg(org.orgId, (db) => depositState(db, proposal))).to.include({
      paid_cents: 0,
      outstanding_cents: 25000,
      waiting_cents: 0,
    });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/payments/${payment.id}`);
    expect(page.text).to.contain('Recorded by mistake');
    const asked = (await portalProposal()).text;
    expect(asked, 'the customer is asked for the deposit again').to.contain('Deposit due: $250.00');
    expect(asked).not.to.contain('Deposit of $250.00 paid.');

    const made = await withOrg(org.orgId, (db) => createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor));
    expect(Number(made.amount_paid_cents), 'the new invoice credits nothing').to.equal(0);
    expect((await paymentRow(payment.id)).invoice_id, 'it stays off the invoice').to.equal(null);
  });

  it('refuses a refund, a payment with refunds, an online payment and a refunded one, with the reason, changing nothing', async () => {
    const { org, actor, invoice, payment } = await paidByCheck();
    const { refund } = await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 100 }, actor));
    const cases: [string, string, string][] = [
      ['refund', refund.id, 'A refund cannot be marked as not received.'],
      [
        'with refunds',
        payment.id,
        'Part of this payment was refunded, so it was received. If more has to go back to the customer, record a refund.',
      ],
    ];
    for (const [what, id, words] of cases) {
      const err = await refusal(withOrg(org.orgId, (db) => markNotReceived(db, id, { reason: 'bounced' }, actor)));
      expect(err.status, what).to.equal(409);
      expect(translate('en', err.message), what).to.equal(words);
    }
    await getDb()('payments').where({ id: payment.id }).update({ source: 'stripe', method: 'stripe' });
    const online = await refusal(withOrg(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'bounced' }, actor)));
    expect(translate('en', online.message)).to.equal(
      'This payment was made online through Stripe; only a payment recorded by hand can be marked as not received.',
    );
    expect((await paymentRow(payment.id)).status).to.equal('succeeded');
    expect((await invoiceRow(invoice.id)).status).to.equal('partially_paid');
    await getDb()('payments').where({ id: payment.id }).update({ source: 'manual', method: 'check' });
    await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 29900 }, actor));
    const refunded = await refusal(withOrg(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'bounced' }, actor)));
    expect(translate('en', refunded.message)).to.equal('This payment is refunded; only a succeeded payment can be marked as not received.');
    expect(await getDb()('audit_events').where({ org_id: org.orgId, action: 'payment.not_received' })).to.have.length(0);
  });

  it('refuses a bad form on the page with 422 and its words, and a second marking with 409, changing nothing', async () => {
    const { org, invoice, payment } = await paidByCheck();
    const agent = await loginAgent(org.email, org.password);
    const csrf = csrfFrom((await agent.get(`/payments/${payment.id}`)).text);
    for (const [fields, words] of [
      [{ reason: '' }, 'Choose why the money was not received'],
      [{ reason: 'stolen' }, 'Choose why the money was not received'],
      [{ reason: 'bounced', note: 'x'.repeat(201) }, 'At most 200 characters'],
    ] as [Record<string, string>, string][]) {
      const res = await agent
        .post(`/payments/${payment.id}/not-received`)
        .type('form')
        .send({ _csrf: csrf, ...fields });
      expect(res.status, JSON.stringify(fields)).to.equal(422);
      expect(res.text).to.contain(words);
      expect(res.text, 'the form stays open').to.match(/<details class="confirm" open>/);
      if (fields.note) expect(res.text, 'the note is kept').to.contain(`value="${fields.note}"`);
      if (fields.note) expect(res.text, 'the reason is kept').to.contain('<option value="bounced" selected>');
    }
    expect((await paymentRow(payment.id)).status).to.equal('succeeded');
    expect((await invoiceRow(invoice.id)).status).to.equal('paid');

    await agent.post(`/payments/${payment.id}/not-received`).type('form').send({ _csrf: csrf, reason: 'mistake' }).expect(303);
    const again = await agent.post(`/payments/${payment.id}/not-received`).type('form').send({ _csrf: csrf, reason: 'bounced' });
    expect(again.status).to.equal(409);
    expect(again.text).to.contain('This payment is already marked as not received.');
    expect((await paymentRow(payment.id)).failure_reason, 'the first reason stands').to.equal('mistake');
  });

  it('marks that payment only: another on the same invoice still counts', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
    const { invoice, first, second } = await withOrg(org.orgId, async (db) => {
      const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor);
      await issueInvoice(db, created.id, actor);
      const a = await recordPayment(db, { invoiceId: created.id, amountCents: 10000, method: 'cash', sendReceipt: false }, actor);
      const b = await recordPayment(db, { invoiceId: created.id, amountCents: 12000, method: 'check', sendReceipt: false }, actor);
      return { invoice: created, first: a.payment, second: b.payment };
    });
    const { invoice: after } = await withOrg(org.orgId, (db) => markNotReceived(db, second.id, { reason: 'bounced' }, actor));
    expect(after).to.include({ status: 'partially_paid' });
    expect(Number(after!.amount_paid_cents)).to.equal(10000);
    expect((await paymentRow(first.id)).status).to.equal('succeeded');
    expect((await invoiceRow(invoice.id)).status).to.equal('partially_paid');
  });

  it('a receipt already being sent is not stopped, but a retry of it is: the claim ends it instead of sending', async () => {
    const { org, actor, payment, receiptId } = await paidByCheck();
    // The send worker has it (as its claim leaves it) when the payment is marked.
    await getDb()('message_deliveries').where({ id: receiptId }).update({ status: 'sending' });
    await withOrg(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'bounced' }, actor));
    const [audit] = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'payment.not_received' })
      .select<{ data: Record<string, unknown> }[]>('data');
    expect(audit.data.receipts_stopped).to.equal(0);
    expect((await getDb()('message_deliveries').where({ id: receiptId }).first<{ status: string }>('status')).status).to.equal('sending');
    // That send fails for a passing reason and goes back in the queue, as recordFailure leaves a retryable one.
    await getDb()('message_deliveries').where({ id: receiptId }).update({ status: 'queued' });
    const [claim] = await claimDeliveries(org.orgId, [receiptId]);
    expect(claim).to.include({ claimed: false, status: 'failed' });
    const row = await getDb()('message_deliveries').where({ id: receiptId }).first<{ status: string; last_error: string }>();
    expect(translate('en', row.last_error)).to.equal('Not sent: the payment was marked as not received before its receipt went out.');
  });

  it('a deposit credited to an invoice still a draft: that draft holds nothing, and the deposit is owed again', async () => {
    const { org, actor, proposal } = await approvedWithDeposit();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordDepositPayment(
        db,
        { proposalId: proposal.id, currency: 'USD', amountCents: 25000, method: 'check', sendReceipt: false },
        actor,
      ),
    );
    const draft = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor),
    );
    expect(draft.status).to.equal('draft');
    expect(Number(draft.amount_paid_cents), 'the draft credits the deposit').to.equal(25000);
    const agent = await loginAgent(org.email, org.password);
    const csrf = csrfFrom((await agent.get(`/payments/${payment.id}`)).text);
    const res = await agent.post(`/payments/${payment.id}/not-received`).type('form').send({ _csrf: csrf, reason: 'bounced' }).redirects(1);
    expect(res.text, 'told as the deposit: the customer has not seen that invoice').to.contain(
      '$250.00 marked as not received. The deposit is owed again.',
    );
    const after = await invoiceRow(draft.id);
    expect(after.status).to.equal('draft');
    expect(Number(after.amount_paid_cents)).to.equal(0);
    expect(await withOrg(org.orgId, (db) => depositState(db, proposal))).to.include({ paid_cents: 0, outstanding_cents: 25000 });
  });

  it('two markings at once: the second waits for the first, then is refused; the balance counts the payment out once', async () => {
    const { org, actor, invoice, payment } = await paidByCheck();
    const first = holdOpen(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'bounced' }, actor));
    const { pid } = await first.ready;
    const second = withOrg(org.orgId, (db) => markNotReceived(db, payment.id, { reason: 'mistake' }, actor)).then(
      () => null,
      (err: HttpError) => err,
    );
    const seen = await waitsOn(pid, second);
    first.release();
    await first.done;
    expect(seen).to.equal('waiting');
    const refused = await second;
    expect(refused?.status).to.equal(409);
    expect(translate('en', refused!.message)).to.equal('This payment is already marked as not received.');
    const after = await invoiceRow(invoice.id);
    expect(after.status).to.equal('open');
    expect(Number(after.amount_paid_cents)).to.equal(0);
  });
});
