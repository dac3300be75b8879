// Saved cards and autopay (issue 15 point 3, Pro), against the Stripe stand-in
// with signed events: the card saved while paying (one Stripe Customer per
// portal customer per connected account), shown and removable in the portal,
// autopay charging due invoices off-session once per invoice per day, declines
// and authentication-required cards telling the customer, and every way of
// stopping it.
import { expect } from 'chai';
import supertest from 'supertest';
import { leadDeliveries } from '../../src/messaging/queries.js';
import { withOrg } from '../../src/db/tenancy.js';
import { TEST_CARDS, type StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { PORTAL_LINK_PLACEHOLDER } from '../../src/messaging/link-placeholder.js';
import { runAutopay } from '../../src/payments/stripe/autopay.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { ensureStripeCustomer } from '../../src/payments/stripe/saved-cards.js';
import { revokePortalLink } from '../../src/portal-links/commands.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import { PLANS, platformFeeCents } from '../../src/plans.js';
import { getStripe } from '../../src/stripe/client.js';
import { testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { connectedOrg, deliver, invoiceState, openInvoice, startStandIn, stopStandIn, type ConnectedOrg } from './stripe-fixtures.js';

const app = () => supertest(testApp());

/** The fixtures' invoices are due on 2026-12-04: autopay runs at noon UTC on that day (or later ones). */
const DUE_DAY = new Date('2026-12-04T17:00:00Z');
const dayAfter = (days: number) => new Date(DUE_DAY.getTime() + days * 86_400_000);

interface Customer {
  org: ConnectedOrg;
  link: { id: string; token: string };
  base: string;
}

describe('Saved cards and autopay (Pro)', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));
  beforeEach(resetPortalMisses);

  // Runs over every org in the database (as in production); each test looks at its own org's rows.
  const run = (now: Date) => runAutopay({ now, link: PORTAL_LINK_PLACEHOLDER });

  async function customer(plan: 'pro' | 'starter' = 'pro'): Promise<Customer> {
    const org = await connectedOrg(standIn, { plan });
    const link = await linkFor(org.orgId, org.leadId);
    return { org, link, base: `/p/${link.token}` };
  }

  /** Pays these invoices from the Invoices tab with "Save my card" ticked, with this test card; delivers the signed event. */
  async function payAndSave(c: Customer, invoiceIds: string[], card: string = TEST_CARDS.visa, save = true) {
    const res = await app()
      .post(`${c.base}/invoices/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(c.link.id), invoice_ids: invoiceIds, tip_choice: 'none', ...(save ? { save_card: 'on' } : {}) });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    const { session } = standIn.completeCheckout(c.org.accountId, res.headers.location.split('/').at(-1)!, { card });
    expect((await deliver(standIn.event('checkout.session.completed', session, c.org.accountId))).status).to.equal(200);
    return session;
  }

  const setAutopay = (c: Customer, on: boolean) =>
    app()
      .post(`${c.base}/autopay`)
      .type('form')
      .send({ _csrf: portalFormToken(c.link.id), autopay: on ? 'on' : 'off' });

  const customerRows = (c: Customer) => withOrg(c.org.orgId, (db) => db('stripe_customers').select<Record<string, unknown>[]>('*'));

  const attempts = (c: Customer) =>
    withOrg(c.org.orgId, (db) =>
      db('autopay_attempts').orderBy('created_at').select<
        {
          invoice_id: string;
          attempt_day: Date;
          status: string;
          failure_code: string | null;
          idempotency_key: string;
          stripe_payment_intent_id: string | null;
        }[]
      >('invoice_id', 'attempt_day', 'status', 'failure_code', 'idempotency_key', 'stripe_payment_intent_id'),
    );

  /**
   * An attempt as a run stores it when it claims the charge (then dies before charging, in the tests
   * that use it): pending, on the customer's saved card, claimed on the due day. `extra` adds or
   * overrides columns (a fee).
   */
  const storeClaimedAttempt = (c: Customer, invoiceId: string, amountCents: number, extra: Record<string, unknown> = {}) =>
    withOrg(c.org.orgId, async (db) => {
      const card = await db('stripe_customers').first<{ stripe_customer_id: string; payment_method_id: string }>(
        'stripe_customer_id',
        'payment_method_id',
      );
      await db('autopay_attempts').insert({
        org_id: c.org.orgId,
        invoice_id: invoiceId,
        lead_id: c.org.leadId,
        attempt_day: '2026-12-04',
        idempotency_key: `autopay-${invoiceId}-20261204`,
        stripe_account_id: c.org.accountId,
        stripe_customer_id: card.stripe_customer_id,
        payment_method_id: card.payment_method_id,
        amount_cents: amountCents,
        currency: 'USD',
        claimed_at: DUE_DAY,
        ...extra,
      });
    });

  const paymentIntentCalls = (c: Customer) =>
    standIn.requestsTo('POST', '/v1/payment_intents').filter((r) => r.stripeAccount === c.org.accountId);

  /** Two invoices paid with the card saved, autopay on, and a third invoice that comes due. */
  async function withAutopay(card: string = TEST_CARDS.visa): Promise<Customer & { next: string }> {
    const c = await customer();
    const a = await openInvoice(c.org.orgId, c.org.leadId, 10_000);
    const b = await openInvoice(c.org.orgId, c.org.leadId, 5_000);
    await payAndSave(c, [a, b], card);
    expect((await setAutopay(c, true)).status).to.equal(303);
    const next = await openInvoice(c.org.orgId, c.org.leadId, 7_500);
    return { ...c, next };
  }

  it('saves the card while paying: one Stripe Customer on the connected account, the card by brand, last four and expiry only', async () => {
    const c = await customer();
    const a = await openInvoice(c.org.orgId, c.org.leadId, 10_000);
    const b = await openInvoice(c.org.orgId, c.org.leadId, 5_000);
    const tab = await app().get(`${c.base}/invoices`);
    expect(tab.text).to.contain('name="save_card"');
    expect(tab.text).to.contain('No card saved');
    await payAndSave(c, [a, b]);

    const created = standIn.requestsTo('POST', '/v1/customers').filter((r) => r.stripeAccount === c.org.accountId);
    expect(created).to.have.length(1);
    expect(created[0].idempotencyKey).to.be.a('string').and.contain(c.org.leadId);
    const checkout = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(checkout.stripeAccount).to.equal(c.org.accountId);
    expect(checkout.params.customer).to.equal(standIn.customers(c.org.accountId)[0].id);
    expect((checkout.params.payment_intent_data as Record<string, string>).setup_future_usage).to.equal('off_session');
    expect(checkout.params.customer_email).to.equal(undefined);

    const [row] = await customerRows(c);
    expect(row).to.include({ card_brand: 'visa', card_last4: '4242', card_exp_month: 12, card_exp_year: 2034 });
    expect(JSON.stringify(row)).not.to.contain(TEST_CARDS.visa);
    // Both invoices are paid as before (the saved card rides along with the normal payment).
    expect((await invoiceState(c.org.orgId, a)).status).to.equal('paid');

    // Paying again with the card saved again makes no second Customer, and the card saved before is
    // detached at Stripe: only the card the portal shows stays chargeable.
    const first = String(row.payment_method_id);
    const d = await openInvoice(c.org.orgId, c.org.leadId, 2_000);
    const e = await openInvoice(c.org.orgId, c.org.leadId, 3_000);
    const second = await payAndSave(c, [d, e], TEST_CARDS.mastercard);
    expect(standIn.requestsTo('POST', '/v1/customers').filter((r) => r.stripeAccount === c.org.accountId)).to.have.length(1);
    const rows = await customerRows(c);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ card_brand: 'mastercard', card_last4: '4444' });
    expect(rows[0].payment_method_id).not.to.equal(first);
    expect(standIn.paymentMethod(c.org.accountId, first).customer).to.equal(null);
    expect(standIn.paymentMethod(c.org.accountId, String(rows[0].payment_method_id)).customer).to.equal(
      standIn.customers(c.org.accountId)[0].id,
    );
    // The same event delivered again detaches nothing more and keeps the new card.
    expect((await deliver(standIn.event('checkout.session.completed', second, c.org.accountId))).status).to.equal(200);
    expect(standIn.paymentMethod(c.org.accountId, String(rows[0].payment_method_id)).customer).to.equal(
      standIn.customers(c.org.accountId)[0].id,
    );
    expect((await customerRows(c))[0]).to.include({ payment_method_id: rows[0].payment_method_id });

    const page = await app().get(`${c.base}/invoices`);
    expect(page.text).to.match(/Mastercard<\/strong> ending in <strong>4444<\/strong> · expires 12\/34/);
    // Paying another invoice offers to put the new card in place of the saved one, naming it.
    const f = await openInvoice(c.org.orgId, c.org.leadId, 1_500);
    const invoicePage = (await app().get(`${c.base}/invoices/${f}`)).text;
    expect(invoicePage).to.contain('Save the card I pay with now in place of my Mastercard ending in 4444');
    expect(invoicePage).not.to.contain('for next time and for automatic payments');
    expect(page.text).to.contain('Pay new invoices automatically on their due date');
  });

  it('a Checkout that did not save the card, or whose card Stripe did not attach, keeps the card saved before', async () => {
    const c = await customer();
    await payAndSave(c, [await openInvoice(c.org.orgId, c.org.leadId, 4_000)]);
    const [saved] = await customerRows(c);
    const cardBefore = String(saved.payment_method_id);
    const stripeCustomer = standIn.customers(c.org.accountId)[0].id;
    const stillSaved = async () => {
      expect(standIn.paymentMethod(c.org.accountId, cardBefore).customer).to.equal(stripeCustomer);
      expect((await customerRows(c))[0]).to.include({ payment_method_id: cardBefore, card_last4: '4242' });
    };

    // Paid without "Save my card": no card is even looked at.
    const cardReads = () => standIn.requestsTo('GET', '/v1/payment_methods/').filter((r) => r.stripeAccount === c.org.accountId).length;
    const readsBefore = cardReads();
    await payAndSave(c, [await openInvoice(c.org.orgId, c.org.leadId, 2_000)], TEST_CARDS.mastercard, false);
    await stillSaved();
    expect(cardReads()).to.equal(readsBefore);

    // Asked to save, but Stripe left the new card unattached (as when the saving step doesn't happen).
    const res = await app()
      .post(`${c.base}/invoices/pay`)
      .type('form')
      .send({
        _csrf: portalFormToken(c.link.id),
        invoice_ids: [await openInvoice(c.org.orgId, c.org.leadId, 3_000)],
        tip_choice: 'none',
        save_card: 'on',
      });
    expect(res.status).to.equal(303);
    const sessionId = res.headers.location.split('/').at(-1)!;
    delete standIn.session(c.org.accountId, sessionId)._payment_intent_data.setup_future_usage;
    const { session } = standIn.completeCheckout(c.org.accountId, sessionId, { card: TEST_CARDS.mastercard });
    expect((await deliver(standIn.event('checkout.session.completed', session, c.org.accountId))).status).to.equal(200);
    await stillSaved();
    expect(standIn.requestsTo('POST', '/v1/payment_methods').filter((r) => r.stripeAccount === c.org.accountId)).to.deep.equal([]);
  });

  it("saves the card from a single invoice's Pay form too", async () => {
    const c = await customer();
    const a = await openInvoice(c.org.orgId, c.org.leadId, 10_000);
    const page = await app().get(`${c.base}/invoices/${a}`);
    expect(page.text).to.contain('name="save_card"');
    const res = await app()
      .post(`${c.base}/invoices/${a}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(c.link.id), amount: '100.00', save_card: 'on' });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    const checkout = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(checkout.params.customer).to.equal(standIn.customers(c.org.accountId)[0].id);
    expect((checkout.params.payment_intent_data as Record<string, string>).setup_future_usage).to.equal('off_session');
    const { session } = standIn.completeCheckout(c.org.accountId, res.headers.location.split('/').at(-1)!, { card: '5555555555554444' });
    expect((await deliver(standIn.event('checkout.session.completed', session, c.org.accountId))).status).to.equal(200);
    expect((await customerRows(c))[0]).to.include({ card_brand: 'mastercard', card_last4: '4444' });
    expect((await invoiceState(c.org.orgId, a)).status).to.equal('paid');
  });

  it('creates the Stripe Customer once when two payments ask for it at the same time', async () => {
    const c = await customer();
    const ids = await Promise.all(
      [0, 1, 2].map(() => withOrg(c.org.orgId, (db) => ensureStripeCustomer(db, getStripe(), c.org.leadId, c.org.accountId))),
    );
    expect(new Set(ids).size).to.equal(1);
    expect(standIn.customers(c.org.accountId)).to.have.length(1);
    expect(await customerRows(c)).to.have.length(1);
  });

  it('charges a due invoice off-session once, on the connected account with a key per attempt, recorded once by every path', async () => {
    const c = await withAutopay();
    expect((await app().get(`${c.base}/invoices/${c.next}`)).text).to.contain('Automatic payments are on');
    // Not yet due: nothing.
    await run(dayAfter(-1));
    expect(paymentIntentCalls(c)).to.have.length(0);

    await run(DUE_DAY);
    const calls = paymentIntentCalls(c);
    expect(calls).to.have.length(1);
    expect(calls[0].params).to.deep.include({ amount: '7500', currency: 'usd', off_session: 'true', confirm: 'true' });
    expect(calls[0].params.customer).to.equal(standIn.customers(c.org.accountId)[0].id);
    expect(calls[0].idempotencyKey).to.equal(`autopay-${c.next}-20261204`);
    expect(calls[0].params.application_fee_amount, 'no fee on a plan without one').to.equal(undefined);
    const state = await invoiceState(c.org.orgId, c.next);
    expect(state.status).to.equal('paid');
    expect(state.payments).to.have.length(1);
    const piId = state.payments[0].stripe_payment_intent_id!;
    expect((await attempts(c)).map((x) => [x.status, x.stripe_payment_intent_id])).to.deep.equal([['succeeded', piId]]);

    // The signed webhook and reconciliation see the same PaymentIntent: still one payment.
    const pi = standIn.paymentIntent(c.org.accountId, piId);
    expect((await deliver(standIn.event('payment_intent.succeeded', pi, c.org.accountId))).status).to.equal(200);
    await reconcileAll({ orgIds: [c.org.orgId] });
    expect((await invoiceState(c.org.orgId, c.next)).payments).to.have.length(1);

    // Runs later that day and the next day charge nothing again.
    await run(new Date(DUE_DAY.getTime() + 3_600_000));
    await run(dayAfter(1));
    expect(paymentIntentCalls(c)).to.have.length(1);
    expect(await attempts(c)).to.have.length(1);
  });

  it('records a charge whose webhook arrived first exactly once', async () => {
    const c = await withAutopay();
    // The webhook wins the race: simulate it by charging, then delivering before a second (no-op) run.
    await run(DUE_DAY);
    const [payment] = (await invoiceState(c.org.orgId, c.next)).payments;
    const pi = standIn.paymentIntent(c.org.accountId, payment.stripe_payment_intent_id!);
    for (let i = 0; i < 2; i += 1) await deliver(standIn.event('payment_intent.succeeded', pi, c.org.accountId));
    expect((await invoiceState(c.org.orgId, c.next)).payments).to.have.length(1);
  });

  for (const [name, card, code, reason] of [
    ['a declined card', TEST_CARDS.declined, 'card_declined', 'your card was declined'],
    ['a card that needs authentication', TEST_CARDS.authenticationRequired, 'authentication_required', 'your bank asked you to confirm'],
  ] as const) {
    it(`${name}: the attempt fails, the customer is emailed and texted a Pay link, and the invoice shows it`, async () => {
      const c = await withAutopay(card);
      const result = await run(DUE_DAY);
      expect(result.deliveries.filter((d) => d.orgId === c.org.orgId)).to.have.length(2);
      expect((await attempts(c)).map((x) => [x.status, x.failure_code])).to.deep.equal([['failed', code]]);
      expect((await invoiceState(c.org.orgId, c.next)).status).to.equal('open');

      const messages = await withOrg(c.org.orgId, (db) =>
        db('message_deliveries')
          .where({ purpose: 'autopay' })
          .orderBy('channel')
          .select<{ channel: string; body_text: string; body_html: string | null; portal_link_id: string; status: string }[]>(
            'channel',
            'body_text',
            'body_html',
            'portal_link_id',
            'status',
          ),
      );
      expect(messages.map((m) => m.channel)).to.deep.equal(['email', 'sms']);
      // The customer's message history names what they were: autopay notices, not invoices sent.
      const history = await withOrg(c.org.orgId, (db) => leadDeliveries(db, c.org.leadId));
      expect(history.filter((h) => h.purpose === 'autopay').map((h) => h.contextLabel)).to.deep.equal([
        'Automatic payment failed',
        'Automatic payment failed',
      ]);
      for (const m of messages) {
        expect(m.body_text).to.contain(`${PORTAL_LINK_PLACEHOLDER}/invoices/${c.next}`);
        expect(m.body_text).to.contain(reason);
        expect(m.portal_link_id).to.equal(c.link.id);
        expect(m.status).to.equal('pending');
      }
      // The email is the business's branded one, its Pay link the layout's button.
      const html = messages[0].body_html ?? '';
      expect(html).to.contain('class="brand-header"').and.contain(reason);
      expect(html).to.contain(`<a href="${PORTAL_LINK_PLACEHOLDER}/invoices/${c.next}" class="portal-button"`);
      expect(html).to.match(/>Pay invoice #\d+<\/a>/);
      expect(messages[1].body_html).to.equal(null);

      const page = await app().get(`${c.base}/invoices/${c.next}`);
      expect(page.text).to.contain('Automatic payment failed');
      expect(page.text).to.contain(reason);
      expect(page.text).to.contain(`${c.base}/invoices/${c.next}/pay`);

      // Once per day: a second run the same day neither charges nor writes again; the next day tries again.
      await run(new Date(DUE_DAY.getTime() + 3_600_000));
      expect(paymentIntentCalls(c)).to.have.length(1);
      await run(dayAfter(1));
      expect(paymentIntentCalls(c)).to.have.length(2);
      expect(new Set(paymentIntentCalls(c).map((r) => r.idempotencyKey)).size).to.equal(2);
      await run(dayAfter(2));
      await run(dayAfter(3));
      // At most three days of attempts.
      expect(paymentIntentCalls(c)).to.have.length(3);
    });
  }

  it('shows a failed attempt on the dashboard invoice page', async () => {
    const c = await withAutopay(TEST_CARDS.declined);
    await run(DUE_DAY);
    const agent = supertest.agent(testApp());
    const login = await agent.get('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1];
    await agent.post('/login').type('form').send({ _csrf: csrf, email: c.org.email, password: c.org.password });
    const page = await agent.get(`/invoices/${c.next}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Autopay failed on');
    expect(page.text).to.contain('card_declined');
  });

  it('a charge left without an answer is retried with the same idempotency key, and charged once', async () => {
    const c = await withAutopay();
    // A run claimed the attempt and died before charging.
    await storeClaimedAttempt(c, c.next, 7_500);
    await run(new Date(DUE_DAY.getTime() + 60_000));
    expect(paymentIntentCalls(c)).to.have.length(0); // still fresh: another run may be charging it
    await run(new Date(DUE_DAY.getTime() + 20 * 60_000));
    expect(paymentIntentCalls(c).map((r) => r.idempotencyKey)).to.deep.equal([`autopay-${c.next}-20261204`]);
    expect((await invoiceState(c.org.orgId, c.next)).payments).to.have.length(1);
  });

  it("takes the plan's platform fee, fixed when the attempt is claimed: a retry asks for the fee its first try did", async () => {
    const saved = PLANS.pro.platformFeeBps;
    PLANS.pro.platformFeeBps = 250; // 2.5 %
    try {
      const c = await withAutopay();
      await run(DUE_DAY);
      const [call] = paymentIntentCalls(c);
      // 7,500 × 2.5 % = 187.5: rounded down, as a Checkout payment's fee is.
      expect(platformFeeCents(PLANS.pro, 7_500)).to.equal(187);
      expect(call.params).to.deep.include({ amount: '7500', application_fee_amount: '187' });
      expect(await withOrg(c.org.orgId, (db) => db('autopay_attempts').pluck('application_fee_cents'))).to.deep.equal([187]);

      // An attempt claimed at another fee and left unanswered is charged again at that fee, whatever the plan's is now.
      const later = await openInvoice(c.org.orgId, c.org.leadId, 4_000);
      await storeClaimedAttempt(c, later, 4_000, { application_fee_cents: 40 });
      await run(new Date(DUE_DAY.getTime() + 20 * 60_000));
      const retry = paymentIntentCalls(c).at(-1)!;
      expect(retry.idempotencyKey).to.equal(`autopay-${later}-20261204`);
      expect(retry.params).to.deep.include({ amount: '4000', application_fee_amount: '40' });
      expect((await invoiceState(c.org.orgId, later)).status).to.equal('paid');
    } finally {
      PLANS.pro.platformFeeBps = saved;
    }
  });

  it('refuses to store an attempt whose fee is more than its amount', async () => {
    const c = await withAutopay();
    const err = await storeClaimedAttempt(c, c.next, 7_500, { application_fee_cents: 7_501 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error).with.property('message').that.contains('autopay_attempts_fee');
    expect(await attempts(c)).to.deep.equal([]);
  });

  describe('stops every later charge', () => {
    it('when the customer turns autopay off', async () => {
      const c = await withAutopay();
      expect((await setAutopay(c, false)).status).to.equal(303);
      expect((await app().get(`${c.base}/invoices`)).text).to.contain('Automatic payments are off');
      await run(DUE_DAY);
      expect(paymentIntentCalls(c)).to.have.length(0);
    });

    it('when the customer removes the card (detached at Stripe, forgotten here)', async () => {
      const c = await withAutopay();
      const [before] = await customerRows(c);
      const res = await app()
        .post(`${c.base}/card/remove`)
        .type('form')
        .send({ _csrf: portalFormToken(c.link.id) });
      expect(res.status).to.equal(303);
      const detach = standIn.requestsTo('POST', `/v1/payment_methods/${String(before.payment_method_id)}/detach`);
      expect(detach).to.have.length(1);
      expect(detach[0].stripeAccount).to.equal(c.org.accountId);
      expect(standIn.paymentMethod(c.org.accountId, String(before.payment_method_id)).customer).to.equal(null);
      // No card of this customer is left attached at Stripe.
      expect(standIn.customerPaymentMethods(c.org.accountId, String(before.stripe_customer_id))).to.deep.equal([]);
      const [after] = await customerRows(c);
      expect(after).to.include({ payment_method_id: null, card_last4: null, autopay_enabled_at: null });
      expect((await app().get(`${c.base}/invoices`)).text).to.contain('No card saved');
      await run(DUE_DAY);
      expect(paymentIntentCalls(c)).to.have.length(0);
    });

    it('when the contractor revokes the link autopay was turned on through', async () => {
      const c = await withAutopay();
      await withOrg(c.org.orgId, (db) => revokePortalLink(db, c.link.id, { type: 'user', userId: c.org.userId }));
      await run(DUE_DAY);
      expect(paymentIntentCalls(c)).to.have.length(0);
    });

    it('when the business moves to a plan without autopay', async () => {
      const c = await withAutopay();
      await withOrg(c.org.orgId, (db) => db('organizations').where({ id: c.org.orgId }).update({ plan: 'starter' }));
      await run(DUE_DAY);
      expect(paymentIntentCalls(c)).to.have.length(0);
    });
  });

  it('is Pro only: other plans see no card panel or "save my card", and turning autopay on is refused', async () => {
    const c = await customer('starter');
    const a = await openInvoice(c.org.orgId, c.org.leadId, 10_000);
    await openInvoice(c.org.orgId, c.org.leadId, 5_000);
    const tab = await app().get(`${c.base}/invoices`);
    expect(tab.text).to.contain('Pay several invoices at once');
    expect(tab.text).not.to.contain('name="save_card"');
    expect(tab.text).not.to.contain('Saved card and automatic payments');
    expect((await setAutopay(c, true)).status).to.equal(403);
    // A forged "save my card" creates no Stripe Customer.
    await payAndSave(c, [a]);
    expect(standIn.customers(c.org.accountId)).to.have.length(0);
    expect(await customerRows(c)).to.have.length(0);
  });

  it('refuses an autopay form without a valid form token or with a bad value', async () => {
    const c = await withAutopay();
    const expired = await app().post(`${c.base}/autopay`).type('form').send({ _csrf: 'nope', autopay: 'off' });
    expect(expired.status).to.equal(403);
    const bad = await app()
      .post(`${c.base}/autopay`)
      .type('form')
      .send({ _csrf: portalFormToken(c.link.id), autopay: 'maybe' });
    expect(bad.status).to.equal(400);
    expect((await customerRows(c))[0].autopay_enabled_at).not.to.equal(null);
  });
});
