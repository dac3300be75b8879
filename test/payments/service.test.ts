import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { getDb } from '../../src/db/knex.js';
import { translate } from '../../src/i18n/index.js';
import type { Actor } from '../../src/db/audit.js';
import type { PaymentRow } from '../../src/db/rows.js';
import type { FormError, HttpError } from '../../src/lib/errors.js';
import { createInvoice, issueInvoice } from '../../src/invoices/commands.js';
import { openBalance } from '../../src/invoices/queries.js';
import { recordPayment, recordRefund } from '../../src/payments/manual.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';

async function setup() {
  const org = await createTestOrg();
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const invoice = await withOrg(org.orgId, async (db) => {
    const created = await createInvoice(db, invoiceForm(lead.id), 'USD', actor); // 300.00
    await issueInvoice(db, created.id, actor);
    return created;
  });
  return { org, lead, actor, invoice };
}

const invoiceRow = (id: string) => getDb()('invoices').where({ id }).first();

describe('payments service', () => {
  it('records partial payments, then paid; the customer balance follows', async () => {
    const { org, lead, actor, invoice } = await setup();
    const first = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 10000, method: 'check', reference: '#1042' }, actor),
    );
    expect(first.invoice).to.include({ status: 'partially_paid', amount_paid_cents: 10000 });
    expect(await withOrg(org.orgId, (db) => openBalance(db, lead.id))).to.deep.equal({ balance_cents: 20000, invoice_count: 1 });
    const second = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 20000, method: 'cash' }, actor),
    );
    expect(second.invoice).to.include({ status: 'paid', amount_paid_cents: 30000 });
    expect(await withOrg(org.orgId, (db) => openBalance(db, lead.id))).to.deep.equal({ balance_cents: 0, invoice_count: 0 });
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, action: 'payment.recorded' });
    expect(audit).to.have.length(2);
  });

  it('refuses an overpayment with a message and records nothing', async () => {
    const { org, actor, invoice } = await setup();
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 25000, method: 'cash' }, actor));
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 5001, method: 'cash' }, actor)).then(
      () => expect.fail('accepted an overpayment'),
      (err: FormError) => expect(translate('en', err.fields.amount)).to.match(/more than the \$50\.00 still owed/),
    );
    expect(await getDb()('payments').where({ invoice_id: invoice.id })).to.have.length(1);
    expect(await invoiceRow(invoice.id)).to.include({ amount_paid_cents: 25000, status: 'partially_paid' });
  });

  it('concurrent payments cannot together overpay', async () => {
    const { org, actor, invoice } = await setup();
    const results = await Promise.allSettled(
      [1, 2, 3].map(() =>
        withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 20000, method: 'cash' }, actor)),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    expect(await invoiceRow(invoice.id)).to.include({ amount_paid_cents: 20000 });
  });

  it('refuses payments on draft and void invoices', async () => {
    const { org, lead, actor } = await setup();
    const draft = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: draft.id, amountCents: 100, method: 'cash' }, actor)).then(
      () => expect.fail('paid a draft'),
      (err: HttpError) => expect(err.message).to.match(/draft/),
    );
    await withOrg(org.orgId, async (db) => {
      const { voidInvoice } = await import('../../src/payments/void-invoice.js');
      await voidInvoice(db, draft.id, actor);
    });
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: draft.id, amountCents: 100, method: 'cash' }, actor)).then(
      () => expect.fail('paid a void invoice'),
      (err: HttpError) => {
        expect(err.status).to.equal(409);
        expect(err.message).to.match(/void/);
      },
    );
    expect(await getDb()('payments').where({ invoice_id: draft.id })).to.have.length(0);
  });

  it('records a refund as a new row, never deleting the payment, and reopens the balance', async () => {
    const { org, actor, invoice } = await setup();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordPayment(db, { invoiceId: invoice.id, amountCents: 30000, method: 'card_in_person' }, actor),
    );
    const part = await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 5000, reference: 'goodwill' }, actor));
    expect(part.refund).to.include({ kind: 'refund', refund_of: payment.id, amount_cents: 5000 });
    expect(part.invoice).to.include({ status: 'partially_paid', amount_paid_cents: 25000 });
    await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 25001 }, actor)).then(
      () => expect.fail('refunded more than paid'),
      (err: FormError) => expect(translate('en', err.fields.amount)).to.match(/At most \$250\.00/),
    );
    const rest = await withOrg(org.orgId, (db) => recordRefund(db, payment.id, { amountCents: 25000 }, actor));
    expect(rest.invoice).to.include({ status: 'open', amount_paid_cents: 0 });
    const rows = await getDb()('payments').where({ invoice_id: invoice.id }).orderBy('created_at').select<PaymentRow[]>();
    expect(rows.map((r) => [r.kind, r.status, Number(r.amount_cents)])).to.deep.equal([
      ['payment', 'refunded', 30000],
      ['refund', 'succeeded', 5000],
      ['refund', 'succeeded', 25000],
    ]);
    await withOrg(org.orgId, (db) => recordRefund(db, rest.refund.id, { amountCents: 1 }, actor)).then(
      () => expect.fail('refunded a refund'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
  });
});
