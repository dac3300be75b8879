// Manual payments and refunds (src/payments/manual.ts): every refusal with its
// exact words, what each row holds, and the audit each leaves.
import { expect } from 'chai';
import type { Actor } from '../../src/db/audit.js';
import { getDb } from '../../src/db/knex.js';
import type { PaymentRow } from '../../src/db/rows.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { FormError, HttpError } from '../../src/lib/errors.js';
import { recordPayment, recordRefund } from '../../src/payments/manual.js';
import { voidInvoice } from '../../src/payments/void-invoice.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import { holdOpen, waitsOn } from '../support/locks.js';
import { translate } from '../../src/i18n/index.js';

async function openInvoice() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const invoice = await withOrg(org.orgId, async (db) => {
    const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor); // $300.00
    await issueInvoice(db, created.id, actor);
    return created;
  });
  return { org, lead, actor, invoice };
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('accepted'),
    (err: Error) => err,
  );
}

const auditsOf = (orgId: string, action: string) =>
  getDb()('audit_events')
    .where({ org_id: orgId, action })
    .orderBy('created_at')
    .select<{ subject_type: string; subject_id: string; data: Record<string, unknown> }[]>();

describe('manual payments and refunds (src/payments/manual.ts)', () => {
  it('refuses an amount that is not a positive whole number of cents', async () => {
    const { org, actor, invoice } = await openInvoice();
    for (const amountCents of [0, -100, 1.5, Number.NaN, 2 ** 53]) {
      const err = await refusal(
        withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents, method: 'cash' }, actor)),
      );
      expect(err, String(amountCents)).to.be.instanceOf(FormError);
      expect(translate('en', (err as FormError).fields.amount)).to.equal('The amount must be more than zero');
    }
    expect(await getDb()('payments').where({ invoice_id: invoice.id })).to.have.length(0);
  });

  it('takes exactly the balance, then refuses anything more with the exact words', async () => {
    const { org, actor, invoice } = await openInvoice();
    const over = await refusal(
      withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 30001, method: 'cash' }, actor)),
    );
    expect(translate('en', (over as FormError).fields.amount)).to.equal(
      `That is more than the $300.00 still owed on invoice #${invoice.number}; overpayments are not recorded.`,
    );
    const paid = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'bank_transfer' }, actor),
    );
    expect(paid.invoice).to.include({ status: 'paid', amount_paid_cents: 30000 });
    const full = await refusal(
      withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 1, method: 'cash' }, actor)),
    );
    expect(full).to.be.instanceOf(HttpError);
    expect((full as HttpError).status).to.equal(409);
    expect(translate('en', full.message)).to.equal(`Invoice #${invoice.number} is already paid in full.`);
  });

  it('stores who, how, when and the reference, and audits it', async () => {
    const { org, actor, invoice, lead } = await openInvoice();
    const paidAt = new Date('2026-11-03T15:00:00Z');
    const { payment, receiptIds } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 1234, method: 'check', reference: '#77', paidAt }, actor),
    );
    // The customer's receipt is queued in the same transaction: one outbox row for this payment.
    expect(receiptIds).to.have.length(1);
    const receipt = await getDb()('message_deliveries')
      .where({ id: receiptIds[0] })
      .first<{ purpose: string; lead_id: string; status: string }>('purpose', 'lead_id', 'status');
    expect(receipt).to.deep.equal({ purpose: 'receipt', lead_id: lead.id, status: 'pending' });
    expect(payment).to.include({
      org_id: org.orgId,
      lead_id: lead.id,
      invoice_id: invoice.id,
      kind: 'payment',
      amount_cents: 1234,
      currency: 'USD',
      method: 'check',
      source: 'manual',
      status: 'succeeded',
      reference: '#77',
      recorded_by: org.userId,
    });
    expect(new Date(payment.paid_at).toISOString()).to.equal(paidAt.toISOString());
    const before = Date.now();
    const { payment: bySystem } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 100, method: 'cash' }, { type: 'system', label: 'import' }),
    );
    expect(bySystem.reference).to.equal(null);
    expect(bySystem.recorded_by).to.equal(null);
    expect(Math.abs(new Date(bySystem.paid_at).getTime() - before)).to.be.lessThan(60_000);
    const audits = await auditsOf(org.orgId, 'payment.recorded');
    expect(audits.map((a) => a.subject_type)).to.deep.equal(['payment', 'payment']);
    expect(audits.map((a) => [a.subject_id, a.data])).to.deep.equal([
      [
        payment.id,
        { invoice_id: invoice.id, invoice_number: invoice.number, amount_cents: 1234, method: 'check', invoice_status: 'partially_paid' },
      ],
      [
        bySystem.id,
        { invoice_id: invoice.id, invoice_number: invoice.number, amount_cents: 100, method: 'cash', invoice_status: 'partially_paid' },
      ],
    ]);
  });

  it('refunds part of a payment as a new row like it, audited; the payment stays succeeded until fully refunded', async () => {
    const { org, actor, invoice } = await openInvoice();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'check' }, actor),
    );
    const bad = await refusal(withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 0 }, actor)));
    expect(translate('en', (bad as FormError).fields.amount)).to.equal('The amount must be more than zero');
    const { refund, invoice: after } = await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 1000 }, actor));
    expect(refund).to.include({
      kind: 'refund',
      refund_of: payment.id,
      amount_cents: 1000,
      currency: 'USD',
      method: 'check',
      source: 'manual',
      status: 'succeeded',
      reference: null,
      recorded_by: org.userId,
      lead_id: payment.lead_id,
      invoice_id: invoice.id,
    });
    expect(after).to.include({ status: 'partially_paid', amount_paid_cents: 29000 });
    const original = await getDb()('payments').where({ id: payment.id }).first<PaymentRow>();
    expect(original.status).to.equal('succeeded');
    const audits = await auditsOf(org.orgId, 'payment.refunded');
    expect(audits.map((a) => a.subject_type)).to.deep.equal(['payment']);
    expect(audits.map((a) => [a.subject_id, a.data])).to.deep.equal([
      [refund.id, { refund_of: payment.id, invoice_id: invoice.id, amount_cents: 1000, invoice_status: 'partially_paid' }],
    ]);
    const tooMuch = await refusal(withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 29001 }, actor)));
    expect(translate('en', (tooMuch as FormError).fields.amount)).to.equal('At most $290.00 of this payment can still be refunded.');
    const last = await withOrg(org.orgId, (db) =>
      recordRefund(db, payment.id, { amountCents: 29000, reference: 'R-2' }, { type: 'system', label: 'x' }),
    );
    expect(last.refund).to.include({ reference: 'R-2', recorded_by: null, amount_cents: 29000 });
    const done = await getDb()('payments').where({ id: payment.id }).first<PaymentRow>();
    expect(done.status).to.equal('refunded');
    const refunded = await refusal(withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 1 }, actor)));
    expect(translate('en', refunded.message)).to.equal('This payment is refunded; only a succeeded payment can be refunded.');
  });

  it('a refund waits for another one on the same invoice, then sees it: two that together exceed the payment never both go through', async () => {
    const { org, actor, invoice } = await openInvoice();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'check' }, actor),
    );
    // The first refund is recorded and its transaction held open.
    const first = holdOpen(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 20000 }, actor));
    const { pid: firstPid } = await first.ready;
    const second = withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 20000 }, actor)).then(
      () => undefined,
      (err: FormError) => err,
    );
    // The positive signal either way: the second refund finished (it didn't wait: the bug), or it waits on the first's lock.
    const seen = await waitsOn(firstPid, second);
    first.release();
    await first.done;
    expect(seen).to.equal('waiting');
    const refused = await second;
    expect(refused, 'refused for exceeding what is left of the payment').to.be.instanceOf(FormError);
    expect(translate('en', refused!.fields.amount)).to.equal('At most $100.00 of this payment can still be refunded.');
    const refunds = await getDb()('payments').where({ refund_of: payment.id }).select<PaymentRow[]>('amount_cents');
    expect(refunds.map((r) => r.amount_cents)).to.deep.equal([20000]);
  });

  it('refuses refunds of a refund, of an online payment, and on a void invoice, with the reason', async () => {
    const { org, actor, invoice } = await openInvoice();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 5000, method: 'cash' }, actor),
    );
    const { refund } = await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 100 }, actor));
    const ofRefund = await refusal(withOrg(org.orgId, (db) => recordRefund(db, refund.id, { amountCents: 1 }, actor)));
    expect((ofRefund as HttpError).status).to.equal(409);
    expect(translate('en', ofRefund.message)).to.equal('A refund cannot itself be refunded.');

    await getDb()('payments').where({ id: payment.id }).update({ source: 'stripe', method: 'stripe' });
    const online = await refusal(withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 1 }, actor)));
    expect(translate('en', online.message)).to.equal('This payment was made online; refund it through Stripe so the card is credited.');
    await getDb()('payments').where({ id: payment.id }).update({ source: 'manual', method: 'cash' });

    await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 4900 }, actor));
    await withOrg(org.orgId, (db) => voidInvoice(db, invoice.id, actor));
    const onVoid = await refusal(withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 1 }, actor)));
    expect((onVoid as HttpError).status).to.equal(409);
    expect(translate('en', onVoid.message)).to.equal('This invoice is void; nothing can be refunded on it.');
  });
});
