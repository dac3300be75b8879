// Paying several invoices at once (issue 15): the Invoices tab ticks every open
// invoice, one Checkout Session pays the ticked ones, and the payment is split
// across them deterministically and recorded exactly once per invoice — by
// signed webhooks in any order or by reconciliation — all of it or none.
import { expect } from 'chai';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { testApp } from '../support/http.js';
import { createTestLead } from '../support/factories.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import {
  connectedOrg,
  countRows,
  deliver,
  invoiceState,
  openInvoice,
  startStandIn,
  stopStandIn,
  type ConnectedOrg,
} from './stripe-fixtures.js';

const app = () => supertest(testApp());

interface SplitPaymentRow {
  id: string;
  invoice_id: string;
  amount_cents: number;
  split_index: number;
  stripe_payment_intent_id: string;
  stripe_checkout_session_id: string | null;
}

const paymentsOf = (org: ConnectedOrg, paymentIntentId: string) =>
  withOrg(org.orgId, (db) =>
    db('payments')
      .where({ stripe_payment_intent_id: paymentIntentId })
      .orderBy('split_index')
      .select<SplitPaymentRow[]>(
        'id',
        'invoice_id',
        'amount_cents',
        'split_index',
        'stripe_payment_intent_id',
        'stripe_checkout_session_id',
      ),
  );

