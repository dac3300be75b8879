// Stripe money and invoices that can't take it: void or draft invoices keep their
// state (the payment is unapplied, audited), voiding expires open Checkout
// Sessions, and a new session expires the invoice's other open ones.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { voidInvoice } from '../../src/payments/void-invoice.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { checkoutExpiriesSettled } from '../../src/payments/stripe/sessions.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import { linkFor } from '../portal/support.js';
import { testApp } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { AuditEventRecord } from '../support/rows.js';
import {
  connectedOrg,
  deliver,
  invoiceState,
  metadataFor,
  openInvoice,
  startCheckout,
  startStandIn,
  stopStandIn,
  type ConnectedOrg,
} from './stripe-fixtures.js';

const staff = (org: ConnectedOrg) => ({ type: 'user' as const, userId: org.userId, label: org.email });

const unappliedAudits = (orgId: string, invoiceId: string) =>
  getDb()('audit_events').where({ org_id: orgId, action: 'payment.stripe_unapplied', subject_id: invoiceId }).select<AuditEventRecord[]>();

const sessionRow = (orgId: string, sessionId: string) =>
  withOrg(orgId, (db) => db('checkout_sessions').where({ stripe_checkout_session_id: sessionId }).first<{ status: string }>('status'));

async function draftInvoice(orgId: string, leadId: string): Promise<string> {
  const id = await openInvoice(orgId, leadId, 8_000);
  await withOrg(orgId, (db) => db('invoices').where({ id }).update({ status: 'draft', issued_at: null }));
  return id;
}

