import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { FormError, HttpError } from '../../src/lib/errors.js';
import { PLANS, planFor } from '../../src/plans.js';
import { canPayOnline, markCheckoutReturned, onlinePaymentFor } from '../../src/payments/stripe/checkout.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { CheckoutSessionRecord } from '../support/rows.js';
import { translate } from '../../src/i18n/index.js';
import {
  connectedOrg,
  countRows,
  deliver,
  invoiceState,
  openInvoice,
  startCheckout,
  startStandIn,
  stopStandIn,
  type ConnectedOrg,
} from './stripe-fixtures.js';

/** A nested value of a recorded request's params, by dotted path. */
function at(params: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), params);
}

describe('Paying an invoice with Stripe Checkout (direct charge)', () => {
  let standIn: StripeConnectStandIn;
  let org: ConnectedOrg;

  before(async () => {
    standIn = await startStandIn();
    org = await connectedOrg(standIn, { plan: 'starter' });
  });
  after(async () => stopStandIn(standIn));

  it('creates a session on the connected account for the balance, with metadata, idempotency key and portal URLs', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 25_050);
    const sessionId = await startCheckout(org, invoiceId);
    const create = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(create.stripeAccount).to.equal(org.accountId);
    expect(create.idempotencyKey).to.match(new RegExp(`^checkout:${org.orgId}:${invoiceId}:[0-9a-f-]{36}$`));
    const params = create.params;
    expect(params.mode).to.equal('payment');
    expect(at(params, 'line_items.0.price_data')).to.deep.include({ currency: 'usd', unit_amount: '25050' });
    const metadata = { org_id: org.orgId, invoice_id: invoiceId, lead_id: org.leadId };
    expect(params.metadata).to.deep.equal(metadata);
    expect(at(params, 'payment_intent_data.metadata')).to.deep.equal(metadata);
    // Starter's fee is 0: no application fee is requested.
    expect(at(params, 'payment_intent_data.application_fee_amount')).to.equal(undefined);
    // The way back is a one-time code each, never the portal token (stripe-checkout-return.test.ts).
    expect(at(params, 'success_url')).to.match(/\/return\/[A-Za-z0-9_-]{43}$/);
    expect(at(params, 'cancel_url')).to.match(/\/return\/[A-Za-z0-9_-]{43}$/);
    expect(at(params, 'cancel_url')).not.to.equal(at(params, 'success_url'));
    const row = await withOrg(org.orgId, (db) =>
      db('checkout_sessions').where({ stripe_checkout_session_id: sessionId }).first<CheckoutSessionRecord>(),
    );
    expect(row).to.deep.include({ invoice_id: invoiceId, lead_id: org.leadId, status: 'open', currency: 'USD' });
    expect(Number(row.amount_cents)).to.equal(25_050);
    // Pressing Pay again for the same amount reuses the open session.
    expect(await startCheckout(org, invoiceId)).to.equal(sessionId);
  });

  it('takes the platform fee from the plan (application_fee_amount)', async () => {
    const saved = PLANS.starter.platformFeeBps;
    PLANS.starter.platformFeeBps = 250; // 2.5 %
    try {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 10_001);
      await startCheckout(org, invoiceId);
      const params = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!.params;
      expect(at(params, 'payment_intent_data.application_fee_amount')).to.equal('250');
    } finally {
      PLANS.starter.platformFeeBps = saved;
    }
  });

  it('a partial amount of at least the minimum; above the balance or below the minimum is refused before Stripe', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 10_000);
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    for (const [input, message] of [
      ['100.01', /more than the \$100\.00 due/],
      ['0.99', /smallest online payment is \$1\.00/],
      ['abc', /Enter an amount/],
      ['-5', /Enter an amount/],
    ] as const) {
      try {
        await startCheckout(org, invoiceId, input);
        expect.fail(`accepted ${input}`);
      } catch (err) {
        expect(err).to.be.instanceOf(FormError);
        expect(translate('en', (err as FormError).fields.amount)).to.match(message);
      }
    }
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
    expect(await withOrg(org.orgId, (db) => db('checkout_sessions').where({ invoice_id: invoiceId }))).to.have.length(0);

    // Partial payments move the balance and the status.
    const first = await startCheckout(org, invoiceId, '40.00');
    expect(standIn.session(org.accountId, first).amount_total).to.equal(4_000);
    const paid1 = standIn.completeCheckout(org.accountId, first);
    await deliver(standIn.event('checkout.session.completed', paid1.session, org.accountId));
    let state = await invoiceState(org.orgId, invoiceId);
    expect(state).to.deep.include({ status: 'partially_paid', amount_paid_cents: 4_000 });
    // Now 60.00 is due: 60.01 is refused, 60.00 pays it off.
    try {
      await startCheckout(org, invoiceId, '60.01');
      expect.fail('accepted more than the balance');
    } catch (err) {
      expect(translate('en', (err as FormError).fields.amount)).to.match(/more than the \$60\.00 due/);
    }
    const rest = await startCheckout(org, invoiceId);
    expect(standIn.session(org.accountId, rest).amount_total).to.equal(6_000);
    const paid2 = standIn.completeCheckout(org.accountId, rest);
    await deliver(standIn.event('payment_intent.succeeded', paid2.paymentIntent, org.accountId));
    state = await invoiceState(org.orgId, invoiceId);
    expect(state).to.deep.include({ status: 'paid', amount_paid_cents: 10_000 });
    // Nothing left: no new session.
    try {
      await startCheckout(org, invoiceId);
      expect.fail('paid invoice accepted');
    } catch (err) {
      expect((err as HttpError).status).to.equal(409);
    }
  });

  it('uses the invoice currency’s minor units (JPY has none)', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000, 'JPY');
    const sessionId = await startCheckout(org, invoiceId, '1200');
    const session = standIn.session(org.accountId, sessionId);
    expect(session).to.deep.include({ amount_total: 1_200, currency: 'jpy' });
  });

  it('shows "processing" after the customer returns until the payment is recorded', async () => {
    const invoiceId = await openInvoice(org.orgId, org.leadId, 3_000);
    const sessionId = await startCheckout(org, invoiceId);
    let state = await withOrg(org.orgId, (db) => onlinePaymentFor(db, invoiceId, org.leadId));
    expect(state).to.deep.include({ available: true, processing: false, balance_cents: 3_000, minimum_cents: 100 });
    const { session } = standIn.completeCheckout(org.accountId, sessionId);
    expect(await withOrg(org.orgId, (db) => markCheckoutReturned(db, invoiceId, org.leadId, sessionId))).to.equal(true);
    expect(await withOrg(org.orgId, (db) => markCheckoutReturned(db, invoiceId, org.leadId, 'cs_test_not_this_one'))).to.equal(false);
    state = await withOrg(org.orgId, (db) => onlinePaymentFor(db, invoiceId, org.leadId));
    expect(state.processing).to.equal(true);
    await deliver(standIn.event('checkout.session.completed', session, org.accountId));
    state = await withOrg(org.orgId, (db) => onlinePaymentFor(db, invoiceId, org.leadId));
    expect(state).to.deep.include({ processing: false, available: false, balance_cents: 0 });
  });

  describe('who may pay online', () => {
    const open = { status: 'open', total_cents: 1000, amount_paid_cents: 0 };
    const ready = { stripe_account_id: 'acct_1', stripe_charges_enabled: true };

    it('needs a plan with online payment, an account that can take charges and an invoice with a balance', () => {
      expect(canPayOnline(planFor('starter'), ready, open)).to.equal(true);
      expect(canPayOnline(planFor('free'), ready, open)).to.equal(false);
      expect(canPayOnline(planFor('pro'), { ...ready, stripe_charges_enabled: false }, open)).to.equal(false);
      expect(canPayOnline(planFor('pro'), { stripe_account_id: null, stripe_charges_enabled: false }, open)).to.equal(false);
      expect(canPayOnline(planFor('pro'), ready, { ...open, status: 'partially_paid', amount_paid_cents: 500 })).to.equal(true);
      expect(canPayOnline(planFor('pro'), ready, { ...open, status: 'paid', amount_paid_cents: 1000 })).to.equal(false);
      expect(canPayOnline(planFor('pro'), ready, { ...open, status: 'void' })).to.equal(false);
      expect(canPayOnline(planFor('pro'), ready, { ...open, status: 'draft' })).to.equal(false);
    });

    it('refuses Checkout on the Free plan or when the account cannot take charges, creating nothing', async () => {
      for (const other of [
        await connectedOrg(standIn, { plan: 'free' }),
        await connectedOrg(standIn, { plan: 'pro', chargesEnabled: false }),
      ]) {
        const invoiceId = await openInvoice(other.orgId, other.leadId, 5_000);
        const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
        try {
          await startCheckout(other, invoiceId);
          expect.fail('checkout created');
        } catch (err) {
          expect((err as HttpError).status).to.equal(403);
        }
        expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
        expect(await countRows(other.orgId, 'checkout_sessions')).to.equal(0);
        const state = await withOrg(other.orgId, (db) => onlinePaymentFor(db, invoiceId, other.leadId));
        expect(state.available).to.equal(false);
      }
    });

    it('another customer’s invoice is not found', async () => {
      const invoiceId = await openInvoice(org.orgId, org.leadId, 5_000);
      try {
        await startCheckout({ ...org, leadId: '00000000-0000-4000-8000-000000000000' }, invoiceId);
        expect.fail('checkout created');
      } catch (err) {
        expect((err as HttpError).status).to.equal(404);
      }
    });
  });
});
