// Reconciliation's window: a bank-debit payment is still processing when one run
// looks, settles days later at Stripe, and its webhook is lost. A later run must
// still record it, although by then it was created long before the runs' cursor.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { connectedOrg, invoiceState, openInvoice, startCheckout, startStandIn, stopStandIn } from './stripe-fixtures.js';

const MINUTE = 60;
const DAY = 24 * 3600;

describe('Stripe reconciliation window', () => {
  let standIn: StripeConnectStandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('records a payment that was processing at one run and completed (webhook lost) before a later run', async () => {
    const org = await connectedOrg(standIn);
    const invoiceId = await openInvoice(org.orgId, org.leadId, 12_500);
    // The customer opened Checkout four days ago and paid by bank debit five minutes later.
    const t0 = Math.floor(Date.now() / 1000) - 4 * DAY;
    const sessionId = await startCheckout(org, invoiceId);
    standIn.session(org.accountId, sessionId).created = t0;
    const { paymentIntent } = standIn.completeCheckout(org.accountId, sessionId, { async: true, created: t0 + 5 * MINUTE });
    expect(paymentIntent.status).to.equal('processing');

    // Runs every so often while the debit is processing: nothing to record, the invoice stays open.
    for (const at of [t0 + 10 * MINUTE, t0 + 15 * MINUTE, t0 + DAY, t0 + 2 * DAY, t0 + 3 * DAY]) {
      const run = await reconcileAll({ orgIds: [org.orgId], now: () => at });
      expect(run, `run at t0+${(at - t0) / 60} min`).to.deep.include({ orgs: 1, failed: 0, payments: 0 });
    }
    expect((await invoiceState(org.orgId, invoiceId)).status).to.equal('open');

    // Three days later the debit settles at Stripe; the payment_intent.succeeded webhook never arrives.
    standIn.settleAsync(org.accountId, sessionId, 'succeeded');
    const later = await reconcileAll({ orgIds: [org.orgId], now: () => t0 + 3 * DAY + 15 * MINUTE });
    expect(later).to.deep.include({ orgs: 1, failed: 0, payments: 1 });
    const state = await invoiceState(org.orgId, invoiceId);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);
    expect(state.payments[0]).to.deep.include({ stripe_payment_intent_id: paymentIntent.id, stripe_checkout_session_id: sessionId });

    // Recorded once: the next runs find nothing new, and the cursor moves on again.
    const again = await reconcileAll({ orgIds: [org.orgId], now: () => t0 + 3 * DAY + 30 * MINUTE });
    expect(again).to.deep.include({ payments: 0, failed: 0 });
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(1);
    const moved = await withOrg(org.orgId, (db) =>
      db('organizations').first<{ stripe_reconcile_cursor: string }>('stripe_reconcile_cursor'),
    );
    expect(Number(moved.stripe_reconcile_cursor)).to.be.greaterThan(t0 + 3 * DAY);
  });
});
