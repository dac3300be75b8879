import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { getDb } from '../../src/db/knex.js';
import type { Actor } from '../../src/db/audit.js';
import type { LeadRow, ProposalRow } from '../../src/db/rows.js';
import { HttpError, FormError } from '../../src/lib/errors.js';
import { parseForm } from '../../src/lib/forms.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { loginAgent } from '../support/http.js';
import { createProposal, markProposalSent, PROPOSAL_CHANGED, rejectProposal, updateProposal } from '../../src/proposals/commands.js';
import { getProposalItems, proposalContentSha256 } from '../../src/proposals/queries.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { translate } from '../../src/i18n/index.js';

/** A message from the code (a catalogue key, see src/i18n) as an English reader sees it. */
const inEnglish = (message: string | undefined) => translate('en', message);
/** The English message of the FormError `run` throws. */
function englishError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(FormError);
    return inEnglish((err as FormError).message);
  }
  return expect.fail('accepted');
}

const form = (leadId: string, extra: Record<string, unknown> = {}) =>
  parseForm(proposalFormSchema('USD'), {
    lead_id: leadId,
    title: 'New gutters',
    tax_rate: '8.25',
    items: [
      { service: 'Gutter', description: '5-inch aluminium', quantity: '120.5', unit_price: '9.99' },
      { service: '', description: '', quantity: '', unit_price: '' },
      { service: 'Downspout', quantity: '4', unit_price: '45' },
    ],
    ...extra,
  });

async function setup() {
  const org = await createTestOrg({ plan: 'pro' });
  const lead = await createTestLead(org.orgId);
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  return { org, lead, actor };
}

