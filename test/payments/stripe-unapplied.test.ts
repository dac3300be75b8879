// Unapplied Stripe payments: told once per PaymentIntent (webhook replays and
// reconciliation overlap write nothing new), and listed on Settings → Payments.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { voidInvoice } from '../../src/payments/void-invoice.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { checkoutExpiriesSettled } from '../../src/payments/stripe/sessions.js';
import { loginAgent } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { AuditEventRecord, UnappliedPaymentRecord } from '../support/rows.js';
import { connectedOrg, deliver, invoiceState, metadataFor, openInvoice, startStandIn, stopStandIn } from './stripe-fixtures.js';

const unappliedAudits = (orgId: string) =>
  getDb()('audit_events').where({ org_id: orgId, action: 'payment.stripe_unapplied' }).select<AuditEventRecord[]>();
const unappliedRows = (orgId: string) => getDb()('stripe_unapplied_payments').where({ org_id: orgId }).select<UnappliedPaymentRecord[]>();

describe('unapplied Stripe payments', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => {
    await checkoutExpiriesSettled();
    await stopStandIn(standIn);
  });

  it('writes one row and one audit event per PaymentIntent, however many runs and webhooks see it', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 10_000);
    const metadata = metadataFor(org, invoiceId);
    const once = standIn.addPaidCheckout(org.accountId, { amount: 10_000, currency: 'usd', metadata });
    // Paid twice (e.g. two tabs): whichever is recorded first, the other can't fit.
    const again = standIn.addPaidCheckout(org.accountId, { amount: 10_000, currency: 'usd', metadata });

    const first = await reconcileAll({ orgIds: [org.orgId] });
    expect(first).to.deep.include({ failed: 0, payments: 1 });
    // Every later run re-reads the same PaymentIntents in its overlap window.
    for (let run = 0; run < 3; run += 1) expect(await reconcileAll({ orgIds: [org.orgId] })).to.deep.include({ failed: 0, payments: 0 });
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state).to.deep.include({ status: 'paid', amount_paid_cents: 10_000 });
    const twice = state.payments[0].stripe_payment_intent_id === once.paymentIntent.id ? again : once;
    for (let i = 0; i < 2; i += 1) {
      expect((await deliver(standIn.event('payment_intent.succeeded', twice.paymentIntent, org.accountId))).status).to.equal(200);
    }
    const audits = await unappliedAudits(org.orgId);
    expect(audits).to.have.length(1);
    expect(audits[0].data).to.include({ payment_intent: twice.paymentIntent.id, reason: 'overpayment', amount_cents: 10_000 });
    const rows = await unappliedRows(org.orgId);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({
      stripe_payment_intent_id: twice.paymentIntent.id,
      invoice_id: invoiceId,
      reason: 'overpayment',
      currency: 'USD',
    });
    expect(Number(rows[0].amount_cents)).to.equal(10_000);
  });

  it('a refund that does not fit its payment is audited once, not on every run', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 6_000);
    const paid = standIn.addPaidCheckout(org.accountId, { amount: 6_000, currency: 'usd', metadata: metadataFor(org, invoiceId) });
    await reconcileAll({ orgIds: [org.orgId] });
    // A refund in another currency than the payment can't be applied to it.
    const { refund } = standIn.refund(org.accountId, paid.paymentIntent.id, 1_000);
    refund.currency = 'eur';
    for (let run = 0; run < 3; run += 1) await reconcileAll({ orgIds: [org.orgId] });
    await deliver(standIn.event('charge.refunded', standIn.charge(org.accountId, paid.charge!.id), org.accountId));
    const audits = await unappliedAudits(org.orgId);
    expect(audits).to.have.length(1);
    expect(audits[0].data).to.include({ refund: refund.id, reason: 'refund_mismatch' });
  });

  it('lists them on Settings → Payments: amount, date, PaymentIntent, invoice number, reason, and what to do; never another org’s', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 4_321);
    const number = (await withOrg(org.orgId, (db) => db('invoices').where({ id: invoiceId }).first<{ number: number }>('number'))).number;
    await withOrg(org.orgId, (db) => voidInvoice(db, invoiceId, { type: 'user', userId: org.userId, label: org.email }));
    const late = standIn.addPaidCheckout(org.accountId, { amount: 4_321, currency: 'usd', metadata: metadataFor(org, invoiceId) });
    await deliver(standIn.event('payment_intent.succeeded', late.paymentIntent, org.accountId));

    const other = await connectedOrg(standIn);
    const otherInvoice = await openInvoice(other.orgId, other.leadId, 1_000);
    await withOrg(other.orgId, (db) => voidInvoice(db, otherInvoice, { type: 'user', userId: other.userId, label: other.email }));
    const foreign = standIn.addPaidCheckout(other.accountId, {
      amount: 1_000,
      currency: 'usd',
      metadata: metadataFor(other, otherInvoice),
    });
    await deliver(standIn.event('payment_intent.succeeded', foreign.paymentIntent, other.accountId));

    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/settings/payments');
    expect(page.status).to.equal(200);
    const section = page.text.slice(page.text.indexOf('Payments not applied to an invoice'));
    expect(section).to.contain('$43.21');
    expect(section).to.contain(late.paymentIntent.id);
    expect(section).to.contain(`#${number}`).and.to.contain(`/invoices/${invoiceId}`);
    expect(section).to.contain('The invoice was void when the payment arrived');
    expect(section).to.contain('refund it in your Stripe Dashboard');
    expect(page.text).not.to.contain(foreign.paymentIntent.id);

    const clean = await connectedOrg(standIn);
    const cleanPage = await (await loginAgent(clean.email, clean.password)).get('/settings/payments');
    expect(cleanPage.text).not.to.contain('Payments not applied to an invoice');
  });
});
