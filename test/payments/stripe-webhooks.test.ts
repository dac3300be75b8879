import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { recordStripePayments, recordStripeRefund, type StripePayment } from '../../src/payments/stripe/record.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { webhookOutcome } from '../support/stripe-standin.js';
import type { CheckoutSessionRecord, OrgRecord } from '../support/rows.js';
import {
  connectedOrg,
  countRows,
  deliver,
  invoiceState,
  openInvoice,
  sign,
  startCheckout,
  startStandIn,
  stopStandIn,
  type ConnectedOrg,
} from './stripe-fixtures.js';

describe('Stripe Connect webhooks (/webhooks/stripe)', () => {
  let standIn: StripeConnectStandIn;
  let org: ConnectedOrg;

  before(async () => {
    standIn = await startStandIn();
    org = await connectedOrg(standIn);
  });
  after(async () => stopStandIn(standIn));

  async function paidCheckout(invoiceId: string, amountInput?: string) {
    const sessionId = await startCheckout(org, invoiceId, amountInput);
    return standIn.completeCheckout(org.accountId, sessionId);
  }

  describe('signature', () => {
    it('refuses a delivery without a signature and records nothing', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId);
      const { session } = await paidCheckout(invoiceId);
      const event = standIn.event('checkout.session.completed', session, org.accountId);
      const res = await deliver(event, { signature: null });
      expect(res.status).to.equal(400);
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
    });

    it('refuses a forged signature or a changed body and records nothing', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId);
      const { session } = await paidCheckout(invoiceId);
      const event = standIn.event('checkout.session.completed', session, org.accountId);
      const forged = await deliver(event, { secret: 'whsec_not_the_real_secret' });
      expect(forged.status).to.be.oneOf([400, 401]);
      const signedOther = sign(JSON.stringify({ ...event, id: 'evt_other' }));
      const tampered = await deliver(event, { signature: signedOther });
      expect(tampered.status).to.be.oneOf([400, 401]);
      const garbage = await deliver(event, { signature: 't=1,v1=deadbeef' });
      expect(garbage.status).to.be.oneOf([400, 401]);
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
      const events = await withOrg(org.orgId, (db) => db('stripe_events').where({ id: event.id as string }));
      expect(events).to.have.length(0);
    });

    it('refuses a signature dated more than 5 minutes in the future or past, and accepts one within', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId);
      const { session } = await paidCheckout(invoiceId);
      const event = standIn.event('checkout.session.completed', session, org.accountId);
      const payload = JSON.stringify(event);
      const now = Math.floor(Date.now() / 1000);
      for (const offset of [6 * 60, 60 * 60 * 24 * 365, -6 * 60]) {
        const res = await deliver(event, { signature: sign(payload, undefined, now + offset) });
        expect(res.status, `signed ${offset} s from now`).to.equal(401);
      }
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
      const accepted = await deliver(event, { signature: sign(payload, undefined, now + 4 * 60) });
      expect(accepted.status).to.equal(200);
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
    });
  });

  it('records a paid Checkout Session once, with its Stripe ids, and marks the invoice paid', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 12_345);
    const { session, paymentIntent, charge } = await paidCheckout(invoiceId);
    const event = standIn.event('checkout.session.completed', session, org.accountId);
    const readsBefore = standIn.readsBy(org.accountId).length;
    const res = await deliver(event);
    expect(res.status).to.equal(200);
    expect(webhookOutcome(res)).to.equal('processed');
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.amount_paid_cents).to.equal(12_345);
    expect(state.payments).to.deep.equal([
      {
        kind: 'payment',
        amount_cents: 12_345,
        status: 'succeeded',
        source: 'stripe',
        method: 'stripe',
        stripe_payment_intent_id: paymentIntent.id,
        stripe_checkout_session_id: session.id,
        stripe_charge_id: charge!.id,
        stripe_refund_id: null,
      },
    ]);
    // The PaymentIntent was re-read from the connected account, and nothing else: the session is the
    // event's own, and a new payment has no refunds to read.
    const reads = standIn.readsBy(org.accountId).slice(readsBefore);
    expect(reads).to.deep.equal([`/v1/payment_intents/${paymentIntent.id}`]);
    const again = await deliver(event);
    expect(again.status).to.equal(200);
    expect(webhookOutcome(again)).to.equal('duplicate');
    // Seen before: answered without asking Stripe anything.
    expect(standIn.readsBy(org.accountId)).to.have.length(readsBefore + reads.length);
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
    const audit = await withOrg(org.orgId, (db) =>
      db('audit_events')
        .where({ action: 'payment.recorded', actor_type: 'stripe' })
        .whereRaw("data->>'payment_intent' = ?", [paymentIntent.id]),
    );
    expect(audit).to.have.length(1);
  });

  it('100 concurrent deliveries of the same event record exactly one payment', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
    const { session } = await paidCheckout(invoiceId);
    const event = standIn.event('checkout.session.completed', session, org.accountId);
    const responses = await Promise.all(Array.from({ length: 100 }, () => deliver(event)));
    expect(responses.map((r) => r.status).every((s) => s === 200)).to.equal(true, JSON.stringify(responses.map((r) => r.status)));
    const outcomes = responses.map(webhookOutcome);
    expect(outcomes.filter((o) => o === 'processed')).to.have.length(1);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.payments).to.have.length(1);
    expect(state.amount_paid_cents).to.equal(5_000);
    const events = await withOrg(org.orgId, (db) => db('stripe_events').where({ id: event.id as string }));
    expect(events).to.have.length(1);
  });

  it('100 concurrent different events about one PaymentIntent still make one payment', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 7_000);
    const { session, paymentIntent } = await paidCheckout(invoiceId);
    const events = Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0
        ? standIn.event('checkout.session.completed', session, org.accountId)
        : standIn.event('payment_intent.succeeded', paymentIntent, org.accountId),
    );
    const responses = await Promise.all(events.map((e) => deliver(e)));
    expect(responses.every((r) => r.status === 200)).to.equal(true);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.payments).to.have.length(1);
    expect(state.amount_paid_cents).to.equal(7_000);
    expect(state.payments[0].stripe_checkout_session_id).to.equal(session.id);
  });

  it('events in every order converge on the same final state (refund before the payment is known included)', async () => {
    const orders = [
      ['completed', 'succeeded', 'refunded'],
      ['completed', 'refunded', 'succeeded'],
      ['succeeded', 'completed', 'refunded'],
      ['succeeded', 'refunded', 'completed'],
      ['refunded', 'completed', 'succeeded'],
      ['refunded', 'succeeded', 'completed'],
    ] as const;
    const finals: unknown[] = [];
    for (const order of orders) {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 20_000);
      const { session, paymentIntent } = await paidCheckout(invoiceId);
      const { charge } = standIn.refund(org.accountId, paymentIntent.id, 2_500);
      const events = {
        completed: standIn.event('checkout.session.completed', session, org.accountId),
        succeeded: standIn.event('payment_intent.succeeded', paymentIntent, org.accountId),
        refunded: standIn.event('charge.refunded', charge, org.accountId),
      };
      for (const name of order) {
        const res = await deliver(events[name]);
        expect(res.status, `${order.join(' → ')}: ${name}`).to.equal(200);
      }
      // Redelivering everything afterwards changes nothing.
      for (const name of order) await deliver(events[name]);
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments.find((p) => p.kind === 'payment')?.stripe_checkout_session_id, order.join(' → ')).to.equal(session.id);
      // Normalise the ids, which differ per run, to compare shapes.
      finals.push({
        status: state.status,
        paid: state.amount_paid_cents,
        payments: state.payments.map((p) => ({
          ...p,
          stripe_payment_intent_id: p.stripe_payment_intent_id === paymentIntent.id,
          stripe_checkout_session_id: p.stripe_checkout_session_id === session.id,
          stripe_charge_id: p.stripe_charge_id === charge.id,
          stripe_refund_id: p.stripe_refund_id !== null,
        })),
      });
    }
    for (const final of finals) expect(final).to.deep.equal(finals[0]);
    expect(finals[0]).to.deep.include({ status: 'partially_paid', paid: 17_500 });
  });

  it('a full refund marks the payment refunded and reopens the invoice', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 3_000);
    const { session, paymentIntent } = await paidCheckout(invoiceId);
    await deliver(standIn.event('checkout.session.completed', session, org.accountId));
    const { charge } = standIn.refund(org.accountId, paymentIntent.id);
    const res = await deliver(standIn.event('charge.refunded', charge, org.accountId));
    expect(res.status).to.equal(200);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('open');
    expect(state.amount_paid_cents).to.equal(0);
    expect(state.payments.map((p) => [p.kind, p.status])).to.deep.equal([
      ['payment', 'refunded'],
      ['refund', 'succeeded'],
    ]);
  });

  it('a delayed payment: completed unpaid records nothing; async succeeded records it; async failed marks the attempt', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 8_000);
    const sessionId = await startCheckout(org, invoiceId);
    const { session } = standIn.completeCheckout(org.accountId, sessionId, { async: true });
    const completed = await deliver(standIn.event('checkout.session.completed', session, org.accountId));
    expect(completed.status).to.equal(200);
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
    const attempt = await withOrg(org.orgId, (db) =>
      db('checkout_sessions')
        .where({ stripe_checkout_session_id: sessionId })
        .first<Pick<CheckoutSessionRecord, 'status' | 'stripe_payment_intent_id'>>('status', 'stripe_payment_intent_id'),
    );
    // Processing, and which PaymentIntent will settle it is kept.
    expect(attempt).to.deep.equal({ status: 'processing', stripe_payment_intent_id: session.payment_intent });
    const settled = standIn.settleAsync(org.accountId, sessionId, 'succeeded');
    await deliver(standIn.event('checkout.session.async_payment_succeeded', settled.session, org.accountId));
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);

    const otherInvoice = await openInvoice(org.orgId, org.leadId, 8_000);
    const otherSession = await startCheckout(org, otherInvoice);
    standIn.completeCheckout(org.accountId, otherSession, { async: true });
    const failed = standIn.settleAsync(org.accountId, otherSession, 'failed');
    const res = await deliver(standIn.event('checkout.session.async_payment_failed', failed.session, org.accountId));
    expect(res.status).to.equal(200);
    expect((await invoiceState(org.orgId, otherInvoice)).payments).to.have.length(0);
    const failedAttempt = await withOrg(org.orgId, (db) =>
      db('checkout_sessions').where({ stripe_checkout_session_id: otherSession }).first<Pick<CheckoutSessionRecord, 'status'>>('status'),
    );
    expect(failedAttempt.status).to.equal('failed');
  });

  it('a failed or expired Checkout marks only its own attempt, audits a failure once, and never undoes a paid one', async () => {
    const attemptStatus = (sessionId: string) =>
      withOrg(org.orgId, (db) =>
        db('checkout_sessions')
          .where({ stripe_checkout_session_id: sessionId })
          .first<Pick<CheckoutSessionRecord, 'status'>>('status')
          .then((r) => r.status),
      );
    const failures = (invoiceId: string) =>
      withOrg(org.orgId, (db) =>
        db('audit_events')
          .where({ action: 'checkout.payment_failed', subject_id: invoiceId })
          .select<{ subject_type: string; data: Record<string, unknown> }[]>('subject_type', 'data'),
      );
    // A paid attempt, and a second attempt left open on another invoice.
    const paidInvoice = await openInvoice(org.orgId, org.leadId, 2_000);
    const paid = await paidCheckout(paidInvoice);
    await deliver(standIn.event('checkout.session.completed', paid.session, org.accountId));
    const openInvoiceId = await openInvoice(org.orgId, org.leadId, 3_000);
    const open = await startCheckout(org, openInvoiceId);
    const openBefore = await attemptStatus(open);

    // A late "failed" about the paid attempt changes nothing and audits nothing.
    const late = await deliver(standIn.event('checkout.session.async_payment_failed', paid.session, org.accountId));
    expect(late.status).to.equal(200);
    expect(await attemptStatus(paid.session.id)).to.equal('paid');
    expect(await failures(paidInvoice)).to.deep.equal([]);
    expect(await attemptStatus(open)).to.equal(openBefore);

    // The open attempt fails: it alone is marked, and the failure is audited on its invoice.
    standIn.completeCheckout(org.accountId, open, { async: true });
    const failed = standIn.settleAsync(org.accountId, open, 'failed');
    expect((await deliver(standIn.event('checkout.session.async_payment_failed', failed.session, org.accountId))).status).to.equal(200);
    expect(await attemptStatus(open)).to.equal('failed');
    expect(await attemptStatus(paid.session.id)).to.equal('paid');
    const audits = await failures(openInvoiceId);
    expect(audits).to.have.length(1);
    expect(audits[0].subject_type).to.equal('invoice');
    expect(audits[0].data).to.deep.equal({ checkout_session: open, payment_intent: failed.paymentIntent.id });

    // An attempt that expires is marked expired, and no failure is audited for it.
    const expiringInvoice = await openInvoice(org.orgId, org.leadId, 4_000);
    const expiring = await startCheckout(org, expiringInvoice);
    const expired = { ...standIn.session(org.accountId, expiring), status: 'expired' };
    expect((await deliver(standIn.event('checkout.session.expired', expired, org.accountId))).status).to.equal(200);
    expect(await attemptStatus(expiring)).to.equal('expired');
    expect(await failures(expiringInvoice)).to.deep.equal([]);
    expect(await attemptStatus(open)).to.equal('failed');
  });

  it('answers 200 to unknown event types and accounts, recording nothing', async () => {
    const before = await countRows(org.orgId, 'stripe_events');
    const unknownType = await deliver(standIn.event('customer.created', { id: 'cus_1', object: 'customer' }, org.accountId));
    expect(unknownType.status).to.equal(200);
    expect(webhookOutcome(unknownType)).to.equal('ignored');
    const unknownAccount = await deliver(
      standIn.event('payment_intent.succeeded', { id: 'pi_x', object: 'payment_intent' }, 'acct_nobody'),
    );
    expect(unknownAccount.status).to.equal(200);
    expect(webhookOutcome(unknownAccount)).to.equal('ignored');
    expect(await countRows(org.orgId, 'stripe_events')).to.equal(before);
  });

  it('a Checkout Session that is not a payment (setup mode) changes no attempt', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 1_900);
    const sessionId = await startCheckout(org, invoiceId);
    const statusOf = () =>
      withOrg(org.orgId, (db) =>
        db('checkout_sessions')
          .where({ stripe_checkout_session_id: sessionId })
          .first<Pick<CheckoutSessionRecord, 'status'>>('status')
          .then((r) => r.status),
      );
    const before = await statusOf();
    const setup = {
      ...standIn.session(org.accountId, sessionId),
      mode: 'setup',
      status: 'complete',
      payment_status: 'no_payment_required',
    };
    const res = await deliver(standIn.event('checkout.session.completed', setup, org.accountId));
    expect(res.status).to.equal(200);
    expect(await statusOf()).to.equal(before);
  });

  it('payment_intent.succeeded re-reads the PaymentIntent and finds its session; a new payment has no refunds to read', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 6_100);
    const { session, paymentIntent } = await paidCheckout(invoiceId);
    const readsBefore = standIn.readsBy(org.accountId).length;
    const res = await deliver(standIn.event('payment_intent.succeeded', paymentIntent, org.accountId));
    expect(res.status).to.equal(200);
    const reads = standIn.readsBy(org.accountId).slice(readsBefore);
    expect(reads.sort()).to.deep.equal(['/v1/checkout/sessions', `/v1/payment_intents/${paymentIntent.id}`]);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.payments).to.have.length(1);
    expect(state.payments[0]).to.include({ stripe_payment_intent_id: paymentIntent.id, stripe_checkout_session_id: session.id });
  });

  it("a refund of a sale that isn't an invoice of ours (a shop sale on the same account) records nothing and reads no refunds", async () => {
    const sale = standIn.addPaidPaymentIntent(org.accountId, { amount: 2_500, currency: 'usd', metadata: { order: 'shop-12' } });
    const { charge } = standIn.refund(org.accountId, sale.paymentIntent.id);
    const paymentsBefore = await countRows(org.orgId, 'payments');
    const readsBefore = standIn.readsBy(org.accountId).length;
    const res = await deliver(standIn.event('charge.refunded', charge, org.accountId));
    expect(res.status).to.equal(200);
    expect(await countRows(org.orgId, 'payments')).to.equal(paymentsBefore);
    const reads = standIn.readsBy(org.accountId).slice(readsBefore);
    expect(reads.sort()).to.deep.equal(['/v1/checkout/sessions', `/v1/payment_intents/${sale.paymentIntent.id}`]);
  });

  it('answers 5xx when handling fails (Stripe retries) and keeps nothing; the retry then succeeds', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 4_000);
    const { session } = await paidCheckout(invoiceId);
    const event = standIn.event('checkout.session.completed', session, org.accountId);
    standIn.refuseAccount(org.accountId, 500, 'Stripe is having a moment');
    try {
      const res = await deliver(event);
      expect(res.status).to.be.within(500, 599);
    } finally {
      standIn.allowAccount(org.accountId);
    }
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
    const kept = await withOrg(org.orgId, (db) => db('stripe_events').where({ id: event.id as string }));
    expect(kept).to.have.length(0);
    const retry = await deliver(event);
    expect(retry.status).to.equal(200);
    expect(webhookOutcome(retry)).to.equal('processed');
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
  });

  it('account.updated keeps the org status current (re-read from Stripe)', async () => {
    const other = await connectedOrg(standIn, { chargesEnabled: false });
    const account = standIn.setAccountStatus(other.accountId, { charges_enabled: true, details_submitted: true });
    const res = await deliver(standIn.event('account.updated', account, other.accountId));
    expect(res.status).to.equal(200);
    const row = await withOrg(other.orgId, (db) =>
      db('organizations').first<Pick<OrgRecord, 'stripe_charges_enabled' | 'stripe_details_submitted'> | undefined>(
        'stripe_charges_enabled',
        'stripe_details_submitted',
      ),
    );
    expect(row).to.deep.equal({ stripe_charges_enabled: true, stripe_details_submitted: true });
    // A stale event arriving late doesn't undo it: the account is re-read.
    const stale = standIn.event('account.updated', { ...account, charges_enabled: false }, other.accountId);
    await deliver(stale);
    const after = await withOrg(other.orgId, (db) =>
      db('organizations').first<Pick<OrgRecord, 'stripe_charges_enabled'>>('stripe_charges_enabled'),
    );
    expect(after.stripe_charges_enabled).to.equal(true);
  });

  it('never applies an event to another org than the account’s owner', async () => {
    const other = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 2_000);
    const { session } = await paidCheckout(invoiceId);
    // The same session delivered as if it happened on another org's account: metadata doesn't match, nothing recorded.
    const res = await deliver(standIn.event('checkout.session.completed', session, other.accountId));
    expect(res.status).to.equal(200);
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
    expect(await countRows(other.orgId, 'payments')).to.equal(0);
  });

  describe('recordStripePayments (what webhooks, reconciliation and autopay all record through)', () => {
    const paymentIntent = (invoiceId: string, amount: number, created: number, status = 'succeeded'): StripePayment => ({
      paymentIntent: {
        id: `pi_direct_${Math.random().toString(36).slice(2, 12)}`,
        status,
        amount_received: status === 'succeeded' ? amount : 0,
        currency: 'usd',
        created,
        metadata: { org_id: org.orgId, invoice_id: invoiceId },
        latest_charge: null,
      },
      checkoutSessionId: null,
    });

    it('records only money received: a PaymentIntent still processing is ignored', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 4_000);
      const processing = paymentIntent(invoiceId, 4_000, 1_700_000_000, 'processing');
      const outcomes = await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [processing]));
      expect(outcomes.get(processing.paymentIntent.id)).to.equal('ignored');
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
    });

    it('applies a batch oldest first: of two payments that together overpay, the later one is set aside', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
      const older = paymentIntent(invoiceId, 3_000, 1_700_000_000);
      const newer = paymentIntent(invoiceId, 4_000, 1_700_000_100);
      // Handed over newest first, as Stripe's lists are.
      const outcomes = await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [newer, older]));
      expect(outcomes.get(older.paymentIntent.id)).to.equal('recorded');
      expect(outcomes.get(newer.paymentIntent.id)).to.equal('unapplied');
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments.map((p) => p.amount_cents)).to.deep.equal([3_000]);
    });

    it('records a refund only when it succeeded, and sets aside one larger than what is left of its payment', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
      const paid = paymentIntent(invoiceId, 5_000, 1_700_000_000);
      await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [paid]));
      const refund = (amount: number, status: string) => ({
        id: `re_direct_${Math.random().toString(36).slice(2, 12)}`,
        amount,
        currency: 'usd',
        status,
        created: 1_700_000_200,
        payment_intent: paid.paymentIntent.id,
        charge: null,
      });
      const record = (r: ReturnType<typeof refund>) => withOrg(org.orgId, (db) => recordStripeRefund(db, org.orgId, r));
      expect(await record(refund(1_000, 'pending'))).to.equal('ignored');
      expect(await record(refund(0, 'succeeded'))).to.equal('ignored');
      expect(await record(refund(2_000, 'succeeded'))).to.equal('recorded');
      // 2,000 of 5,000 refunded: 3,000 more fits, 3,001 does not.
      expect(await record(refund(3_001, 'succeeded'))).to.equal('unapplied');
      const rest = refund(3_000, 'succeeded');
      expect(await record(rest)).to.equal('recorded');
      // Seen again once the payment is fully refunded: already recorded, not a refund too many.
      expect(await record(rest)).to.equal('unchanged');
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments.filter((p) => p.kind === 'refund').map((p) => p.amount_cents)).to.deep.equal([2_000, 3_000]);
    });

    const auditsOf = (action: string, subjectId: string) =>
      withOrg(org.orgId, (db) =>
        db('audit_events')
          .where({ action, subject_id: subjectId })
          .orderBy('created_at')
          .select<{ actor_type: string; subject_type: string; data: Record<string, unknown> }[]>('actor_type', 'subject_type', 'data'),
      );

    it('audits a recorded payment with its Stripe ids, amount, currency and invoice', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 4_500);
      const paid = paymentIntent(invoiceId, 4_500, 1_700_000_000);
      paid.paymentIntent.latest_charge = { id: 'ch_direct_audit' };
      paid.checkoutSessionId = 'cs_direct_audit';
      await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [paid]));
      const [row] = (await invoiceState(org.orgId, invoiceId)).payments;
      expect(row).to.include({ stripe_charge_id: 'ch_direct_audit', stripe_checkout_session_id: 'cs_direct_audit' });
      const payment = await withOrg(org.orgId, (db) =>
        db('payments').where({ stripe_payment_intent_id: paid.paymentIntent.id }).first<{ id: string }>('id'),
      );
      expect(await auditsOf('payment.recorded', payment.id)).to.deep.equal([
        {
          actor_type: 'stripe',
          subject_type: 'payment',
          data: {
            payment_intent: paid.paymentIntent.id,
            checkout_session: 'cs_direct_audit',
            charge: 'ch_direct_audit',
            amount_cents: 4_500,
            currency: 'USD',
            invoice_id: invoiceId,
            source: 'stripe',
          },
        },
      ]);
    });

    it('sets aside, with the reason audited on the invoice, a payment on a draft or in another currency', async () => {
      const draft = await openInvoice(org.orgId, org.leadId, 3_000);
      await withOrg(org.orgId, (db) => db('invoices').where({ id: draft }).update({ status: 'draft' }));
      const onDraft = paymentIntent(draft, 3_000, 1_700_000_000);
      const euros = await openInvoice(org.orgId, org.leadId, 3_000);
      const inEuros = paymentIntent(euros, 3_000, 1_700_000_000);
      inEuros.paymentIntent.currency = 'eur';
      const outcomes = await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [onDraft, inEuros]));
      expect([outcomes.get(onDraft.paymentIntent.id), outcomes.get(inEuros.paymentIntent.id)]).to.deep.equal(['unapplied', 'unapplied']);
      for (const [invoiceId, pi, reason] of [
        [draft, onDraft, 'draft'],
        [euros, inEuros, 'currency'],
      ] as const) {
        expect((await invoiceState(org.orgId, invoiceId)).payments).to.deep.equal([]);
        const audits = await auditsOf('payment.stripe_unapplied', invoiceId);
        expect(audits).to.have.length(1);
        expect(audits[0]).to.deep.include({ actor_type: 'stripe', subject_type: 'invoice' });
        expect(audits[0].data).to.include({ payment_intent: pi.paymentIntent.id, reason });
      }
    });

    it('ignores a payment for an invoice that does not exist', async () => {
      const missing = paymentIntent('00000000-0000-4000-8000-00000000abcd', 1_000, 1_700_000_000);
      const before = await countRows(org.orgId, 'payments');
      const outcomes = await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [missing]));
      expect(outcomes.get(missing.paymentIntent.id)).to.equal('ignored');
      expect(await countRows(org.orgId, 'payments')).to.equal(before);
    });

    it('a payment recorded before its session was known marks the attempt paid once the session is', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 2_200);
      const sessionId = await startCheckout(org, invoiceId);
      const paid = paymentIntent(invoiceId, 2_200, 1_700_000_000);
      const attempt = () =>
        withOrg(org.orgId, (db) =>
          db('checkout_sessions')
            .where({ stripe_checkout_session_id: sessionId })
            .first<Pick<CheckoutSessionRecord, 'status'>>('status')
            .then((r) => r.status),
        );
      expect(await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [paid]))).to.deep.equal(
        new Map([[paid.paymentIntent.id, 'recorded']]),
      );
      expect(await attempt()).not.to.equal('paid');
      const again = await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [{ ...paid, checkoutSessionId: sessionId }]));
      expect(again.get(paid.paymentIntent.id)).to.equal('updated');
      expect(await attempt()).to.equal('paid');
      expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
    });

    it('a refund: without a PaymentIntent it is ignored; in another currency it is set aside and audited once; recorded, it is audited', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 6_000);
      const paid = paymentIntent(invoiceId, 6_000, 1_700_000_000);
      paid.paymentIntent.latest_charge = 'ch_direct_refunds';
      await withOrg(org.orgId, (db) => recordStripePayments(db, org.orgId, [paid]));
      const payment = await withOrg(org.orgId, (db) =>
        db('payments').where({ stripe_payment_intent_id: paid.paymentIntent.id }).first<{ id: string }>('id'),
      );
      const refund = (over: Record<string, unknown>) => ({
        id: `re_direct_${Math.random().toString(36).slice(2, 12)}`,
        amount: 1_000,
        currency: 'usd',
        status: 'succeeded',
        created: 1_700_000_300,
        payment_intent: paid.paymentIntent.id as string | null,
        charge: null as string | null,
        ...over,
      });
      const record = (r: ReturnType<typeof refund>) => withOrg(org.orgId, (db) => recordStripeRefund(db, org.orgId, r));

      expect(await record(refund({ payment_intent: null }))).to.equal('ignored');
      const euros = refund({ currency: 'eur' });
      expect(await record(euros)).to.equal('unapplied');
      expect(await record(euros)).to.equal('unapplied');
      expect(await auditsOf('payment.stripe_unapplied', payment.id)).to.deep.equal([
        {
          actor_type: 'stripe',
          subject_type: 'payment',
          data: {
            refund: euros.id,
            payment_intent: paid.paymentIntent.id,
            charge: 'ch_direct_refunds',
            amount_cents: 1_000,
            reason: 'refund_mismatch',
          },
        },
      ]);

      // Recorded: the charge comes from the payment when the refund names none; a repeat is unchanged.
      const fits = refund({ amount: 1_500 });
      expect(await record(fits)).to.equal('recorded');
      expect(await record(fits)).to.equal('unchanged');
      expect(await auditsOf('payment.refunded', payment.id)).to.deep.equal([
        {
          actor_type: 'stripe',
          subject_type: 'payment',
          data: {
            refund: fits.id,
            payment_intent: paid.paymentIntent.id,
            charge: 'ch_direct_refunds',
            amount_cents: 1_500,
            invoice_id: invoiceId,
            source: 'stripe',
          },
        },
      ]);
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.amount_paid_cents).to.equal(4_500);
      expect(state.payments.find((p) => p.kind === 'refund')).to.include({
        stripe_refund_id: fits.id,
        stripe_charge_id: 'ch_direct_refunds',
      });
      expect(state.payments.find((p) => p.kind === 'payment')).to.include({ status: 'succeeded' });
    });
  });
});