describe('proposals service', () => {
  it('computes line amounts, tax and totals on the server, ignoring blank rows', async () => {
    const { org, lead, actor } = await setup();
    const p = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    // 120.5 × 9.99 = 1203.795 → 1203.80; + 4 × 45 = 180 → 1383.80; tax 8.25% = 114.16
    expect(p.subtotal_cents).to.equal(138380);
    expect(p.tax_cents).to.equal(11416);
    expect(p.total_cents).to.equal(149796);
    const items = await withOrg(org.orgId, (db) => getProposalItems(db, p.id));
    expect(items.map((i) => i.amount_cents)).to.deep.equal([120380, 18000]);
    expect(items[0].quantity).to.equal('120.50');
  });

  it('refuses absurd or negative quantities and prices with a message per field', () => {
    for (const [quantity, unit_price, field, message] of [
      ['1e12', '10', 'items.0.quantity', /at most 1,000,000/],
      ['1000000000000', '10', 'items.0.quantity', /at most 1,000,000/],
      ['-2', '10', 'items.0.quantity', /quantity like/],
      ['0', '10', 'items.0.quantity', /more than 0/],
      ['2', '-5', 'items.0.unit_price', /negative/],
      ['2', '1e12', 'items.0.unit_price', /price like/],
      ['2', '999999999999', 'items.0.unit_price', /at most/],
    ] as const) {
      try {
        form('00000000-0000-4000-8000-000000000000', { items: [{ service: 'X', quantity, unit_price }] });
        expect.fail(`accepted ${quantity} × ${unit_price}`);
      } catch (err) {
        expect(err).to.be.instanceOf(FormError);
        expect(inEnglish((err as FormError).fields[field])).to.match(message);
      }
    }
    expect(englishError(() => form('00000000-0000-4000-8000-000000000000', { items: [] }))).to.match(/at least one line/);
    expect(englishError(() => form('00000000-0000-4000-8000-000000000000', { tax_rate: '101' }))).to.match(/tax rate/);
  });

  it('says a wrong deposit in the same pass as the other errors, not after they are fixed', () => {
    try {
      form('00000000-0000-4000-8000-000000000000', {
        tax_rate: '101',
        items: [{ service: 'X', quantity: '-2', unit_price: '10' }],
        deposit_kind: 'percent',
        deposit_percent: '150',
      });
      expect.fail('accepted');
    } catch (err) {
      const fields = (err as FormError).fields;
      expect(Object.keys(fields)).to.include.members(['tax_rate', 'items.0.quantity', 'deposit_percent']);
      expect(inEnglish(fields.deposit_percent)).to.equal('Enter a percentage above 0 and up to 100');
    }
    // A field sent twice (an array) or an unknown kind is refused by the field's own check, not a crash.
    for (const extra of [
      { deposit_kind: 'percent', deposit_percent: ['1', '2'] },
      { deposit_kind: 'amount', deposit_amount: ['1', '2'] },
      { deposit_kind: 'bogus', deposit_amount: '5' },
    ]) {
      try {
        form('00000000-0000-4000-8000-000000000000', extra);
        expect.fail(`accepted ${JSON.stringify(extra)}`);
      } catch (err) {
        expect(err, JSON.stringify(extra)).to.be.instanceOf(FormError);
        expect(Object.keys((err as FormError).fields), JSON.stringify(extra)).to.have.length(1);
      }
    }
    // A deposit above the total still needs the total, and is refused when saving (commands.ts).
    expect(form('00000000-0000-4000-8000-000000000000', { deposit_kind: 'amount', deposit_amount: '99999' }).deposit_amount).to.equal(
      '99999',
    );
  });

  it('numbers proposals sequentially per org', async () => {
    const { org, lead, actor } = await setup();
    const other = await setup();
    const a = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    const b = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    const c = await withOrg(other.org.orgId, (db) => createProposal(db, form(other.lead.id), other.actor));
    expect([a.number, b.number, c.number]).to.deep.equal([1, 2, 1]);
  });

  it('moves draft → pending → approved, records who approved and the content hash, and creates one job', async () => {
    const { org, lead, actor } = await setup();
    const p = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    const sent = await withOrg(org.orgId, (db) => markProposalSent(db, p.id, actor));
    expect(sent.proposal.status).to.equal('pending');
    const result = await withOrg(org.orgId, (db) =>
      approveProposal(db, p.id, { source: 'staff', approverName: 'Sarah on the phone' }, actor),
    );
    expect(result.alreadyDecided).to.equal(false);
    expect(result.proposal).to.include({
      status: 'approved',
      approval_source: 'staff',
      approved_by_name: 'Sarah on the phone',
      approved_by_user_id: org.userId,
    });
    const items = await withOrg(org.orgId, (db) => getProposalItems(db, p.id));
    expect(result.proposal.approved_content_sha256)
      .to.equal(proposalContentSha256(p, items))
      .and.match(/^[0-9a-f]{64}$/);
    const jobs = await getDb()('jobs').where({ proposal_id: p.id });
    expect(jobs).to.have.length(1);
    expect(jobs[0]).to.include({ id: result.jobId, status: 'scheduled', lead_id: lead.id, service_type: 'New gutters' });
    const leadRow = await getDb()('leads').where({ id: lead.id }).first<LeadRow>();
    expect(leadRow.stage).to.equal('won');
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, subject_id: p.id }).pluck('action');
    expect(audit).to.include.members(['proposal.created', 'proposal.sent', 'proposal.approved']);
  });

  it('refuses an approval whose expected content hash is not the current one (409), and approves with the current one', async () => {
    const { org, lead, actor } = await setup();
    const p = await withOrg(org.orgId, async (db) => {
      const created = await createProposal(db, form(lead.id), actor);
      await markProposalSent(db, created.id, actor);
      return created;
    });
    const shownHash = await withOrg(org.orgId, async (db) => proposalContentSha256(p, await getProposalItems(db, p.id)));
    // Edited while pending (allowed), after the customer saw it.
    await withOrg(org.orgId, (db) => updateProposal(db, p.id, form(lead.id, { tax_rate: '10' }), actor));
    const err = await withOrg(org.orgId, (db) =>
      approveProposal(db, p.id, { source: 'portal', approverName: 'Sarah', expectedContentSha256: shownHash }, { type: 'customer' }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(409);
    expect((err as HttpError).id).to.equal(PROPOSAL_CHANGED);
    expect((await getDb()('proposals').where({ id: p.id }).first<ProposalRow>()).status).to.equal('pending');
    expect(await getDb()('jobs').where({ proposal_id: p.id })).to.have.length(0);

    const current = await withOrg(org.orgId, async (db) => {
      const row = await getDb()('proposals').where({ id: p.id }).first<ProposalRow>();
      return proposalContentSha256(row, await getProposalItems(db, p.id));
    });
    const ok = await withOrg(org.orgId, (db) =>
      approveProposal(db, p.id, { source: 'portal', approverName: 'Sarah', expectedContentSha256: current }, { type: 'customer' }),
    );
    expect(ok.alreadyDecided).to.equal(false);
    expect(ok.proposal.approved_content_sha256).to.equal(current);
  });

  it('a double approval, even concurrent, creates one job and reports the second as already decided', async () => {
    const { org, lead, actor } = await setup();
    const p = await withOrg(org.orgId, async (db) => {
      const created = await createProposal(db, form(lead.id), actor);
      await markProposalSent(db, created.id, actor);
      return created;
    });
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        withOrg(org.orgId, (db) =>
          approveProposal(db, p.id, { source: 'portal', approverName: 'Sarah', ip: '203.0.113.9', userAgent: 'UA' }, { type: 'customer' }),
        ),
      ),
    );
    expect(results.filter((r) => !r.alreadyDecided)).to.have.length(1);
    expect(new Set(results.map((r) => r.jobId)).size).to.equal(1);
    expect(await getDb()('jobs').where({ proposal_id: p.id })).to.have.length(1);
    const approvedEvents = await getDb()('audit_events').where({ subject_id: p.id, action: 'proposal.approved' });
    expect(approvedEvents).to.have.length(1);
  });

  it('refuses to approve a draft or a rejected proposal, and to reject an approved one, changing nothing', async () => {
    const { org, lead, actor } = await setup();
    const draft = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    const approve = (id: string) => withOrg(org.orgId, (db) => approveProposal(db, id, { source: 'staff', approverName: 'X' }, actor));
    await approve(draft.id).then(
      () => expect.fail('approved a draft'),
      (err: HttpError) => {
        expect(err.status).to.equal(409);
        expect(inEnglish(err.message)).to.match(/still a draft/);
      },
    );
    await withOrg(org.orgId, (db) => markProposalSent(db, draft.id, actor));
    const rejected = await withOrg(org.orgId, (db) => rejectProposal(db, draft.id, { reason: 'Too expensive' }, actor));
    expect(rejected.proposal).to.include({ status: 'rejected', rejection_reason: 'Too expensive' });
    const again = await withOrg(org.orgId, (db) => rejectProposal(db, draft.id, {}, actor));
    expect(again.alreadyDecided).to.equal(true);
    await approve(draft.id).then(
      () => expect.fail('approved a rejected proposal'),
      (err: HttpError) => {
        expect(err.status).to.equal(409);
        expect(inEnglish(err.message)).to.match(/was rejected/);
      },
    );
    const row = await getDb()('proposals').where({ id: draft.id }).first<ProposalRow>();
    expect(row.status).to.equal('rejected');
    expect(await getDb()('jobs').where({ proposal_id: draft.id })).to.have.length(0);

    const other = await withOrg(org.orgId, async (db) => {
      const created = await createProposal(db, form(lead.id), actor);
      await markProposalSent(db, created.id, actor);
      await approveProposal(db, created.id, { source: 'staff', approverName: 'Y' }, actor);
      return created;
    });
    await withOrg(org.orgId, (db) => rejectProposal(db, other.id, {}, actor)).then(
      () => expect.fail('rejected an approved proposal'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
    await withOrg(org.orgId, (db) => updateProposal(db, other.id, form(lead.id), actor)).then(
      () => expect.fail('edited an approved proposal'),
      (err: HttpError) => expect(err.status).to.equal(409),
    );
  });

  it('answers not found for an unknown, malformed or other-org proposal id', async () => {
    const { org, lead, actor } = await setup();
    const other = await setup();
    const theirs = await withOrg(other.org.orgId, (db) => createProposal(db, form(other.lead.id), other.actor));
    for (const id of [theirs.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      await withOrg(org.orgId, (db) => approveProposal(db, id, { source: 'staff', approverName: 'X' }, actor)).then(
        () => expect.fail('found it'),
        (err: HttpError) => expect(err.status).to.equal(404),
      );
      await withOrg(org.orgId, (db) => rejectProposal(db, id, {}, actor)).then(
        () => expect.fail('found it'),
        (err: HttpError) => expect(err.status).to.equal(404),
      );
    }
    // Another org's customer cannot be used either.
    await withOrg(org.orgId, (db) => createProposal(db, form(other.lead.id), actor)).then(
      () => expect.fail('used another org’s customer'),
      (err: FormError) => expect(inEnglish(err.fields.lead_id)).to.match(/Choose a customer/),
    );
    void lead;
  });

  it('a sent proposal stays with its customer: a move to another is refused, changing nothing, and its form offers none', async () => {
    const { org, lead, actor } = await setup();
    const other = await createTestLead(org.orgId, { first_name: 'Dale', last_name: 'Hutchins' });
    const draft = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    // A draft may still change hands.
    await withOrg(org.orgId, (db) => updateProposal(db, draft.id, form(other.id), actor));
    await withOrg(org.orgId, (db) => updateProposal(db, draft.id, form(lead.id), actor));
    await withOrg(org.orgId, (db) => markProposalSent(db, draft.id, actor));
    await withOrg(org.orgId, (db) => updateProposal(db, draft.id, form(other.id, { title: 'Moved' }), actor)).then(
      () => expect.fail('moved a sent proposal'),
      (err: FormError) =>
        expect(inEnglish(err.fields.lead_id)).to.equal(
          'This proposal has been sent to its customer, so it stays with them. For someone else, create a new proposal.',
        ),
    );
    const after = await getDb()('proposals').where({ id: draft.id }).first<ProposalRow>();
    expect(after).to.include({ lead_id: lead.id, title: 'New gutters' });

    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/proposals/${draft.id}/edit`).expect(200);
    expect(page.text).to.contain(`<input type="hidden" name="lead_id" value="${lead.id}">`);
    expect(page.text).to.not.contain('<select id="f-lead_id"');
    const refused = await agent
      .post(`/proposals/${draft.id}`)
      .type('form')
      .send({
        _csrf: agent.csrf,
        lead_id: other.id,
        title: 'Moved',
        tax_rate: '0',
        'items[0][service]': 'Gutter',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '10',
      })
      .expect(422);
    expect(refused.text).to.contain('it stays with them');
    expect((await getDb()('proposals').where({ id: draft.id }).first<ProposalRow>()).lead_id).to.equal(lead.id);
  });

  it('an approved proposal already invoiced links its invoice instead of offering another, and so does its job', async () => {
    const { org, lead, actor } = await setup();
    const p = await withOrg(org.orgId, (db) => createProposal(db, form(lead.id), actor));
    await withOrg(org.orgId, (db) => markProposalSent(db, p.id, actor));
    const { jobId } = await withOrg(org.orgId, (db) => approveProposal(db, p.id, { source: 'staff', approverName: 'S' }, actor));
    await withOrg(org.orgId, (db) => setJobStatus(db, jobId, 'completed', actor));
    const agent = await loginAgent(org.email, org.password);
    expect((await agent.get(`/proposals/${p.id}`).expect(200)).text).to.contain(`action="/proposals/${p.id}/invoice"`);
    expect((await agent.get(`/jobs/${jobId}`).expect(200)).text).to.contain(`action="/jobs/${jobId}/invoice"`);
    const made = await agent.post(`/proposals/${p.id}/invoice`).type('form').send({ _csrf: agent.csrf }).expect(303);
    const invoiceId = String(made.headers.location).split('/').pop();
    const number = (await getDb()('invoices').where({ id: invoiceId }).first<{ number: number }>()).number;

    const proposalPage = (await agent.get(`/proposals/${p.id}`).expect(200)).text;
    expect(proposalPage).to.contain(`Billed on <a href="/invoices/${invoiceId}">invoice #${number}</a>`);
    expect(proposalPage).to.not.contain(`action="/proposals/${p.id}/invoice"`);
    const jobPage = (await agent.get(`/jobs/${jobId}`).expect(200)).text;
    expect(jobPage).to.contain(`<a href="/invoices/${invoiceId}">#${number}</a>`);
    expect(jobPage).to.not.contain(`action="/jobs/${jobId}/invoice"`);
    // A stale page's button (or a second click) is refused with the reason, and makes nothing.
    await agent.post(`/jobs/${jobId}/invoice`).type('form').send({ _csrf: agent.csrf }).expect(409);
    expect(await getDb()('invoices').where({ org_id: org.orgId }).pluck('id')).to.deep.equal([invoiceId]);
    // Voided, it bills nothing: the job page still lists it, and offers a new invoice again.
    await agent.post(`/invoices/${invoiceId}/void`).type('form').send({ _csrf: agent.csrf }).expect(303);
    const afterVoid = (await agent.get(`/jobs/${jobId}`).expect(200)).text;
    expect(afterVoid).to.contain(`<a href="/invoices/${invoiceId}">#${number}</a>`).and.to.contain(`action="/jobs/${jobId}/invoice"`);
  });
});