describe('Pay several invoices at once (Stripe Connect)', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));
  beforeEach(resetPortalMisses);

  /** Three open invoices (100.00, 40.00 partly paid down to 25.00, 60.00) and a portal link. */
  async function setup(org: ConnectedOrg) {
    const a = await openInvoice(org.orgId, org.leadId, 10_000);
    const b = await openInvoice(org.orgId, org.leadId, 4_000);
    const c = await openInvoice(org.orgId, org.leadId, 6_000);
    // b was partly paid by hand (a real payment row, so balances recompute to the same figure).
    await withOrg(org.orgId, async (db) => {
      await db('payments').insert({
        org_id: org.orgId,
        lead_id: org.leadId,
        invoice_id: b,
        amount_cents: 1_500,
        currency: 'USD',
        method: 'cash',
      });
      await db('invoices').where({ id: b }).update({ status: 'partially_paid', amount_paid_cents: 1_500 });
    });
    const link = await linkFor(org.orgId, org.leadId);
    return { a, b, c, link, list: `/p/${link.token}/invoices` };
  }

  /** The customer ticks these invoices and pays; returns the completed session at the stand-in. */
  async function paySeveral(org: ConnectedOrg, list: string, linkId: string, invoiceIds: string[]) {
    const res = await app()
      .post(`${list}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(linkId), invoice_ids: invoiceIds });
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    const sessionId = res.headers.location.split('/').at(-1)!;
    return standIn.completeCheckout(org.accountId, sessionId);
  }

  it('the Invoices tab ticks every open invoice and pays the ticked ones in one Checkout Session, split by invoice', async () => {
    const org = await connectedOrg(standIn);
    const { a, b, c, link, list } = await setup(org);
    const page = await app().get(list);
    expect(page.text).to.contain('Pay several invoices at once');
    expect(page.text).to.contain('come to <strong>$185.00</strong>');
    for (const id of [a, b, c]) {
      expect(page.text).to.match(new RegExp(`name="invoice_ids" value="${id}" form="pay-several" data-amount-cents="\\d+" checked`));
    }
    // The customer unticks c.
    const res = await app()
      .post(`${list}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(link.id), invoice_ids: [b, a] });
    expect(res.status).to.equal(303);
    const session = standIn.session(org.accountId, res.headers.location.split('/').at(-1)!);
    expect(session.amount_total).to.equal(12_500);
    const request = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(request.stripeAccount).to.equal(org.accountId);
    const split = await withOrg(org.orgId, (db) =>
      db('checkout_session_invoices')
        .orderBy('position')
        .select<{ invoice_id: string; amount_cents: number; position: number }[]>('invoice_id', 'amount_cents', 'position'),
    );
    // Deterministic: invoice-number order, each invoice's whole balance.
    expect(split).to.deep.equal([
      { invoice_id: a, amount_cents: 10_000, position: 0 },
      { invoice_id: b, amount_cents: 2_500, position: 1 },
    ]);
  });

  const orders: string[][] = [
    ['completed', 'succeeded'],
    ['succeeded', 'completed'],
    ['completed', 'completed', 'succeeded'],
    ['succeeded', 'succeeded', 'completed', 'completed'],
  ];
  for (const order of orders) {
    it(`records one payment per invoice from signed webhooks, ${order.join(' → ')}`, async () => {
      const org = await connectedOrg(standIn);
      const { a, b, c, link, list } = await setup(org);
      const { session, paymentIntent } = await paySeveral(org, list, link.id, [a, b, c]);
      const events = {
        completed: standIn.event('checkout.session.completed', session, org.accountId),
        succeeded: standIn.event('payment_intent.succeeded', paymentIntent, org.accountId),
      };
      for (const name of order) expect((await deliver(events[name as keyof typeof events])).status).to.equal(200);
      const rows = await paymentsOf(org, paymentIntent.id);
      expect(rows.map((r) => [r.invoice_id, r.amount_cents, r.split_index])).to.deep.equal([
        [a, 10_000, 0],
        [b, 2_500, 1],
        [c, 6_000, 2],
      ]);
      expect(rows.every((r) => r.stripe_checkout_session_id === session.id)).to.equal(true);
      // Each invoice paid has its receipt, once, however the events arrived.
      const receipts = await withOrg(org.orgId, (db) =>
        db('message_deliveries')
          .where({ purpose: 'receipt' })
          .whereIn(
            'payment_id',
            rows.map((r) => r.id),
          )
          .pluck<string[]>('payment_id'),
      );
      expect(receipts.sort()).to.deep.equal(rows.map((r) => r.id).sort());
      for (const id of [a, b, c]) expect((await invoiceState(org.orgId, id)).status).to.equal('paid');
      const after = await app().get(list);
      expect(after.text).not.to.contain('Pay several invoices at once');
    });
  }

  it('over more than one page, the form says it pays this page’s open invoices, not all of them', async () => {
    const org = await connectedOrg(standIn);
    const { a, list } = await setup(org);
    for (let i = 0; i < 23; i += 1) await openInvoice(org.orgId, org.leadId, 1_000);
    const page = (await app().get(list)).text;
    expect(page).to.contain('The 25 open invoices on this page come to <strong>');
    expect(page).to.contain('Open invoices on other pages of this list are paid from their own page.');
    expect(page).to.not.contain('Your 25 open invoices');
    // Paid ones beyond the page are no reason to say so: with every invoice on other pages paid, the usual words.
    await withOrg(org.orgId, (db) =>
      db('invoices')
        .where({ lead_id: org.leadId, total_cents: 1_000 })
        .orWhere({ id: a })
        .update({ status: 'paid', amount_paid_cents: db.ref('total_cents') }),
    );
    const settled = (await app().get(list)).text;
    expect(settled).to.contain('Your 2 open invoices come to').and.not.to.contain('other pages');
  });

  it('reconciliation records a lost multi-invoice payment once; the late webhook adds nothing', async () => {
    const org = await connectedOrg(standIn);
    const { a, c, link, list } = await setup(org);
    const { session, paymentIntent } = await paySeveral(org, list, link.id, [a, c]);
    expect(await reconcileAll({ orgIds: [org.orgId] })).to.deep.include({ failed: 0, payments: 1 });
    expect((await paymentsOf(org, paymentIntent.id)).map((r) => r.amount_cents)).to.deep.equal([10_000, 6_000]);
    expect(await reconcileAll({ orgIds: [org.orgId] })).to.deep.include({ payments: 0 });
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    expect(await paymentsOf(org, paymentIntent.id)).to.have.length(2);
    expect((await invoiceState(org.orgId, a)).status).to.equal('paid');
    expect((await invoiceState(org.orgId, c)).status).to.equal('paid');
  });

  it('never half-applies: when one invoice can no longer take its part, none is recorded and the money is kept as unapplied', async () => {
    const org = await connectedOrg(standIn);
    const { a, b, link, list } = await setup(org);
    const { session, paymentIntent } = await paySeveral(org, list, link.id, [a, b]);
    // Meanwhile b was paid by hand: its part no longer fits.
    await withOrg(org.orgId, (db) => db('invoices').where({ id: b }).update({ status: 'paid', amount_paid_cents: 4_000 }));
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    expect(await reconcileAll({ orgIds: [org.orgId] })).to.deep.include({ failed: 0, payments: 0 });
    expect(await paymentsOf(org, paymentIntent.id)).to.have.length(0);
    expect(await invoiceState(org.orgId, a)).to.deep.include({ status: 'open', amount_paid_cents: 0 });
    const unapplied = await withOrg(org.orgId, (db) =>
      db('stripe_unapplied_payments').select<
        { stripe_payment_intent_id: string; amount_cents: number; invoice_id: string; reason: string }[]
      >('stripe_payment_intent_id', 'amount_cents', 'invoice_id', 'reason'),
    );
    expect(unapplied).to.deep.equal([
      { stripe_payment_intent_id: paymentIntent.id, amount_cents: 12_500, invoice_id: b, reason: 'overpayment' },
    ]);
  });

  it('refuses bad input with a 4xx and creates nothing: none ticked, not an id, another customer’s invoice, a paid one, no online payment', async () => {
    const org = await connectedOrg(standIn);
    const { a, link, list } = await setup(org);
    const other = await createTestLead(org.orgId);
    const theirs = await openInvoice(org.orgId, other.id, 5_000);
    const paid = await openInvoice(org.orgId, org.leadId, 5_000);
    await withOrg(org.orgId, (db) => db('invoices').where({ id: paid }).update({ status: 'paid', amount_paid_cents: 5_000 }));
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    const sessionsBefore = await countRows(org.orgId, 'checkout_sessions');
    const post = (invoiceIds?: unknown) =>
      app()
        .post(`${list}/pay`)
        .type('form')
        .send({ _csrf: portalFormToken(link.id), ...(invoiceIds === undefined ? {} : { invoice_ids: invoiceIds }) });
    const none = await post();
    expect(none.status).to.equal(422);
    expect(none.text).to.contain('Tick at least one invoice to pay');
    expect((await post(['not-a-uuid'])).status).to.equal(422);
    const foreign = await post([a, theirs]);
    expect(foreign.status).to.equal(422);
    expect(foreign.text).to.contain('Choose invoices from your list');
    expect((await post([a, paid])).status).to.equal(409);
    const forged = await app()
      .post(`${list}/pay`)
      .type('form')
      .send({ _csrf: 'forged', invoice_ids: [a] });
    expect(forged.status).to.equal(403);
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
    expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(sessionsBefore);

    const free = await connectedOrg(standIn, { plan: 'free' });
    const freeSetup = await setup(free);
    expect((await app().get(freeSetup.list)).text).not.to.contain('Pay several invoices at once');
    const refused = await app()
      .post(`${freeSetup.list}/pay`)
      .type('form')
      .send({ _csrf: portalFormToken(freeSetup.link.id), invoice_ids: [freeSetup.a, freeSetup.c] });
    expect(refused.status).to.equal(403);
    expect(await countRows(free.orgId, 'checkout_sessions')).to.equal(0);
  });

  describe('tips (organisation setting: off, or suggested percentages plus an amount)', () => {
    it('the owner sets suggested tips in Settings → Payments; bad values are refused (422, nothing written)', async () => {
      const org = await connectedOrg(standIn);
      const { loginAgent } = await import('../support/http.js');
      const agent = await loginAgent(org.email, org.password);
      const tipsOf = async () =>
        (await withOrg(org.orgId, (db) => db('organizations').first<{ tip_percentages: number[] | null }>('tip_percentages')))
          .tip_percentages;
      for (const bad of ['0, 10', '150', '5, 10, 15, 20, 25', '-5', '12.5', 'ten']) {
        const res = await agent.post('/settings/payments/tips').type('form').send({ _csrf: agent.csrf, tip_percentages: bad });
        expect(res.status, bad).to.equal(422);
        expect(res.text, bad).to.contain('Enter up to four whole percentages from 1 to 100');
      }
      expect(await tipsOf()).to.equal(null);
      const ok = await agent.post('/settings/payments/tips').type('form').send({ _csrf: agent.csrf, tip_percentages: '20, 10 15%' });
      expect(ok.status).to.equal(303);
      expect(await tipsOf()).to.deep.equal([10, 15, 20]);
      expect((await agent.get('/settings/payments')).text).to.contain('value="10, 15, 20"');
      await agent.post('/settings/payments/tips').type('form').send({ _csrf: agent.csrf, tip_percentages: '' });
      expect(await tipsOf()).to.equal(null);
    });

    async function withTips(org: ConnectedOrg) {
      await withOrg(org.orgId, (db) =>
        db('organizations')
          .where({ id: org.orgId })
          .update({ tip_percentages: [10, 15, 20] }),
      );
    }

    for (const how of ['webhook', 'reconciliation'] as const) {
      it(`a suggested tip is its own Checkout line, recorded on the payment (${how}) and never on an invoice balance`, async () => {
        const org = await connectedOrg(standIn);
        await withTips(org);
        const { a, c, link, list } = await setup(org);
        const page = await app().get(list);
        expect(page.text).to.contain('Add a tip?');
        expect(page.text).to.contain('15% <span>(<span data-tip-percent="15">$27.75</span>)</span>'); // of 185.00
        const res = await app()
          .post(`${list}/pay`)
          .type('form')
          .send({ _csrf: portalFormToken(link.id), invoice_ids: [a, c], tip_choice: 'p15' });
        expect(res.status).to.equal(303);
        const sessionId = res.headers.location.split('/').at(-1)!;
        expect(standIn.session(org.accountId, sessionId).amount_total).to.equal(16_000 + 2_400);
        const { session, paymentIntent } = standIn.completeCheckout(org.accountId, sessionId);
        if (how === 'webhook') await deliver(standIn.event('checkout.session.completed', session, org.accountId));
        else await reconcileAll({ orgIds: [org.orgId] });
        const rows = await withOrg(org.orgId, (db) =>
          db('payments')
            .where({ stripe_payment_intent_id: paymentIntent.id })
            .orderBy('split_index')
            .select<{ invoice_id: string; amount_cents: number; tip_cents: number }[]>('invoice_id', 'amount_cents', 'tip_cents'),
        );
        expect(rows).to.deep.equal([
          { invoice_id: a, amount_cents: 10_000, tip_cents: 2_400 },
          { invoice_id: c, amount_cents: 6_000, tip_cents: 0 },
        ]);
        expect(await invoiceState(org.orgId, a)).to.deep.include({ status: 'paid', amount_paid_cents: 10_000 });
        expect(await invoiceState(org.orgId, c)).to.deep.include({ status: 'paid', amount_paid_cents: 6_000 });
        const portalPayments = await app().get(`/p/${link.token}/payments`);
        expect(portalPayments.text).to.contain('+ tip $24.00');
        const { loginAgent } = await import('../support/http.js');
        const agent = await loginAgent(org.email, org.password);
        expect((await agent.get('/payments')).text).to.contain('+ tip $24.00');
        expect((await agent.get('/settings/payments')).text).to.contain('+ tip $24.00');
      });
    }

    it('a typed tip; a negative one, an unsuggested percentage, or any tip when tips are off → 422, nothing created', async () => {
      const org = await connectedOrg(standIn);
      await withTips(org);
      const { a, b, link, list } = await setup(org);
      const post = (fields: Record<string, string>, l = list, linkId = link.id, ids = [a, b]) =>
        app()
          .post(`${l}/pay`)
          .type('form')
          .send({ _csrf: portalFormToken(linkId), invoice_ids: ids, ...fields });
      const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
      const sessionsBefore = await countRows(org.orgId, 'checkout_sessions');
      const negative = await post({ tip_choice: 'custom', tip_amount: '-5' });
      expect(negative.status).to.equal(422);
      expect(negative.text).to.contain('Enter a tip of zero or more');
      expect((await post({ tip_choice: 'p50' })).status).to.equal(422);
      expect((await post({ tip_choice: 'lots' })).status).to.equal(422);
      expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
      expect(await countRows(org.orgId, 'checkout_sessions')).to.equal(sessionsBefore);

      const typed = await post({ tip_choice: 'custom', tip_amount: '7.25' });
      expect(typed.status).to.equal(303);
      expect(standIn.session(org.accountId, typed.headers.location.split('/').at(-1)!).amount_total).to.equal(12_500 + 725);

      const off = await connectedOrg(standIn);
      const offSetup = await setup(off);
      expect((await app().get(offSetup.list)).text).not.to.contain('Add a tip?');
      const refused = await post({ tip_choice: 'p10' }, offSetup.list, offSetup.link.id, [offSetup.a, offSetup.b]);
      expect(refused.status).to.equal(422);
      expect(refused.text).to.contain('does not take tips online');
      expect(await countRows(off.orgId, 'checkout_sessions')).to.equal(0);
    });
  });
});
