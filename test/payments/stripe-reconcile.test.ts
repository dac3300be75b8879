import { expect } from 'chai';
import { Queue } from 'bullmq';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createRedis } from '../../src/queue/redis.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { RECONCILE_QUEUE, RECONCILE_SCHEDULER_ID, scheduleReconciliation } from '../../workers/reconcile-stripe.js';
import { loginAgent } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { OrgRecord } from '../support/rows.js';
import { translate } from '../../src/i18n/index.js';
import {
  connectedOrg,
  deliver,
  invoiceState,
  metadataFor,
  openInvoice,
  startCheckout,
  startStandIn,
  stopStandIn,
} from './stripe-fixtures.js';

/** What a run with nothing to fetch asks Stripe: its three lists. */
const THREE_LISTS = ['/v1/checkout/sessions', '/v1/payment_intents', '/v1/refunds'];

describe('Stripe reconciliation', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('records a payment whose webhook never arrived; a second run records nothing', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 9_900);
    const sessionId = await startCheckout(org, invoiceId);
    const { paymentIntent, charge } = standIn.completeCheckout(org.accountId, sessionId);

    const startedAt = Math.floor(Date.now() / 1000);
    const first = await reconcileAll({ orgIds: [org.orgId] });
    const endedAt = Math.ceil(Date.now() / 1000);
    expect(first).to.deep.include({ orgs: 1, failed: 0, payments: 1, refunds: 0 });
    // Its session was in the list: nothing is looked up on the side.
    expect(standIn.readsBy(org.accountId).sort()).to.deep.equal(THREE_LISTS);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);
    expect(state.payments[0]).to.deep.include({
      source: 'stripe',
      stripe_payment_intent_id: paymentIntent.id,
      stripe_checkout_session_id: sessionId,
      stripe_charge_id: charge!.id,
    });
    const orgRow = await withOrg(org.orgId, (db) =>
      db('organizations').first<Pick<OrgRecord, 'stripe_reconcile_cursor' | 'stripe_reconciled_at' | 'stripe_reconcile_error'>>(
        'stripe_reconcile_cursor',
        'stripe_reconciled_at',
        'stripe_reconcile_error',
      ),
    );
    // Nothing was pending: the next run reads on from when this one started, in Stripe's Unix seconds.
    expect(Number(orgRow.stripe_reconcile_cursor)).to.be.within(startedAt, endedAt);
    expect(orgRow.stripe_reconciled_at).to.be.instanceOf(Date);
    expect(orgRow.stripe_reconcile_error).to.equal(null);

    const callsBefore = standIn.readsBy(org.accountId).length;
    const second = await reconcileAll({ orgIds: [org.orgId] });
    expect(second).to.deep.include({ orgs: 1, failed: 0, payments: 0, refunds: 0 });
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
    // Nothing new: the second run reads Stripe's three lists and fetches nothing it already has.
    expect(standIn.readsBy(org.accountId).slice(callsBefore).sort()).to.deep.equal(THREE_LISTS);

    // The webhook arriving late changes nothing either.
    const res = await deliver(standIn.event('payment_intent.succeeded', paymentIntent, org.accountId));
    expect(res.status).to.equal(200);
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
  });

  for (const missing of [
    ['stripe_checkout_session_id'],
    ['stripe_charge_id'],
    ['stripe_checkout_session_id', 'stripe_charge_id'],
  ] as const) {
    it(`fills in what a recorded payment lacks (${missing.join(', ')}), and counts it as no new payment`, async () => {
      const org = await connectedOrg(standIn);
      // An earlier payment recorded without either: the fill-in is its own row's only.
      const earlierInvoice = await openInvoice(org.orgId, org.leadId, 1_200);
      const earlier = standIn.addPaidCheckout(org.accountId, {
        amount: 1_200,
        currency: 'usd',
        metadata: metadataFor(org, earlierInvoice),
      });
      expect((await deliver(standIn.event('payment_intent.succeeded', earlier.paymentIntent, org.accountId))).status).to.equal(200);
      await withOrg(org.orgId, (db) =>
        db('payments')
          .where({ stripe_payment_intent_id: earlier.paymentIntent.id })
          .update({ stripe_checkout_session_id: 'cs_kept_as_is', stripe_charge_id: 'ch_kept_as_is' }),
      );
      const invoiceId = await openInvoice(org.orgId, org.leadId, 4_400);
      const sessionId = await startCheckout(org, invoiceId);
      const { paymentIntent } = standIn.completeCheckout(org.accountId, sessionId);
      expect((await deliver(standIn.event('payment_intent.succeeded', paymentIntent, org.accountId))).status).to.equal(200);
      // As a row recorded before sessions and charges were kept with payments.
      await withOrg(org.orgId, (db) =>
        db('payments')
          .where({ stripe_payment_intent_id: paymentIntent.id })
          .update(Object.fromEntries(missing.map((column) => [column, null]))),
      );

      const callsBefore = standIn.readsBy(org.accountId).length;
      const run = await reconcileAll({ orgIds: [org.orgId] });
      expect(run).to.deep.include({ orgs: 1, failed: 0, payments: 0, refunds: 0 });
      // What it fills in comes from the lists: no session is looked up for a payment already recorded.
      expect(standIn.readsBy(org.accountId).slice(callsBefore).sort()).to.deep.equal(THREE_LISTS);
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments).to.have.length(1);
      expect(state.payments[0]).to.deep.include({
        stripe_payment_intent_id: paymentIntent.id,
        stripe_checkout_session_id: sessionId,
        stripe_charge_id: paymentIntent.latest_charge,
      });
      expect((await invoiceState(org.orgId, earlierInvoice)).payments[0]).to.deep.include({
        stripe_checkout_session_id: 'cs_kept_as_is',
        stripe_charge_id: 'ch_kept_as_is',
      });
    });
  }

  it("records a charge made without Checkout (an autopay charge) whose webhook was lost, and only this org's succeeded ones", async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 6_500);
    const { paymentIntent, charge } = standIn.addPaidPaymentIntent(org.accountId, {
      amount: 6_500,
      currency: 'usd',
      metadata: metadataFor(org, invoiceId),
    });
    // On the same account: one still processing, and one made by something else (no invoice of ours).
    const otherInvoice = await openInvoice(org.orgId, org.leadId, 1_000);
    const processing = standIn.addPaidPaymentIntent(org.accountId, {
      amount: 1_000,
      currency: 'usd',
      metadata: metadataFor(org, otherInvoice),
    });
    Object.assign(processing.paymentIntent, { status: 'processing', amount_received: 0 });
    standIn.addPaidPaymentIntent(org.accountId, { amount: 2_000, currency: 'usd', metadata: { order: 'shop-42' } });

    const run = await reconcileAll({ orgIds: [org.orgId] });
    expect(run).to.deep.include({ orgs: 1, failed: 0, payments: 1 });
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);
    expect(state.payments[0]).to.deep.include({
      stripe_payment_intent_id: paymentIntent.id,
      stripe_checkout_session_id: null,
      stripe_charge_id: charge.id,
    });
    expect((await invoiceState(org.orgId, otherInvoice)).payments).to.have.length(0);
  });

  it('records a missed refund, even of a payment it has to fetch, and uses the cursor with an overlap', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 10_000);
    const old = Math.floor(Date.now() / 1000) - 30 * 24 * 3600;
    // Paid a month ago (before the cursor), refunded today.
    const { paymentIntent, session } = standIn.addPaidCheckout(org.accountId, {
      amount: 10_000,
      currency: 'usd',
      metadata: metadataFor(org, invoiceId),
      created: old,
    });
    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ stripe_reconcile_cursor: Math.floor(Date.now() / 1000) - 3600 }),
    );
    standIn.refund(org.accountId, paymentIntent.id, 4_000);
    // A newer Checkout on the same account, for another invoice: the lookup must find the payment's own session.
    await startCheckout(org, await openInvoice(org.orgId, org.leadId, 1_500));
    standIn.requests.length = 0;
    const run = await reconcileAll({ orgIds: [org.orgId] });
    expect(run).to.deep.include({ payments: 1, refunds: 1, failed: 0 });
    const lists = standIn.requests.filter((r) => r.method === 'GET' && r.path === '/v1/payment_intents');
    expect(lists).to.have.length(1);
    const gte = Number((lists[0].params.created as Record<string, string>).gte);
    expect(gte).to.be.at.most(Math.floor(Date.now() / 1000) - 3600 - 60);
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('partially_paid');
    expect(state.amount_paid_cents).to.equal(6_000);
    expect(state.payments.map((p) => p.kind)).to.deep.equal(['payment', 'refund']);
    // Found through its refund, the payment still gets its Checkout Session (looked up by PaymentIntent).
    expect(state.payments[0]).to.deep.include({ stripe_payment_intent_id: paymentIntent.id, stripe_checkout_session_id: session.id });
    expect((await reconcileAll({ orgIds: [org.orgId] })).refunds).to.equal(0);
  });

  describe('what a run fetches beyond its lists', () => {
    it("fetches a paid session's PaymentIntent created before the window, and records it with the session", async () => {
      const org = await connectedOrg(standIn);
      const invoiceId = await openInvoice(org.orgId, org.leadId, 7_700);
      const now = Math.floor(Date.now() / 1000);
      const sessionId = await startCheckout(org, invoiceId);
      standIn.session(org.accountId, sessionId).created = now - 600;
      const { paymentIntent } = standIn.completeCheckout(org.accountId, sessionId, { created: now - 2 * 24 * 3600 });
      await withOrg(org.orgId, (db) =>
        db('organizations')
          .where({ id: org.orgId })
          .update({ stripe_reconcile_cursor: now - 3600 }),
      );

      const run = await reconcileAll({ orgIds: [org.orgId] });
      expect(run).to.deep.include({ failed: 0, payments: 1 });
      expect(standIn.readsBy(org.accountId)).to.include(`/v1/payment_intents/${paymentIntent.id}`);
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments).to.have.length(1);
      expect(state.payments[0]).to.deep.include({ stripe_payment_intent_id: paymentIntent.id, stripe_checkout_session_id: sessionId });
    });

    it('a refund of a payment already recorded fetches nothing more; one of a payment that is not ours records nothing', async () => {
      const org = await connectedOrg(standIn);
      const invoiceId = await openInvoice(org.orgId, org.leadId, 8_000);
      // Paid two days ago, recorded by a first run; refunded today, outside the payment's listing window.
      const { paymentIntent } = standIn.addPaidCheckout(org.accountId, {
        amount: 8_000,
        currency: 'usd',
        metadata: metadataFor(org, invoiceId),
        created: Math.floor(Date.now() / 1000) - 2 * 24 * 3600,
      });
      expect((await reconcileAll({ orgIds: [org.orgId] })).payments).to.equal(1);
      standIn.refund(org.accountId, paymentIntent.id, 3_000);
      // A shop sale on the same account, refunded: no invoice of ours.
      const shop = standIn.addPaidPaymentIntent(org.accountId, { amount: 2_000, currency: 'usd', metadata: { order: 'shop-9' } });
      standIn.refund(org.accountId, shop.paymentIntent.id);
      const before = standIn.readsBy(org.accountId).length;

      const run = await reconcileAll({ orgIds: [org.orgId] });
      expect(run).to.deep.include({ failed: 0, payments: 0, refunds: 1 });
      const calls = standIn.readsBy(org.accountId).slice(before);
      // The shop sale is fetched once to learn it isn't ours (and nothing more is asked about it);
      // the recorded payment is not fetched.
      expect(calls.sort()).to.deep.equal([
        '/v1/checkout/sessions',
        '/v1/payment_intents',
        `/v1/payment_intents/${shop.paymentIntent.id}`,
        '/v1/refunds',
      ]);
      const state = await invoiceState(org.orgId, invoiceId);
      expect(state.payments.map((p) => [p.kind, p.amount_cents])).to.deep.equal([
        ['payment', 8_000],
        ['refund', 3_000],
      ]);
    });

    it('applies missed refunds oldest first: of two that together exceed the payment, the later one is set aside', async () => {
      const org = await connectedOrg(standIn);
      const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
      const now = Math.floor(Date.now() / 1000);
      const { paymentIntent } = standIn.addPaidCheckout(org.accountId, {
        amount: 5_000,
        currency: 'usd',
        metadata: metadataFor(org, invoiceId),
        created: now - 3 * 3600,
      });
      // Refunded twice (the second by mistake at Stripe's side): 3,000 then 3,000 of 5,000.
      const older = standIn.refund(org.accountId, paymentIntent.id, 3_000, now - 2 * 3600).refund;
      const newer = standIn.refund(org.accountId, paymentIntent.id, 3_000, now - 3600).refund;

      const run = await reconcileAll({ orgIds: [org.orgId] });
      expect(run).to.deep.include({ failed: 0, payments: 1, refunds: 1 });
      const refunds = await withOrg(org.orgId, (db) => db('payments').where({ kind: 'refund' }).pluck<string[]>('stripe_refund_id'));
      expect(refunds).to.deep.equal([older.id]);
      const set = await withOrg(org.orgId, (db) =>
        db('audit_events').where({ action: 'payment.stripe_unapplied' }).select<{ data: { refund: string } }[]>('data'),
      );
      expect(set.map((a) => a.data.refund)).to.deep.equal([newer.id]);
    });
  });

  it('walks every page of a large account (auto-pagination)', async () => {
    const org = await connectedOrg(standIn);
    const invoices: string[] = [];
    for (let i = 0; i < 230; i += 1) invoices.push(await openInvoice(org.orgId, org.leadId, 1_000 + i));
    invoices.forEach((invoiceId, i) =>
      standIn.addPaidCheckout(org.accountId, { amount: 1_000 + i, currency: 'usd', metadata: metadataFor(org, invoiceId) }),
    );
    const run = await reconcileAll({ orgIds: [org.orgId] });
    expect(run.payments).to.equal(230);
    const listCalls = standIn.requests.filter((r) => r.path === '/v1/payment_intents' && r.stripeAccount === org.accountId);
    expect(listCalls.length).to.equal(3);
    const paid = await withOrg(org.orgId, (db) => db('invoices').where({ status: 'paid' }).count<{ count: string }[]>('* as count'));
    expect(Number(paid[0].count)).to.equal(230);
  });

  it('one org losing access does not stop the others; the error shows on its Payments page', async () => {
    const revoked = await connectedOrg(standIn);
    const healthy = await connectedOrg(standIn);
    const revokedInvoice = await openInvoice(revoked.orgId, revoked.leadId, 5_000);
    const healthyInvoice = await openInvoice(healthy.orgId, healthy.leadId, 5_000);
    standIn.addPaidCheckout(revoked.accountId, { amount: 5_000, currency: 'usd', metadata: metadataFor(revoked, revokedInvoice) });
    standIn.addPaidCheckout(healthy.accountId, { amount: 5_000, currency: 'usd', metadata: metadataFor(healthy, healthyInvoice) });
    standIn.refuseAccount(revoked.accountId, 401);

    const run = await reconcileAll({ orgIds: [revoked.orgId, healthy.orgId], concurrency: 2 });
    expect(run.orgs).to.equal(2);
    expect(run.failed).to.equal(1);
    expect((await invoiceState(healthy.orgId, healthyInvoice)).status).to.equal('paid');
    expect((await invoiceState(revoked.orgId, revokedInvoice)).payments).to.have.length(0);
    const row = await withOrg(revoked.orgId, (db) =>
      db('organizations').first<Pick<OrgRecord, 'stripe_reconcile_error' | 'stripe_reconcile_cursor'>>(
        'stripe_reconcile_error',
        'stripe_reconcile_cursor',
      ),
    );
    expect(translate('en', row.stripe_reconcile_error)).to.match(/refused access/);
    expect(row.stripe_reconcile_cursor).to.equal(null);

    const agent = await loginAgent(revoked.email, revoked.password);
    const page = await agent.get('/settings/payments');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('The last check failed');
    expect(page.text).to.contain('refused access');
    const healthyAgent = await loginAgent(healthy.email, healthy.password);
    expect((await healthyAgent.get('/settings/payments')).text).not.to.contain('The last check failed');

    // Access restored: the next run records the payment and clears the error.
    standIn.allowAccount(revoked.accountId);
    const next = await reconcileAll({ orgIds: [revoked.orgId] });
    expect(next).to.deep.include({ failed: 0, payments: 1 });
    const cleared = await withOrg(revoked.orgId, (db) =>
      db('organizations').first<Pick<OrgRecord, 'stripe_reconcile_error'>>('stripe_reconcile_error'),
    );
    expect(cleared.stripe_reconcile_error).to.equal(null);
  });

  it('runs as a BullMQ job scheduler every RECONCILE_EVERY_MINUTES minutes', async () => {
    const connection = createRedis('worker');
    const queue = new Queue(RECONCILE_QUEUE, { connection, prefix: config.queuePrefix });
    try {
      await scheduleReconciliation(queue, 15);
      await scheduleReconciliation(queue, 15); // idempotent at every worker start
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).to.have.length(1);
      expect(schedulers[0].key).to.equal(RECONCILE_SCHEDULER_ID);
      expect(Number(schedulers[0].every)).to.equal(15 * 60_000);
      await scheduleReconciliation(queue, 5);
      const changed = await queue.getJobSchedulers();
      expect(changed).to.have.length(1);
      expect(Number(changed[0].every)).to.equal(5 * 60_000);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
    }
  });
});
