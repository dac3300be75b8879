import { expect } from 'chai';
import { withOrg, type Db } from '../../src/db/tenancy.js';
import { getDb } from '../../src/db/knex.js';
import type { Actor } from '../../src/db/audit.js';
import { FormError, type HttpError } from '../../src/lib/errors.js';
import { parseForm } from '../../src/lib/forms.js';
import {
  createInvoice,
  createInvoiceFromJob,
  createInvoiceFromProposal,
  issueInvoice,
  updateInvoice,
} from '../../src/invoices/commands.js';
import { getInvoiceItems } from '../../src/invoices/queries.js';
import { voidInvoice } from '../../src/payments/void-invoice.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import type { OrgCounterRecord } from '../support/rows.js';
import { translate } from '../../src/i18n/index.js';

/** A message from the code (a catalogue key, see src/i18n) as an English reader sees it. */
const inEnglish = (message: string | undefined) => translate('en', message);

/** A proposal made from these form fields and sent to the customer (pending). */
async function sentProposal(orgId: string, actor: Actor, fields: Record<string, unknown>) {
  return withOrg(orgId, async (db) => {
    const proposal = await createProposal(db, parseForm(proposalFormSchema('USD'), fields), actor);
    await markProposalSent(db, proposal.id, actor);
    return proposal;
  });
}

async function setup() {
  const org = await createTestOrg({ plan: 'starter' });
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  return { org, lead, actor };
}

