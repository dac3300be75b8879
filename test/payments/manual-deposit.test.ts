// A proposal's deposit paid another way (a check at the door, cash, a transfer),
// recorded on the proposal's page while no invoice bills the work: it waits on
// the proposal as a Stripe deposit does, the invoice made later credits it, a
// refund by hand follows it, and everything it refuses leaves nothing behind.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg, type Db } from '../../src/db/tenancy.js';
import { translate } from '../../src/i18n/index.js';
import { createInvoiceFromProposal, issueInvoice } from '../../src/invoices/commands.js';
import { addDays, todayIn } from '../../src/lib/dates.js';
import { HttpError } from '../../src/lib/errors.js';
import { recordDepositPayment, recordPayment, recordRefund } from '../../src/payments/manual.js';
import supertest from 'supertest';
import { csrfFrom, loginAgent, testApp, type Agent } from '../support/http.js';
import { linkFor } from '../portal/support.js';
import { approvedWithDeposit } from './deposit-fixtures.js';
import { holdOpen, waitsOn } from '../support/locks.js';

const depositRows = (orgId: string, proposalId: string) =>
  getDb()('payments')
    .where({ org_id: orgId })
    .where((q) => {
      // Its payments, and the refunds of them (which leave the proposal with them when an invoice credits them).
      void q.where({ proposal_id: proposalId }).orWhereIn('refund_of', getDb()('payments').select('id').where({ proposal_id: proposalId }));
    })
    .orderBy('created_at')
    .select<
      {
        id: string;
        kind: string;
        amount_cents: string;
        invoice_id: string | null;
        proposal_id: string | null;
        method: string;
        source: string;
        reference: string | null;
        status: string;
      }[]
    >('id', 'kind', 'amount_cents', 'invoice_id', 'proposal_id', 'method', 'source', 'reference', 'status');

/** Posts the deposit form of the proposal page `page` (its HTML, for the CSRF token); `fields` may replace the token. */
const postDeposit = (agent: Agent, proposalId: string, page: string, fields: Record<string, string>) =>
  agent
    .post(`/proposals/${proposalId}/deposit-payments`)
    .type('form')
    .send({ _csrf: csrfFrom(page), ...fields });

const receiptsFor = (orgId: string) =>
  getDb()('message_deliveries').where({ org_id: orgId, purpose: 'receipt' }).count<{ count: string }[]>({ count: '*' });

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  return p.then(
    () => expect.fail('accepted'),
    (err: unknown) => {
      expect(err).to.be.instanceOf(HttpError);
      return err as HttpError;
    },
  );
}