describe('Stripe payments for void and draft invoices', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => {
    await checkoutExpiriesSettled();
    await stopStandIn(standIn);
  });

  it('a webhook payment for an invoice voided meanwhile leaves it void and unpaid: unapplied, audited', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 12_000);
    const sessionId = await startCheckout(org, invoiceId);
    // The customer pays at Stripe; the contractor voids before the webhook arrives.
    const paid = standIn.completeCheckout(org.accountId, sessionId);
    await withOrg(org.orgId, (db) => voidInvoice(db, invoiceId, staff(org)));
    const res = await deliver(standIn.event('checkout.session.completed', paid.session, org.accountId));
    expect(res.status).to.equal(200);
    expect(await invoiceState(org.orgId, invoiceId)).to.deep.equal({ status: 'void', amount_paid_cents: 0, payments: [] });
    const audits = await unappliedAudits(org.orgId, invoiceId);
    expect(audits).to.have.length(1);
    expect(audits[0].data).to.include({ payment_intent: paid.paymentIntent.id, amount_cents: 12_000, reason: 'void' });
  });

  it('a payment for a draft invoice (webhook or reconciliation) changes nothing on it', async () => {
    const org = await connectedOrg(standIn);
    const viaWebhook = await draftInvoice(org.orgId, org.leadId);
    const a = standIn.addPaidCheckout(org.accountId, { amount: 8_000, currency: 'usd', metadata: metadataFor(org, viaWebhook) });
    await deliver(standIn.event('payment_intent.succeeded', a.paymentIntent, org.accountId));
    expect(await invoiceState(org.orgId, viaWebhook)).to.deep.equal({ status: 'draft', amount_paid_cents: 0, payments: [] });
    expect((await unappliedAudits(org.orgId, viaWebhook))[0].data).to.include({ reason: 'draft' });

    const viaReconcile = await draftInvoice(org.orgId, org.leadId);
    standIn.addPaidCheckout(org.accountId, { amount: 8_000, currency: 'usd', metadata: metadataFor(org, viaReconcile) });
    const run = await reconcileAll({ orgIds: [org.orgId] });
    expect(run).to.deep.include({ failed: 0, payments: 0 });
    expect(await invoiceState(org.orgId, viaReconcile)).to.deep.equal({ status: 'draft', amount_paid_cents: 0, payments: [] });
    expect((await unappliedAudits(org.orgId, viaReconcile))[0].data).to.include({ reason: 'draft' });
  });

  it('reconciliation (the batch path) leaves a void invoice void', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
    await withOrg(org.orgId, (db) => voidInvoice(db, invoiceId, staff(org)));
    standIn.addPaidCheckout(org.accountId, { amount: 5_000, currency: 'usd', metadata: metadataFor(org, invoiceId) });
    const run = await reconcileAll({ orgIds: [org.orgId] });
    expect(run).to.deep.include({ failed: 0, payments: 0 });
    expect(await invoiceState(org.orgId, invoiceId)).to.deep.equal({ status: 'void', amount_paid_cents: 0, payments: [] });
    expect((await unappliedAudits(org.orgId, invoiceId))[0].data).to.include({ reason: 'void', amount_cents: 5_000 });
  });

  it('voiding marks the open Checkout Session expired and expires it at Stripe after commit; the customer can no longer pay it', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 7_000);
    const sessionId = await startCheckout(org, invoiceId);
    await withOrg(org.orgId, (db) => voidInvoice(db, invoiceId, staff(org)));
    expect((await sessionRow(org.orgId, sessionId)).status).to.equal('expired');
    await checkoutExpiriesSettled();
    const calls = standIn.requestsTo('POST', `/v1/checkout/sessions/${sessionId}/expire`);
    expect(calls).to.have.length(1);
    expect(calls[0].stripeAccount).to.equal(org.accountId);
    expect(standIn.session(org.accountId, sessionId).status).to.equal('expired');
    expect(() => standIn.completeCheckout(org.accountId, sessionId)).to.throw(/expired/);
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'invoice.voided', subject_id: invoiceId })
      .first<AuditEventRecord>();
    expect(audit.data.expired_checkout_sessions).to.deep.equal([sessionId]);

    // The portal's Pay refuses the void invoice and creates nothing at Stripe.
    const { token, id: linkId } = await linkFor(org.orgId, org.leadId);
    const page = `/p/${token}/invoices/${invoiceId}`;
    expect((await supertest(testApp()).get(page)).text).not.to.contain('Pay with card');
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    const res = await supertest(testApp())
      .post(`${page}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(linkId), amount: '' });
    expect(res.status).to.equal(409);
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
  });

  it('a rolled-back void expires nothing at Stripe', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 7_000);
    const sessionId = await startCheckout(org, invoiceId);
    await withOrg(org.orgId, async (db) => {
      await voidInvoice(db, invoiceId, staff(org));
      throw new Error('rollback');
    }).catch(() => undefined);
    await checkoutExpiriesSettled();
    expect(standIn.requestsTo('POST', `/v1/checkout/sessions/${sessionId}/expire`)).to.have.length(0);
    expect(standIn.session(org.accountId, sessionId).status).to.equal('open');
    expect((await sessionRow(org.orgId, sessionId)).status).to.equal('open');
  });

  it('voiding still succeeds when Stripe refuses to expire the session', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 7_000);
    const sessionId = await startCheckout(org, invoiceId);
    standIn.refuseAccount(org.accountId, 500, 'Stripe is having a bad day');
    try {
      const voided = await withOrg(org.orgId, (db) => voidInvoice(db, invoiceId, staff(org)));
      expect(voided.status).to.equal('void');
      await checkoutExpiriesSettled();
    } finally {
      standIn.allowAccount(org.accountId);
    }
    expect(standIn.requestsTo('POST', `/v1/checkout/sessions/${sessionId}/expire`)).to.have.length(1);
    expect((await invoiceState(org.orgId, invoiceId)).status).to.equal('void');
    expect((await sessionRow(org.orgId, sessionId)).status).to.equal('expired');
  });

  it('a new Checkout Session for the invoice expires its other open one (two tabs cannot both pay)', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 10_000);
    const first = await startCheckout(org, invoiceId, '25.00');
    // Same amount again: the open session is reused, nothing expired.
    expect(await startCheckout(org, invoiceId, '25.00')).to.equal(first);
    const second = await startCheckout(org, invoiceId, '40.00');
    expect(second).not.to.equal(first);
    expect((await sessionRow(org.orgId, first)).status).to.equal('expired');
    expect((await sessionRow(org.orgId, second)).status).to.equal('open');
    await checkoutExpiriesSettled();
    expect(standIn.session(org.accountId, first).status).to.equal('expired');
    expect(standIn.session(org.accountId, second).status).to.equal('open');
    expect(standIn.requestsTo('POST', `/v1/checkout/sessions/${second}/expire`)).to.have.length(0);
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'checkout.created', subject_id: invoiceId })
      .orderBy('created_at', 'desc')
      .first<AuditEventRecord>();
    expect(audit.data.replaced_checkout_sessions).to.deep.equal([first]);
  });
});