describe('invoices service', () => {
  it('gives 20 invoices created in parallel 20 distinct consecutive numbers', async () => {
    const { org, lead, actor } = await setup();
    const invoices = await Promise.all(
      Array.from({ length: 20 }, () => withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor))),
    );
    const numbers = invoices.map((i) => i.number).sort((a, b) => a - b);
    expect(numbers).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    const counter = await getDb()('org_counters').where({ org_id: org.orgId, name: 'invoice' }).first<OrgCounterRecord>();
    expect(Number(counter.last_value)).to.equal(20);
  });

  it('does not skip a number when the creating transaction rolls back', async () => {
    const { org, lead, actor } = await setup();
    await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
    await withOrg(org.orgId, async (db) => {
      await createInvoice(db, invoiceForm(lead.id), 'USD', actor);
      throw new Error('rollback');
    }).catch(() => undefined);
    const next = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
    expect(next.number).to.equal(2);
  });

  it('refuses a due date before the issue date, beside the due date field', () => {
    try {
      invoiceForm('00000000-0000-4000-8000-000000000000', { issue_date: '2026-11-10', due_date: '2026-11-01' });
      expect.fail('accepted');
    } catch (err) {
      expect(inEnglish((err as FormError).fields.due_date)).to.match(/cannot be before the issue date/);
    }
  });

  it('ignores any total sent with the form and computes its own', async () => {
    const { org, lead, actor } = await setup();
    const input = invoiceForm(lead.id, { total_cents: '1', subtotal_cents: '1', tax_rate: '10' });
    const invoice = await withOrg(org.orgId, (db) => createInvoice(db, input, 'USD', actor));
    expect(invoice).to.include({ subtotal_cents: 30000, tax_cents: 3000, total_cents: 33000, status: 'draft' });
  });

  it('copies an approved proposal’s lines; refuses a pending one', async () => {
    const { org, lead, actor } = await setup();
    const proposal = await sentProposal(org.orgId, actor, {
      lead_id: lead.id,
      title: 'Furnace',
      tax_rate: '5',
      items: [
        { service: 'Furnace', quantity: '1', unit_price: '2400' },
        { service: 'Labour', description: 'hours', quantity: '6.5', unit_price: '80' },
      ],
    });
    await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'America/Chicago' }, actor),
    ).then(
      () => expect.fail('invoiced a pending proposal'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
    const { jobId } = await withOrg(org.orgId, (db) => approveProposal(db, proposal.id, { source: 'staff', approverName: 'S' }, actor));
    const invoice = await withOrg(org.orgId, (db) =>
      createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'America/Chicago' }, actor),
    );
    expect(invoice).to.include({
      proposal_id: proposal.id,
      tax_rate_bps: 500,
      subtotal_cents: 292000,
      tax_cents: 14600,
      total_cents: 306600,
    });
    const items = await withOrg(org.orgId, (db) => getInvoiceItems(db, invoice.id));
    expect(items.map((i) => [i.service, i.description, i.quantity, i.amount_cents])).to.deep.equal([
      ['Furnace', '', '1.00', 240000],
      ['Labour', 'hours', '6.50', 52000],
    ]);

    // From the completed job: the same lines, linked to the job.
    await withOrg(org.orgId, (db) => createInvoiceFromJob(db, jobId, { currency: 'USD', time_zone: 'UTC' }, actor)).then(
      () => expect.fail('invoiced a scheduled job'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
    await withOrg(org.orgId, (db) => setJobStatus(db, jobId, 'completed', actor));
    // The proposal's invoice already bills the job's work: neither page makes another while it stands.
    for (const again of [
      (db: Db) => createInvoiceFromJob(db, jobId, { currency: 'USD', time_zone: 'UTC' }, actor),
      (db: Db) => createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor),
    ]) {
      await withOrg(org.orgId, again).then(
        () => expect.fail('billed the same work twice'),
        (err: HttpError) => {
          expect(err.status).to.equal(409);
          expect(inEnglish(err.message)).to.equal(
            `Invoice #${invoice.number} already bills this work. Open it, or void it to bill the work again; anything more goes on a new invoice.`,
          );
        },
      );
    }
    await withOrg(org.orgId, (db) => voidInvoice(db, invoice.id, actor));
    const fromJob = await withOrg(org.orgId, (db) => createInvoiceFromJob(db, jobId, { currency: 'USD', time_zone: 'UTC' }, actor));
    expect(fromJob).to.include({ job_id: jobId, total_cents: 306600 });
    expect(fromJob.number).to.equal(invoice.number + 1);
    // The draft made from the job is edited like any other: it is the one that bills the work, not a second.
    const edited = await withOrg(org.orgId, (db) =>
      updateInvoice(db, fromJob.id, invoiceForm(lead.id, { items: [{ service: 'Furnace', quantity: '1', unit_price: '2500' }] }), actor),
    );
    expect(edited).to.include({ job_id: jobId, total_cents: 250000 });
    // A further invoice for the same work (a change order) is made from the Invoices page, naming the job.
    const more = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id, { job_id: jobId }), 'USD', actor));
    expect(more.job_id).to.equal(jobId);
  });

  it('two clicks at once on "Create invoice" make one invoice; the other is told which one bills the work', async () => {
    const { org, lead, actor } = await setup();
    const proposal = await sentProposal(org.orgId, actor, {
      lead_id: lead.id,
      title: 'Gutters',
      items: [{ service: 'Gutters', quantity: '1', unit_price: '900' }],
    });
    await withOrg(org.orgId, (db) => approveProposal(db, proposal.id, { source: 'staff', approverName: 'S' }, actor));
    const outcomes = await Promise.allSettled(
      [0, 1].map(() =>
        withOrg(org.orgId, (db) => createInvoiceFromProposal(db, proposal.id, { currency: 'USD', time_zone: 'UTC' }, actor)),
      ),
    );
    expect(outcomes.map((o) => o.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as HttpError).status).to.equal(409);
    const invoices = await withOrg(org.orgId, (db) => db('invoices').where({ proposal_id: proposal.id }).pluck('number'));
    expect(invoices).to.have.length(1);
  });

  it('issues draft → open, edits only drafts, and voids only without payments', async () => {
    const { org, lead, actor } = await setup();
    const invoice = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
    const edited = await withOrg(org.orgId, (db) =>
      updateInvoice(db, invoice.id, invoiceForm(lead.id, { items: [{ service: 'Repair', quantity: '3', unit_price: '100' }] }), actor),
    );
    expect(edited.total_cents).to.equal(30000);
    const { invoice: open } = await withOrg(org.orgId, (db) => issueInvoice(db, invoice.id, actor));
    expect(open.status).to.equal('open');
    expect(open.issued_at).to.be.instanceOf(Date);
    await withOrg(org.orgId, (db) => updateInvoice(db, invoice.id, invoiceForm(lead.id), actor)).then(
      () => expect.fail('edited an open invoice'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
    await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId: invoice.id, amountCents: 100, method: 'cash' }, actor));
    await withOrg(org.orgId, (db) => voidInvoice(db, invoice.id, actor)).then(
      () => expect.fail('voided an invoice with payments'),
      (err: HttpError) => expect(inEnglish(err.message)).to.match(/refund them/),
    );
    const other = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
    const voided = await withOrg(org.orgId, (db) => voidInvoice(db, other.id, actor));
    expect(voided.status).to.equal('void');
    await withOrg(org.orgId, (db) => issueInvoice(db, other.id, actor)).then(
      () => expect.fail('issued a void invoice'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
    const actions = await getDb()('audit_events').where({ subject_id: invoice.id }).pluck('action');
    expect(actions).to.include.members(['invoice.created', 'invoice.updated', 'invoice.issued']);
  });
});
