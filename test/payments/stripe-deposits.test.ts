// Deposits on approval (issue 13): approving a proposal that asks a deposit goes
// straight to Stripe Checkout on the connected account; the deposit is recorded
// once (webhook in either order, or reconciliation when the webhook is lost),
// waits on the proposal until an invoice exists, and the invoice credits it.
import { expect } from 'chai';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import type { ProposalRow } from '../../src/db/rows.js';
import { parseForm } from '../../src/lib/forms.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import { createInvoiceFromProposal, issueInvoice } from '../../src/invoices/commands.js';
import { reconcileAll } from '../../src/payments/stripe/reconcile.js';
import { recordRefund } from '../../src/payments/manual.js';
import { HttpError } from '../../src/lib/errors.js';
import { translate } from '../../src/i18n/index.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import type { StandInCharge, StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { loginAgent, testApp } from '../support/http.js';
import { getDb } from '../../src/db/knex.js';
import { createTestLead } from '../support/factories.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { holdOpen, waitsOn } from '../support/locks.js';
import { connectedOrg, deliver, invoiceState, startStandIn, stopStandIn, type ConnectedOrg } from './stripe-fixtures.js';

const app = () => supertest(testApp());

function formToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

const actorOf = (org: ConnectedOrg): Actor => ({ type: 'user', userId: org.userId, label: org.email });

/** A sent proposal of 1,000.00 (no tax) asking the given deposit. */
async function pendingProposal(org: ConnectedOrg, deposit: Record<string, string>, leadId = org.leadId): Promise<ProposalRow> {
  return withOrg(org.orgId, async (db) => {
    const input = parseForm(proposalFormSchema('USD'), {
      lead_id: leadId,
      title: 'New roof',
      tax_rate: '0',
      items: [{ service: 'Roof', quantity: '1', unit_price: '1000' }],
      ...deposit,
    });
    const created = await createProposal(db, input, actorOf(org), 'USD');
    return (await markProposalSent(db, created.id, actorOf(org))).proposal;
  });
}

/** The customer approves in the portal; returns the response (a redirect to Checkout when a deposit is due). */
async function approveInPortal(org: ConnectedOrg, proposalId: string) {
  const link = await linkFor(org.orgId, org.leadId);
  const { token } = link;
  const page = `/p/${token}/proposals/${proposalId}`;
  const view = await app().get(page);
  expect(view.status).to.equal(200);
  const sha = /name="contentSha256" value="([0-9a-f]{64})"/.exec(view.text)![1];
  const res = await app()
    .post(`${page}/approve`)
    .type('form')
    .send({ _csrf: formToken(view.text), contentSha256: sha, approverName: 'Pat Owner', agree: 'yes' });
  return { res, page, token, view, linkId: link.id };
}

const proposalRow = (org: ConnectedOrg, id: string) => withOrg(org.orgId, (db) => db('proposals').where({ id }).first<ProposalRow>());

interface DepositPaymentView {
  id: string;
  amount_cents: number;
  invoice_id: string | null;
  proposal_id: string | null;
  stripe_payment_intent_id: string;
  stripe_checkout_session_id: string | null;
}

/** The money received for a proposal's deposit, oldest first: its payments, not the refunds of them (their own rows, same intent). */
const depositPayments = (org: ConnectedOrg, proposalId: string) =>
  withOrg(org.orgId, (db) =>
    db('payments')
      .where({ proposal_id: proposalId, kind: 'payment' })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select<DepositPaymentView[]>(
        'id',
        'amount_cents',
        'invoice_id',
        'proposal_id',
        'stripe_payment_intent_id',
        'stripe_checkout_session_id',
      ),
  );