describe('a deposit paid another way', () => {
  it('is recorded from the proposal page in parts, with a receipt unless told, and the invoice made later credits it', async function () {
    this.timeout(30_000);
    const { org, proposal } = await approvedWithDeposit();
    const orgZone = (await getDb()('organizations').where({ id: org.orgId }).first<{ time_zone: string }>('time_zone')).time_zone;
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/proposals/${proposal.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.include(`action="/proposals/${proposal.id}/deposit-payments"`);
    expect(page.text, 'the amount offered is the deposit owed').to.match(/name="amount" type="text" value="250.00"/);

    const first = await postDeposit(agent, proposal.id, page.text, {
      amount: '100',
      method: 'check',
      reference: 'Check 1042',
      paid_on: addDays(todayIn(orgZone), -2),
    });
    expect(first.status, first.text).to.equal(303);
    expect(first.headers.location).to.equal(`/proposals/${proposal.id}`);
    const after = await agent.get(`/proposals/${proposal.id}`);
    expect(after.text).to.include(
      'Deposit payment of $100.00 recorded, and a receipt is on its way to the customer; $150.00 of the deposit is still owed.',
    );
    expect(after.text).to.include('The customer owes a deposit of $150.00 (of $250.00; $100.00 paid).');
    expect(after.text, 'the rest is offered next').to.match(/name="amount" type="text" value="150.00"/);

    const rest = await postDeposit(agent, proposal.id, after.text, { amount: '150.00', method: 'cash', no_receipt: 'on' });
    expect(rest.status, rest.text).to.equal(303);
    const paid = await agent.get(`/proposals/${proposal.id}`);
    expect(paid.text).to.include('Deposit of $150.00 recorded. It will be credited to the invoice for this work.');
    expect(paid.text).to.include('Deposit of $250.00 paid.');
    expect(paid.text, 'nothing is owed: no form').to.not.include('/deposit-payments');

    const rows = await depositRows(org.orgId, proposal.id);
    expect(rows.map((r) => [r.kind, Number(r.amount_cents), r.method, r.source, r.reference, r.invoice_id])).to.deep.equal([
      ['payment', 10000, 'check', 'manual', 'Check 1042', null],
      ['payment', 15000, 'cash', 'manual', null, null],
    ]);
    expect(Number((await receiptsFor(org.orgId))[0].count), 'one receipt: the second was recorded without one').to.equal(1);
    const audits = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'deposit.recorded' })
      .select<{ subject_id: string }[]>('subject_id');
    expect(audits.map((a) => a.subject_id).sort()).to.deep.equal(rows.map((r) => r.id).sort());

    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, { type: 'system', label: 'test' }),
    );
    const credited = await getDb()('invoices').where({ id: invoice.id }).first<{ amount_paid_cents: string }>('amount_paid_cents');
    expect(Number(credited.amount_paid_cents)).to.equal(25000);
    expect((await depositRows(org.orgId, proposal.id)).every((r) => r.invoice_id === invoice.id)).to.equal(true);
  });

  it('refuses what it cannot record and writes nothing: a bad amount, method or date, more than is owed, no deposit owed, an invoice already billing the work', async function () {
    this.timeout(30_000);
    const { org, actor, proposal } = await approvedWithDeposit();
    const agent = await loginAgent(org.email, org.password);
    const post = async (fields: Record<string, string>) => {
      const form = await agent.get(`/proposals/${proposal.id}`);
      return postDeposit(agent, proposal.id, form.text, { method: 'check', ...fields });
    };
    const zero = await post({ amount: '0' });
    expect(zero.status).to.equal(422);
    expect(zero.text).to.include('aria-invalid="true" aria-describedby="e-amount"');
    expect(zero.text, 'the form stays open with what was typed').to.match(/<details class="record-deposit" open>/);
    const tooMuch = await post({ amount: '250.01' });
    expect(tooMuch.status).to.equal(422);
    expect(tooMuch.text).to.include(`That is more than the $250.00 of deposit still owed on proposal #${proposal.number}.`);
    expect((await post({ amount: '10', method: 'bitcoin' })).status).to.equal(422);
    const tomorrow = await post({ amount: '10', paid_on: addDays(todayIn('UTC'), 2) });
    expect(tomorrow.status).to.equal(422);
    expect(tomorrow.text).to.include('The date cannot be in the future');
    expect((await post({ amount: '10', _csrf: 'forged' })).status, 'a form without its token').to.equal(403);
    expect(await depositRows(org.orgId, proposal.id)).to.deep.equal([]);

    const none = await approvedWithDeposit({ deposit_kind: 'none' });
    const noDeposit = await refusal(
      withOrg(none.org.orgId, (db) =>
        recordDepositPayment(db, { proposalId: none.proposal.id, currency: 'USD', amountCents: 100, method: 'cash' }, none.actor),
      ),
    );
    expect(noDeposit.status).to.equal(409);
    expect(translate('en', noDeposit.message)).to.equal(`Proposal #${none.proposal.number} has no deposit owed.`);

    // The invoice for the work, issued and paid in full another way: it has no room for a deposit.
    const invoice = await withOrg(org.orgId, async (db) => {
      const made = await createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor);
      await issueInvoice(db, made.id, actor);
      await recordPayment(db, { invoiceId: made.id, amountCents: 100000, method: 'bank_transfer', sendReceipt: false }, actor);
      return made;
    });
    const billed = await refusal(
      withOrg(org.orgId, (db) =>
        recordDepositPayment(db, { proposalId: proposal.id, currency: 'USD', amountCents: 100, method: 'cash' }, actor),
      ),
    );
    expect(billed.status).to.equal(409);
    expect(translate('en', billed.message)).to.equal(
      `Invoice #${invoice.number} bills this work and cannot take this amount: record the money on that invoice.`,
    );
    const page = await agent.get(`/proposals/${proposal.id}`);
    expect(page.text, 'the page offers no form it would refuse').to.not.include('/deposit-payments');
    expect(await depositRows(org.orgId, proposal.id)).to.deep.equal([]);
    expect(Number((await receiptsFor(org.orgId))[0].count)).to.equal(0);
    const audited = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'deposit.recorded' })
      .count<{ count: string }[]>({ count: '*' });
    expect(Number(audited[0].count)).to.equal(0);
  });

  it("says its refusals in the business's language and money format", async function () {
    this.timeout(30_000);
    const { org, proposal } = await approvedWithDeposit(undefined, { locale: 'es-MX', currency: 'MXN' });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/proposals/${proposal.id}`);
    expect(page.text).to.include('Registrar un anticipo pagado de otra forma');
    const res = await postDeposit(agent, proposal.id, page.text, { amount: '250.01', method: 'check' });
    expect(res.status).to.equal(422);
    expect(res.text).to.include(`Eso supera los $250.00 de anticipo pendientes de la propuesta n.º ${proposal.number}.`);
  });

  it("goes on the draft invoice made from the proposal (its receipt still the deposit's), and closes a card payment page open for it", async function () {
    this.timeout(30_000);
    const { org, actor, proposal } = await approvedWithDeposit();
    const draft = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor),
    );
    expect(draft.status).to.equal('draft');
    // The customer opened the card payment page for the deposit earlier and left it open.
    const [session] = await getDb()('checkout_sessions')
      .insert({
        org_id: org.orgId,
        lead_id: proposal.lead_id,
        proposal_id: proposal.id,
        stripe_checkout_session_id: `cs_test_${proposal.id}`,
        amount_cents: 25000,
        currency: 'USD',
      })
      .returning<{ id: string }[]>('id');
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/proposals/${proposal.id}`);
    expect(page.text, 'a draft invoice can take it: the form is offered').to.include(`action="/proposals/${proposal.id}/deposit-payments"`);
    const res = await postDeposit(agent, proposal.id, page.text, { amount: '250', method: 'check', reference: 'Check 77' });
    expect(res.status, res.text).to.equal(303);
    const after = await agent.get(`/proposals/${proposal.id}`);
    expect(after.text).to.include(`Deposit of $250.00 recorded on invoice #${draft.number}, and a receipt is on its way to the customer.`);
    const [row] = await depositRows(org.orgId, proposal.id);
    expect(row).to.include({ invoice_id: draft.id, proposal_id: proposal.id, method: 'check' });
    const invoice = await getDb()('invoices')
      .where({ id: draft.id })
      .first<{ amount_paid_cents: string; status: string }>('amount_paid_cents', 'status');
    expect([Number(invoice.amount_paid_cents), invoice.status]).to.deep.equal([25000, 'draft']);
    expect((await getDb()('checkout_sessions').where({ id: session.id }).first<{ status: string }>('status')).status).to.equal('expired');

    // The customer has not seen the draft invoice: the receipt is the deposit's, in words and as a PDF.
    const receipt = await getDb()('message_deliveries')
      .where({ org_id: org.orgId, purpose: 'receipt', payment_id: row.id })
      .first<{ body_text: string }>('body_text');
    expect(receipt.body_text).to.include(`the deposit on proposal #${proposal.number}`);
    expect(receipt.body_text).to.not.include(`invoice #${draft.number}`);
    const link = await linkFor(org.orgId, proposal.lead_id);
    const pdf = await supertest(testApp()).get(`/p/${link.token}/proposals/${proposal.id}/deposit-receipt/pdf`).buffer(true);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');
  });

  it('is recorded once when the whole deposit is recorded twice at the same moment: the second waits on the first and is refused', async () => {
    const { org, actor, proposal } = await approvedWithDeposit();
    const record = (db: Db) =>
      recordDepositPayment(db, { proposalId: proposal.id, currency: 'USD', amountCents: 25000, method: 'check' }, actor);
    const first = holdOpen(org.orgId, record);
    const { pid } = await first.ready;
    const second = withOrg(org.orgId, record).then(
      () => 'recorded',
      (err: HttpError) => translate('en', err.message),
    );
    // The positive signal either way: the second finished without waiting (the bug), or it waits on the first's lock.
    const seen = await waitsOn(pid, second);
    first.release();
    await first.done;
    expect(seen).to.equal('waiting');
    expect(await second).to.equal(`Proposal #${proposal.number} has no deposit owed.`);
    expect(await depositRows(org.orgId, proposal.id)).to.have.length(1);
  });

  it('can be refunded by hand while it waits, and the invoice made later credits what is left of it', async () => {
    const { org, actor, proposal } = await approvedWithDeposit();
    const { payment } = await withOrg(org.orgId, (db) =>
      recordDepositPayment(
        db,
        { proposalId: proposal.id, currency: 'USD', amountCents: 25000, method: 'check', sendReceipt: false },
        actor,
      ),
    );
    const { refund, invoice: none } = await withOrg(org.orgId, (db) =>
      recordRefund(db, payment.id, { amountCents: 5000, reference: 'overpaid' }, actor),
    );
    expect(none).to.equal(null);
    expect(refund).to.include({ kind: 'refund', refund_of: payment.id, proposal_id: proposal.id, invoice_id: null, source: 'manual' });
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor),
    );
    const credited = await getDb()('invoices').where({ id: invoice.id }).first<{ amount_paid_cents: string }>('amount_paid_cents');
    expect(Number(credited.amount_paid_cents)).to.equal(20000);
    expect((await depositRows(org.orgId, proposal.id)).map((r) => [r.kind, r.invoice_id])).to.deep.equal([
      ['payment', invoice.id],
      ['refund', invoice.id],
    ]);
  });
});
