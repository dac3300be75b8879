// Where reconciliation's next run starts reading. Money still in flight at Stripe (an open Checkout,
// a bank debit processing, a refund pending) holds the cursor at its creation time, so the run that
// sees it settle still lists it; anything final, not ours, or older than the pending limit does not.
// Each case is one kind of object on its own account, and the stored cursor is checked to the second.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { connectedOrg, metadataFor, openInvoice, startCheckout, startStandIn, stopStandIn, type ConnectedOrg } from './stripe-fixtures.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
/** The product's rule, stated here: a payment pending for more than a week stops holding the cursor. */
const PENDING_LIMIT = 7 * DAY;

describe('Stripe reconciliation cursor', () => {
  let standIn: StripeConnectStandIn;
  const now = Math.floor(Date.now() / 1000);

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  async function storedCursor(orgId: string): Promise<number | null> {
    const row = await withOrg(orgId, (db) =>
      db('organizations').first<{ stripe_reconcile_cursor: string | null }>('stripe_reconcile_cursor'),
    );
    return row.stripe_reconcile_cursor === null ? null : Number(row.stripe_reconcile_cursor);
  }

  async function run(org: ConnectedOrg, options: { overlapSeconds?: number } = {}): Promise<number | null> {
    const result = await reconcileAll({ orgIds: [org.orgId], now: () => now, ...options });
    expect(result).to.deep.include({ orgs: 1, failed: 0 });
    return storedCursor(org.orgId);
  }

  /** A Checkout the customer opened `age` seconds ago and has not paid. */
  async function openSession(org: ConnectedOrg, age: number): Promise<string> {
    const sessionId = await startCheckout(org, await openInvoice(org.orgId, org.leadId, 2_500));
    standIn.session(org.accountId, sessionId).created = now - age;
    return sessionId;
  }

  /** A card charge made without Checkout, `age` seconds ago, then put in `status`. */
  async function chargeIn(org: ConnectedOrg, status: string, age: number): Promise<void> {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 3_000);
    const { paymentIntent } = standIn.addPaidPaymentIntent(org.accountId, {
      amount: 3_000,
      currency: 'usd',
      metadata: metadataFor(org, invoiceId),
      created: now - age,
    });
    if (status !== 'succeeded') Object.assign(paymentIntent, { status, amount_received: 0 });
  }

  /** A refund made `age` seconds ago, in `status`, of a payment made a day before it. */
  async function refundIn(org: ConnectedOrg, status: 'pending' | 'failed', age: number): Promise<void> {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 4_000);
    const { paymentIntent } = standIn.addPaidPaymentIntent(org.accountId, {
      amount: 4_000,
      currency: 'usd',
      metadata: metadataFor(org, invoiceId),
      created: now - age - DAY,
    });
    standIn.refund(org.accountId, paymentIntent.id, 1_000, now - age).refund.status = status;
  }

  it('with nothing in flight, the next run reads on from when this one started', async () => {
    const org = await connectedOrg(standIn);
    await chargeIn(org, 'succeeded', 2 * HOUR);
    expect(await run(org)).to.equal(now);
  });

  it('an unpaid open Checkout holds the cursor at its creation', async () => {
    const org = await connectedOrg(standIn);
    await openSession(org, 2 * HOUR);
    expect(await run(org)).to.equal(now - 2 * HOUR);
  });

  it('a Checkout completed unpaid (a bank debit) holds the cursor at the session, older than its PaymentIntent', async () => {
    const org = await connectedOrg(standIn);
    const sessionId = await openSession(org, 3 * HOUR);
    standIn.completeCheckout(org.accountId, sessionId, { async: true, created: now - HOUR });
    expect(await run(org)).to.equal(now - 3 * HOUR);
  });

  for (const status of ['processing', 'requires_action', 'requires_confirmation', 'requires_capture']) {
    it(`a PaymentIntent in ${status} holds the cursor at its creation`, async () => {
      const org = await connectedOrg(standIn);
      await chargeIn(org, status, 2 * HOUR);
      expect(await run(org)).to.equal(now - 2 * HOUR);
    });
  }

  it('a pending refund holds the cursor at its creation; a failed one does not', async () => {
    const pending = await connectedOrg(standIn);
    await refundIn(pending, 'pending', 2 * HOUR);
    expect(await run(pending)).to.equal(now - 2 * HOUR);
    const failed = await connectedOrg(standIn);
    await refundIn(failed, 'failed', 2 * HOUR);
    expect(await run(failed)).to.equal(now);
  });

  it('the oldest of several pending objects holds it', async () => {
    const org = await connectedOrg(standIn);
    await openSession(org, HOUR);
    await chargeIn(org, 'processing', 5 * HOUR);
    await openSession(org, 3 * HOUR);
    expect(await run(org)).to.equal(now - 5 * HOUR);
  });

  it('nothing final, nothing of another org and nothing older than a week holds it', async () => {
    const org = await connectedOrg(standIn);
    // Final: an expired Checkout, a charge that failed or was canceled.
    const expired = await openSession(org, 2 * HOUR);
    standIn.session(org.accountId, expired).status = 'expired';
    await chargeIn(org, 'requires_payment_method', 2 * HOUR);
    await chargeIn(org, 'canceled', 2 * HOUR);
    // Not ours: an open Checkout that another org's metadata names, and one that isn't a payment.
    const foreign = await openSession(org, 3 * HOUR);
    standIn.session(org.accountId, foreign).metadata.org_id = '00000000-0000-4000-8000-000000000000';
    const setup = await openSession(org, 3 * HOUR);
    standIn.session(org.accountId, setup).mode = 'setup';
    // A processing charge of something else on the account (no invoice of ours).
    standIn.addPaidPaymentIntent(org.accountId, {
      amount: 900,
      currency: 'usd',
      metadata: { order: 'shop-7' },
      created: now - 4 * HOUR,
    }).paymentIntent.status = 'processing';
    // Pending for longer than the limit: given up on.
    await openSession(org, PENDING_LIMIT + 1);
    expect(await run(org)).to.equal(now);
  });

  it('a payment pending for exactly the limit still holds it', async () => {
    const org = await connectedOrg(standIn);
    await chargeIn(org, 'processing', PENDING_LIMIT);
    expect(await run(org)).to.equal(now - PENDING_LIMIT);
  });

  it('never moves back: a pending object older than the stored cursor leaves the cursor where it was', async () => {
    const org = await connectedOrg(standIn);
    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ stripe_reconcile_cursor: now - 600 }),
    );
    // Inside the re-read overlap (an hour here), older than the cursor.
    await openSession(org, 3000);
    expect(await run(org, { overlapSeconds: HOUR })).to.equal(now - 600);
    // With nothing pending any more, it moves on to this run's start.
    const later = await connectedOrg(standIn);
    await withOrg(later.orgId, (db) =>
      db('organizations')
        .where({ id: later.orgId })
        .update({ stripe_reconcile_cursor: now - 600 }),
    );
    expect(await run(later, { overlapSeconds: HOUR })).to.equal(now);
  });

  it('lists from the cursor minus the overlap, and everything on a first run', async () => {
    const org = await connectedOrg(standIn);
    const listed = () =>
      standIn
        .requestsTo('GET', '/v1/')
        .filter(
          (r) => r.stripeAccount === org.accountId && ['/v1/checkout/sessions', '/v1/payment_intents', '/v1/refunds'].includes(r.path),
        );
    await run(org);
    const first = listed();
    expect(first).to.have.length(3);
    for (const request of first) expect(request.params.created, request.path).to.equal(undefined);

    await withOrg(org.orgId, (db) =>
      db('organizations')
        .where({ id: org.orgId })
        .update({ stripe_reconcile_cursor: now - 600 }),
    );
    await run(org, { overlapSeconds: 900 });
    const second = listed().slice(first.length);
    expect(second).to.have.length(3);
    for (const request of second) expect(request.params.created, request.path).to.deep.equal({ gte: String(now - 1500) });
  });
});