describe('Deposits on approval (Stripe Connect)', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));
  beforeEach(resetPortalMisses);

  /** Approve a 25 % deposit proposal in the portal; the customer pays at the stand-in. */
  async function approvedAndPaid(org: ConnectedOrg) {
    const proposal = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '25' });
    const { res, page, linkId } = await approveInPortal(org, proposal.id);
    expect(res.status).to.equal(303);
    const sessionId = /\/c\/pay\/(cs_test_\w+)/.exec(res.headers.location)![1];
    const paid = standIn.completeCheckout(org.accountId, sessionId);
    return { proposal, page, linkId, sessionId, ...paid };
  }

  it('approving goes straight to Checkout for the deposit, computed from the approved total, on the connected account', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '25' });
    const { res, view } = await approveInPortal(org, proposal.id);
    expect(view.text).to.contain('A deposit of <strong>$250.00</strong> (25%) is due on approval');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.match(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const row = await proposalRow(org, proposal.id);
    expect(row.status).to.equal('approved');
    expect(Number(row.deposit_cents)).to.equal(25_000);
    const created = standIn.requestsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(created.stripeAccount).to.equal(org.accountId);
    expect(created.params).to.deep.include({
      metadata: { org_id: org.orgId, proposal_id: proposal.id, lead_id: org.leadId, purpose: 'deposit' },
    });
    expect(created.idempotencyKey).to.match(new RegExp(`^deposit:${org.orgId}:${proposal.id}:`));
    const session = withOrg(org.orgId, (db) =>
      db('checkout_sessions').where({ proposal_id: proposal.id }).first<{ amount_cents: number; invoice_id: string | null }>(),
    );
    expect(await session).to.deep.include({ amount_cents: 25_000, invoice_id: null });

    // The business's page says how the deposit can be paid, as things stand.
    const agent = await loginAgent(org.email, org.password);
    const dashboard = async () => (await agent.get(`/proposals/${proposal.id}`)).text;
    expect(await dashboard())
      .to.contain('The customer owes a deposit of $250.00.')
      .and.to.contain('They can pay it by card from their portal.');
    await getDb()('organizations').where({ id: org.orgId }).update({ stripe_charges_enabled: false });
    const noCard = await dashboard();
    expect(noCard).to.contain('Online payment isn’t set up').and.to.contain('href="/settings/payments"');
    expect(noCard).to.not.contain('They can pay it by card');
    await getDb()('organizations').where({ id: org.orgId }).update({ stripe_charges_enabled: true });
    await agent.post(`/proposals/${proposal.id}/invoice`).type('form').send({ _csrf: agent.csrf }).expect(303);
    expect(await dashboard()).to.contain('An invoice now bills this work: a deposit the customer pays now is recorded on it.');
  });

  it('the deposit is fixed from the row as approved: a total changed after the page was shown changes what is asked', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '10' });
    // Staff approve (phone) after the total became 2,000.00 in the database.
    await withOrg(org.orgId, (db) => db('proposals').where({ id: proposal.id }).update({ subtotal_cents: 200_000, total_cents: 200_000 }));
    const { approveProposal } = await import('../../src/jobs/approve-proposal.js');
    await withOrg(org.orgId, (db) => approveProposal(db, proposal.id, { source: 'staff', approverName: 'Pat' }, actorOf(org)));
    expect(Number((await proposalRow(org, proposal.id)).deposit_cents)).to.equal(20_000);
  });

  it('a deposit changed after the customer opened the proposal refuses the approval (409): nobody agrees to a deposit they never saw', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '10' });
    const link = await linkFor(org.orgId, org.leadId);
    const page = `/p/${link.token}/proposals/${proposal.id}`;
    const view = await app().get(page);
    const sha = /name="contentSha256" value="([0-9a-f]{64})"/.exec(view.text)![1];
    await withOrg(org.orgId, (db) => db('proposals').where({ id: proposal.id }).update({ deposit_value: 5_000 }));
    const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
    const res = await app()
      .post(`${page}/approve`)
      .type('form')
      .send({ _csrf: formToken(view.text), contentSha256: sha, approverName: 'Pat Owner', agree: 'yes' });
    expect(res.status).to.equal(409);
    expect(res.text).to.contain('A deposit of <strong>$500.00</strong> (50%)');
    expect((await proposalRow(org, proposal.id)).status).to.equal('pending');
    expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
  });

  for (const order of [
    ['completed', 'succeeded'],
    ['succeeded', 'completed'],
  ] as const) {
    it(`records the deposit once from signed webhooks (${order.join(' → ')}), then the invoice made from the proposal credits it`, async () => {
      const org = await connectedOrg(standIn);
      const { proposal, page, session, paymentIntent } = await approvedAndPaid(org);
      const events = {
        completed: standIn.event('checkout.session.completed', session, org.accountId),
        succeeded: standIn.event('payment_intent.succeeded', paymentIntent, org.accountId),
      };
      for (const name of order) expect((await deliver(events[name])).status).to.equal(200);
      for (const name of order) expect((await deliver(events[name])).status).to.equal(200); // redelivered
      const rows = await depositPayments(org, proposal.id);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.deep.include({
        amount_cents: 25_000,
        invoice_id: null,
        stripe_payment_intent_id: paymentIntent.id,
        stripe_checkout_session_id: session.id,
      });
      // One receipt for the deposit, saying what it paid for (there is no invoice yet).
      const receipts = await withOrg(org.orgId, (db) =>
        db('message_deliveries').where({ purpose: 'receipt', payment_id: rows[0].id }).select<{ body_text: string }[]>('body_text'),
      );
      expect(receipts).to.have.length(1);
      expect(receipts[0].body_text).to.contain(`$250.00 for the deposit on proposal #${proposal.number}`);
      expect(receipts[0].body_text).to.contain('It will be credited to your invoice.');
      const portal = await app().get(page);
      expect(portal.text).to.contain('Deposit of $250.00 paid');
      expect(portal.text).not.to.contain('Pay deposit');

      // The invoice made from the proposal takes the deposit; issued, it is partially paid.
      const invoice = await withOrg(org.orgId, (db) =>
        createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
      );
      expect(Number(invoice.amount_paid_cents)).to.equal(25_000);
      expect((await depositPayments(org, proposal.id))[0].invoice_id).to.equal(invoice.id);
      const issued = await withOrg(org.orgId, (db) => issueInvoice(db, invoice.id, actorOf(org)));
      expect(issued.invoice.status).to.equal('partially_paid');
      expect(Number(issued.invoice.total_cents) - Number(issued.invoice.amount_paid_cents)).to.equal(75_000);
    });
  }

  it('a deposit refunded before its invoice exists: the refund is kept on the proposal, and the invoice credits only what is left', async () => {
    const org = await connectedOrg(standIn);
    const { proposal, session, paymentIntent, page } = await approvedAndPaid(org);
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    // Not from Porchlight's refund form: a deposit is paid online and refunded through Stripe.
    const [deposit] = await depositPayments(org, proposal.id);
    const byHand = await withOrg(org.orgId, (db) => recordRefund(db, deposit.id, { amountCents: 1_000 }, actorOf(org))).then(
      () => expect.fail('accepted'),
      (err: HttpError) => err,
    );
    expect(byHand.status).to.equal(409);
    expect(translate('en', byHand.message)).to.equal('This payment was made online; refund it through Stripe so the card is credited.');
    // The contractor refunds $100.00 of the $250.00 deposit from Stripe's Dashboard.
    const { charge, refund } = standIn.refund(org.accountId, paymentIntent.id, 10_000);
    expect((await deliver(standIn.event('charge.refunded', charge, org.accountId))).status).to.equal(200);
    const rows = () =>
      withOrg(org.orgId, (db) =>
        db('payments').where({ lead_id: org.leadId }).orderBy('kind').select<
          {
            kind: string;
            amount_cents: number;
            status: string;
            invoice_id: string | null;
            proposal_id: string | null;
            stripe_refund_id: string | null;
          }[]
        >('kind', 'amount_cents', 'status', 'invoice_id', 'proposal_id', 'stripe_refund_id'),
      );
    expect(await rows()).to.deep.equal([
      { kind: 'payment', amount_cents: 25_000, status: 'succeeded', invoice_id: null, proposal_id: proposal.id, stripe_refund_id: null },
      {
        kind: 'refund',
        amount_cents: 10_000,
        status: 'succeeded',
        invoice_id: null,
        proposal_id: proposal.id,
        stripe_refund_id: refund.id,
      },
    ]);
    // Audited on the deposit, naming the proposal it waits on.
    const audit = await withOrg(org.orgId, (db) =>
      db('audit_events')
        .where({ action: 'payment.refunded', subject_id: deposit.id })
        .select<{ subject_type: string; data: Record<string, unknown> }[]>('subject_type', 'data'),
    );
    expect(audit).to.deep.equal([
      {
        subject_type: 'payment',
        data: {
          refund: refund.id,
          payment_intent: paymentIntent.id,
          charge: charge.id,
          amount_cents: 10_000,
          proposal_id: proposal.id,
          source: 'stripe',
        },
      },
    ]);
    // Seen again (a redelivery, a reconciliation run): still one refund.
    expect((await deliver(standIn.event('charge.refunded', charge, org.accountId))).status).to.equal(200);
    expect((await reconcileAll({ orgIds: [org.orgId] })).refunds).to.equal(0);
    expect(await rows()).to.have.length(2);
    // The customer and the business are told what was refunded, and what is left to credit.
    const agent = await loginAgent(org.email, org.password);
    const partRefunded = async () => {
      expect((await app().get(page)).text).to.contain(
        'Deposit of $250.00 paid, of which $100.00 has been refunded. The remaining $150.00 is credited to your invoice.',
      );
      expect((await agent.get(`/proposals/${proposal.id}`)).text).to.contain('Deposit of $250.00 paid; $100.00 of it refunded.');
    };
    await partRefunded();

    // The invoice made from the proposal is credited $150.00, and the refund moves with the deposit.
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
    );
    expect(Number(invoice.amount_paid_cents)).to.equal(15_000);
    const after = await rows();
    expect(after.map((r) => [r.kind, r.invoice_id, r.proposal_id])).to.deep.equal([
      ['payment', invoice.id, proposal.id],
      ['refund', invoice.id, null],
    ]);
    // The refund now sits on the invoice; the proposal's deposit still says it was refunded.
    await partRefunded();
    const issued = await withOrg(org.orgId, (db) => issueInvoice(db, invoice.id, actorOf(org)));
    expect(Number(issued.invoice.total_cents) - Number(issued.invoice.amount_paid_cents)).to.equal(85_000);
  });

  it('a deposit refunded in full before its invoice exists is not credited to it', async () => {
    const org = await connectedOrg(standIn);
    const { proposal, session, paymentIntent, page } = await approvedAndPaid(org);
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    const { charge } = standIn.refund(org.accountId, paymentIntent.id);
    expect((await deliver(standIn.event('charge.refunded', charge, org.accountId))).status).to.equal(200);
    const deposit = (await depositPayments(org, proposal.id)).find(
      (p) => p.stripe_payment_intent_id === paymentIntent.id && p.amount_cents === 25_000,
    );
    const status = await withOrg(org.orgId, (db) => db('payments').where({ id: deposit!.id }).first<{ status: string }>('status'));
    expect(status.status).to.equal('refunded');
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
    );
    expect(Number(invoice.amount_paid_cents)).to.equal(0);
    // Neither the customer nor the business reads that the deposit is credited, nor is the customer asked to pay it again.
    const portal = await app().get(page);
    expect(portal.text).to.contain('Your deposit of $250.00 has been refunded in full.');
    expect(portal.text).not.to.contain('credited to your invoice');
    expect(portal.text).not.to.contain('Deposit due');
    const dash = await (await loginAgent(org.email, org.password)).get(`/proposals/${proposal.id}`);
    expect(dash.text).to.contain('Deposit of $250.00 paid and refunded in full. Nothing of it is credited to an invoice.');
    expect(dash.text).not.to.contain('It is credited to');
  });

  /**
   * The contractor makes the invoice from a proposal whose $250.00 deposit is paid (its transaction holds the proposal)
   * while Stripe reports a $100.00 refund of it, through `report`. Returns what `report` answered, once it had to wait.
   */
  async function refundWhileInvoicing<T>(org: ConnectedOrg, report: (charge: StandInCharge) => Promise<T>) {
    const { proposal, session, paymentIntent } = await approvedAndPaid(org);
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    const making = holdOpen(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
    );
    const { pid, result: invoice } = await making.ready;
    const { charge, refund } = standIn.refund(org.accountId, paymentIntent.id, 10_000);
    const reported = report(charge);
    const seen = await waitsOn(pid, reported);
    making.release();
    await making.done;
    expect(seen, 'the refund waits for the invoice').to.equal('waiting');
    const state = async () => ({
      refunds: await withOrg(org.orgId, (db) =>
        db('payments')
          .where({ stripe_refund_id: refund.id })
          .select<{ invoice_id: string | null; proposal_id: string | null }[]>('invoice_id', 'proposal_id'),
      ),
      paid: (await invoiceState(org.orgId, invoice.id)).amount_paid_cents,
    });
    return { answer: await reported, charge, invoice, state };
  }

  it('a deposit refunded by webhook while its invoice is being made lands on the invoice once it exists', async () => {
    const org = await connectedOrg(standIn);
    const { answer, invoice, state } = await refundWhileInvoicing(org, (charge) =>
      deliver(standIn.event('charge.refunded', charge, org.accountId)).then((res) => res.status),
    );
    expect(answer).to.equal(200);
    expect(await state()).to.deep.equal({ refunds: [{ invoice_id: invoice.id, proposal_id: null }], paid: 15_000 });
  });

  it('a deposit refund reconciled while its invoice is being made is refused for that run, and the next run records it on the invoice', async () => {
    const org = await connectedOrg(standIn);
    const { answer, invoice, state } = await refundWhileInvoicing(org, () => reconcileAll({ orgIds: [org.orgId] }));
    expect(answer).to.include({ failed: 1, refunds: 0 });
    // Nothing of the refused run is kept: the invoice has the whole deposit, as it took it.
    expect(await state()).to.deep.equal({ refunds: [], paid: 25_000 });
    expect(await reconcileAll({ orgIds: [org.orgId] })).to.include({ failed: 0, refunds: 1 });
    expect(await state()).to.deep.equal({ refunds: [{ invoice_id: invoice.id, proposal_id: null }], paid: 15_000 });
  });

  it('a deposit paid by bank debit that fails marks its attempt failed and audits the failure on the proposal', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '25' });
    const { res } = await approveInPortal(org, proposal.id);
    expect(res.status).to.equal(303);
    const sessionId = /\/c\/pay\/(cs_test_\w+)/.exec(res.headers.location)![1];
    standIn.completeCheckout(org.accountId, sessionId, { async: true });
    const failed = standIn.settleAsync(org.accountId, sessionId, 'failed');
    expect((await deliver(standIn.event('checkout.session.async_payment_failed', failed.session, org.accountId))).status).to.equal(200);

    const attempt = await withOrg(org.orgId, (db) =>
      db('checkout_sessions')
        .where({ stripe_checkout_session_id: sessionId })
        .first<{ status: string; proposal_id: string }>('status', 'proposal_id'),
    );
    expect(attempt).to.deep.equal({ status: 'failed', proposal_id: proposal.id });
    const audits = await withOrg(org.orgId, (db) =>
      db('audit_events')
        .where({ action: 'checkout.payment_failed' })
        .select<{ subject_type: string; subject_id: string; data: unknown }[]>('subject_type', 'subject_id', 'data'),
    );
    expect(audits).to.deep.equal([
      { subject_type: 'proposal', subject_id: proposal.id, data: { checkout_session: sessionId, payment_intent: failed.paymentIntent.id } },
    ]);
    expect(await depositPayments(org, proposal.id)).to.deep.equal([]);
  });

  it('a deposit paid after the invoice exists is recorded on that invoice at once', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'amount', deposit_amount: '300' });
    const { res } = await approveInPortal(org, proposal.id);
    const sessionId = /\/c\/pay\/(cs_test_\w+)/.exec(res.headers.location)![1];
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
    );
    await withOrg(org.orgId, (db) => issueInvoice(db, invoice.id, actorOf(org)));
    const { session } = standIn.completeCheckout(org.accountId, sessionId);
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    const rows = await depositPayments(org, proposal.id);
    expect(rows).to.have.length(1);
    expect(rows[0].invoice_id).to.equal(invoice.id);
    const after = await withOrg(org.orgId, (db) =>
      db('invoices').where({ id: invoice.id }).first<{ status: string; amount_paid_cents: number }>('status', 'amount_paid_cents'),
    );
    expect(after).to.deep.equal({ status: 'partially_paid', amount_paid_cents: 30_000 });
  });

  it('reconciliation records a deposit whose webhook was lost, once; the late webhook adds nothing', async () => {
    const org = await connectedOrg(standIn);
    const { proposal, session, paymentIntent } = await approvedAndPaid(org);
    const first = await reconcileAll({ orgIds: [org.orgId] });
    expect(first).to.deep.include({ orgs: 1, failed: 0, payments: 1 });
    const rows = await depositPayments(org, proposal.id);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.include({
      amount_cents: 25_000,
      stripe_payment_intent_id: paymentIntent.id,
      stripe_checkout_session_id: session.id,
    });
    const second = await reconcileAll({ orgIds: [org.orgId] });
    expect(second).to.deep.include({ payments: 0 });
    expect((await deliver(standIn.event('checkout.session.completed', session, org.accountId))).status).to.equal(200);
    expect(await depositPayments(org, proposal.id)).to.have.length(1);
    const status = await withOrg(org.orgId, (db) =>
      db('checkout_sessions').where({ stripe_checkout_session_id: session.id }).first<{ status: string }>('status'),
    );
    expect(status.status).to.equal('paid');
  });

  it('a deposit not yet on an invoice is listed in the dashboard Payments with its proposal, and its page opens', async () => {
    const org = await connectedOrg(standIn);
    const { proposal, session } = await approvedAndPaid(org);
    await deliver(standIn.event('checkout.session.completed', session, org.accountId));
    const [payment] = await withOrg(org.orgId, (db) => db('payments').where({ proposal_id: proposal.id }).select<{ id: string }[]>('id'));
    const agent = await loginAgent(org.email, org.password);
    const list = await agent.get('/payments');
    expect(list.status).to.equal(200);
    expect(list.text).to.contain(`<a href="/proposals/${proposal.id}">Deposit, proposal #${proposal.number}</a>`);
    const page = await agent.get(`/payments/${payment.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain(`Deposit, proposal #${proposal.number}`);
    const customer = await agent.get(`/customers/${org.leadId}`);
    expect(customer.text).to.contain(`Deposit, proposal #${proposal.number}`);
    const dash = await agent.get(`/proposals/${proposal.id}`);
    expect(dash.text).to.contain('Deposit of $250.00 paid. It is credited to the invoice you create');
  });

  it('before approval the dashboard proposal page says what deposit the customer will be asked for', async () => {
    const org = await connectedOrg(standIn);
    const percent = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '25' });
    const fixed = await pendingProposal(org, { deposit_kind: 'amount', deposit_amount: '300' });
    const none = await pendingProposal(org, { deposit_kind: 'none' });
    const agent = await loginAgent(org.email, org.password);
    const page = async (id: string) => (await agent.get(`/proposals/${id}`)).text;
    expect(await page(percent.id)).to.contain('Deposit on approval: 25% of the total the customer approves ($250.00 at this total).');
    expect(await page(fixed.id)).to.contain('Deposit on approval: $300.00.');
    expect(await page(none.id)).not.to.contain('Deposit on approval');
    // Approved, the page says what was paid or is due instead.
    const { res } = await approveInPortal(org, percent.id);
    expect(res.status).to.equal(303);
    const approved = await page(percent.id);
    expect(approved).not.to.contain('Deposit on approval');
    expect(approved).to.contain('Approved — deposit due.');
  });

  it("the portal's Payments tab lists a deposit under its proposal until its invoice is issued, then under the invoice", async () => {
    const org = await connectedOrg(standIn);
    const { proposal, session } = await approvedAndPaid(org);
    await deliver(standIn.event('checkout.session.completed', session, org.accountId));
    const [deposit] = await depositPayments(org, proposal.id);
    const { token } = await linkFor(org.orgId, org.leadId);
    const payments = async () => {
      const res = await app().get(`/p/${token}/payments`);
      expect(res.status).to.equal(200);
      return res.text;
    };
    const underProposal = `<a href="/p/${token}/proposals/${proposal.id}">Deposit, proposal #${proposal.number}</a>`;

    // Paid on approval, no invoice yet: listed, with its receipt, not "No payments recorded yet".
    let text = await payments();
    expect(text).not.to.contain('No payments recorded yet');
    expect(text).to.contain(underProposal);
    expect(text).to.contain('$250.00');
    expect(text).to.contain(`/p/${token}/payments/${deposit.id}/pdf`);
    const pdf = await app().get(`/p/${token}/payments/${deposit.id}/pdf`);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');

    // Credited to a draft invoice the customer can't open yet: still under its proposal.
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actorOf(org)),
    );
    expect((await depositPayments(org, proposal.id))[0].invoice_id).to.equal(invoice.id);
    text = await payments();
    expect(text).to.contain(underProposal);
    expect(text).not.to.contain(`/p/${token}/invoices/${invoice.id}`);

    // Issued: listed under the invoice, once.
    const issued = await withOrg(org.orgId, (db) => issueInvoice(db, invoice.id, actorOf(org)));
    text = await payments();
    expect(text).not.to.contain(underProposal);
    expect(text).to.contain(`<a href="/p/${token}/invoices/${invoice.id}">Invoice #${issued.invoice.number}</a>`);
    expect(text.split(`/p/${token}/payments/${deposit.id}/pdf`)).to.have.length(2);
  });

  it('approved but not paid: the portal offers Pay deposit, the dashboard says "approved — deposit due" with a way to resend', async () => {
    const org = await connectedOrg(standIn);
    const proposal = await pendingProposal(org, { deposit_kind: 'amount', deposit_amount: '150.50' });
    const { page } = await approveInPortal(org, proposal.id);
    const portal = await app().get(page);
    expect(portal.text).to.contain('Deposit due: $150.50');
    expect(portal.text).to.contain(`action="${page}/deposit"`);
    // Paying later from the page: a Checkout for what is still due.
    const pay = await app()
      .post(`${page}/deposit`)
      .type('form')
      .send({ _csrf: formToken(portal.text) });
    expect(pay.status).to.equal(303);
    expect(pay.headers.location).to.match(/^https:\/\/checkout\.stripe\.test\//);

    const agent = await loginAgent(org.email, org.password);
    const dash = await agent.get(`/proposals/${proposal.id}`);
    expect(dash.status).to.equal(200);
    expect(dash.text).to.contain('Approved — deposit due.');
    expect(dash.text).to.contain('$150.50');
    expect(dash.text).to.contain(`/customers/${org.leadId}/send?context=proposal&amp;proposalId=${proposal.id}`);
  });

  describe('refuses bad input (4xx, nothing written)', () => {
    it('deposit settings: percentage out of range, amount ≤ 0 or above the total', async () => {
      const org = await connectedOrg(standIn);
      const agent = await loginAgent(org.email, org.password);
      const base = {
        lead_id: org.leadId,
        title: 'Fence',
        tax_rate: '0',
        'items[0][service]': 'Fence',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '500',
      };
      const cases: [Record<string, string>, string][] = [
        [{ deposit_kind: 'percent', deposit_percent: '0' }, 'Enter a percentage above 0 and up to 100'],
        [{ deposit_kind: 'percent', deposit_percent: '100.5' }, 'Enter a percentage above 0 and up to 100'],
        [{ deposit_kind: 'percent', deposit_percent: '-5' }, 'Enter a percentage above 0 and up to 100'],
        [{ deposit_kind: 'amount', deposit_amount: '0' }, 'Enter a deposit amount above zero'],
        [{ deposit_kind: 'amount', deposit_amount: '-10' }, 'Enter a deposit amount above zero'],
        [{ deposit_kind: 'amount', deposit_amount: '500.01' }, 'can’t be more than the proposal’s total of $500.00'],
        [{ deposit_kind: 'half' }, 'Choose whether to ask for a deposit'],
      ];
      for (const [deposit, message] of cases) {
        const res = await agent
          .post('/proposals')
          .type('form')
          .send({ ...base, ...deposit, _csrf: agent.csrf });
        expect(res.status, JSON.stringify(deposit)).to.equal(422);
        expect(res.text, JSON.stringify(deposit)).to.contain(message);
      }
      const count = await withOrg(org.orgId, (db) => db('proposals').count<{ count: string }[]>('* as count'));
      expect(Number(count[0].count)).to.equal(0);
      // And the edge values are accepted.
      const ok = await agent
        .post('/proposals')
        .type('form')
        .send({ ...base, deposit_kind: 'amount', deposit_amount: '500', _csrf: agent.csrf });
      expect(ok.status).to.equal(303);
    });

    it('paying a deposit: another customer’s proposal (404), already paid (409), or a plan without online payment (403) creates nothing', async () => {
      const org = await connectedOrg(standIn);
      const { proposal, page, session, linkId } = await approvedAndPaid(org);
      await deliver(standIn.event('checkout.session.completed', session, org.accountId));
      const csrf = portalFormToken(linkId);
      const before = standIn.requestsTo('POST', '/v1/checkout/sessions').length;
      const paid = await app().post(`${page}/deposit`).type('form').send({ _csrf: csrf });
      expect(paid.status).to.equal(409);

      const other = await createTestLead(org.orgId);
      const theirs = await pendingProposal(org, { deposit_kind: 'percent', deposit_percent: '50' }, other.id);
      const foreign = await app()
        .post(page.replace(proposal.id, theirs.id) + '/deposit')
        .type('form')
        .send({ _csrf: csrf });
      expect(foreign.status).to.equal(404);

      const free = await connectedOrg(standIn, { plan: 'free' });
      const freeProposal = await pendingProposal(free, { deposit_kind: 'percent', deposit_percent: '50' });
      const { approveProposal } = await import('../../src/jobs/approve-proposal.js');
      await withOrg(free.orgId, (db) => approveProposal(db, freeProposal.id, { source: 'staff', approverName: 'Pat' }, actorOf(free)));
      const freeLink = await linkFor(free.orgId, free.leadId);
      const freePage = `/p/${freeLink.token}/proposals/${freeProposal.id}`;
      const freeView = await app().get(freePage);
      expect(freeView.text).to.contain('Deposit due: $500.00');
      expect(freeView.text).not.to.contain('Pay deposit');
      const refused = await app()
        .post(`${freePage}/deposit`)
        .type('form')
        .send({ _csrf: portalFormToken(freeLink.id) });
      expect(refused.status).to.equal(403);

      expect(standIn.requestsTo('POST', '/v1/checkout/sessions').length).to.equal(before);
      const sessions = await withOrg(org.orgId, (db) => db('checkout_sessions').whereIn('proposal_id', [theirs.id]));
      expect(sessions).to.have.length(0);
    });
  });
});
