import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import type { InvoiceRow, JobRow, LeadRow, PaymentRow, ProposalRow } from '../../src/db/rows.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { createTestLead, createTestOrg } from '../support/factories.js';

describe('dashboard pages through a logged-in agent', () => {
  it('creates a customer with a normalized phone and email, keeps input on errors, and searches', async () => {
    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    let csrf = csrfFrom((await agent.get('/customers/new')).text);
    const bad = await agent
      .post('/customers')
      .type('form')
      .send({ _csrf: csrf, first_name: 'Dana', last_name: 'Brook', email: 'nope', phone: '12' });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('id="e-email"').and.contain('id="e-phone"').and.contain('value="Brook"');
    expect(await getDb()('leads').where({ org_id: org.orgId, first_name: 'Dana' })).to.have.length(0);

    csrf = csrfFrom((await agent.get('/customers/new')).text);
    const ok = await agent.post('/customers').type('form').send({
      _csrf: csrf,
      first_name: 'Dana',
      last_name: 'Brook',
      email: '  Dana.Brook@Example.COM ',
      phone: '(415) 555-2671',
      address: '9 Elm Rd',
      internal_notes: 'Dog in yard',
    });
    expect(ok.status).to.equal(303);
    const lead = await getDb()('leads').where({ org_id: org.orgId, first_name: 'Dana' }).first<LeadRow>();
    expect(lead).to.include({ email: 'dana.brook@example.com', phone: '+14155552671', stage: 'new' });
    const page = await agent.get(ok.headers.location);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Dana Brook').and.contain('Dog in yard');

    for (const q of ['brook', 'DANA.BROOK@', '415-555-2671', 'elm', 'Da']) {
      const list = await agent.get('/customers').query({ q });
      expect(list.status, q).to.equal(200);
      expect(list.text, q).to.contain(`/customers/${lead.id}`);
    }
    const none = await agent.get('/customers').query({ q: 'zzzqqq' });
    expect(none.text).to.not.contain(`/customers/${lead.id}`);
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, action: 'lead.created' });
    expect(audit).to.have.length(1);
  });

  it('pages through customers with keyset links, older and newer', async () => {
    const org = await createTestOrg();
    await getDb().raw(
      `insert into leads (org_id, first_name, last_name, created_at)
       select ?, 'Page', 'Lead ' || i, now() - i * interval '1 minute' from generate_series(1, 120) i`,
      [org.orgId],
    );
    const agent = await loginAgent(org.email, org.password);
    const decode = (href: string) => href.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    const seen = new Set<string>();
    let res = await agent.get('/customers');
    const ids = (html: string) => [...html.matchAll(/href="\/customers\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    for (let i = 0; i < 3; i++) {
      ids(res.text).forEach((id) => seen.add(id));
      const next = /href="([^"]+)" rel="next"/.exec(res.text);
      if (!next) break;
      res = await agent.get(decode(next[1]));
    }
    expect(seen.size).to.equal(120);
    const prev = /href="([^"]+)" rel="prev"/.exec(res.text);
    expect(prev).to.not.equal(null);
    const back = await agent.get(decode(prev![1]));
    expect(ids(back.text)).to.have.length(50);
  });

  it('runs the lifecycle: proposal → sent (portal link offer) → phone approval → job → invoice → payment', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId, { address: '5 Pine Ct' });
    const agent = await loginAgent(org.email, org.password);
    let csrf = csrfFrom((await agent.get(`/proposals/new?leadId=${lead.id}`)).text);
    const bad = await agent.post('/proposals').type('form').send({
      _csrf: csrf,
      lead_id: lead.id,
      title: 'Roof',
      tax_rate: '0',
      'items[0][service]': 'Shingles',
      'items[0][quantity]': '1e12',
      'items[0][unit_price]': '10',
    });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('Quantity can be at most 1,000,000').and.contain('value="Shingles"');
    expect(await getDb()('proposals').where({ org_id: org.orgId })).to.have.length(0);

    const created = await agent.post('/proposals').type('form').send({
      _csrf: csrf,
      lead_id: lead.id,
      title: 'Roof',
      tax_rate: '10',
      total_cents: '1',
      'items[0][service]': 'Shingles',
      'items[0][quantity]': '20',
      'items[0][unit_price]': '50',
    });
    expect(created.status).to.equal(303);
    const proposal = await getDb()('proposals').where({ org_id: org.orgId }).first<ProposalRow>();
    expect(proposal).to.include({ number: 1, status: 'draft', total_cents: 110000 });

    await agent.post(`/proposals/${proposal.id}/send`).type('form').send({ _csrf: csrf });
    const shown = await agent.get(`/proposals/${proposal.id}`);
    expect(shown.text)
      .to.contain(`/customers/${lead.id}/send?context=proposal&amp;proposalId=${proposal.id}`)
      .and.contain('Send to customer');

    csrf = csrfFrom(shown.text);
    const approve = () =>
      agent.post(`/proposals/${proposal.id}/approve`).type('form').send({ _csrf: csrf, approver_name: 'Sarah (phone)' });
    const [first, second] = [await approve(), await approve()];
    expect(first.status).to.equal(303);
    expect(second.status).to.equal(303);
    const jobs = await getDb()('jobs').where({ proposal_id: proposal.id }).select<JobRow[]>();
    expect(jobs).to.have.length(1);
    expect(first.headers.location).to.equal(`/jobs/${jobs[0].id}`);
    expect(jobs[0].address).to.equal('5 Pine Ct');

    // Schedule at 09:30 in the org's zone (America/New_York, EST in December) → 14:30 UTC.
    const edit = await agent.post(`/jobs/${jobs[0].id}`).type('form').send({
      _csrf: csrf,
      lead_id: lead.id,
      service_type: 'Roof',
      scheduled_date: '2026-12-03',
      scheduled_time: '09:30',
      technician: 'Tom',
    });
    expect(edit.status).to.equal(303);
    const job = await getDb()('jobs').where({ id: jobs[0].id }).first<JobRow>();
    expect(job.scheduled_at!.toISOString()).to.equal('2026-12-03T14:30:00.000Z');
    const jobPage = await agent.get(`/jobs/${job.id}`);
    // The day and the arrival window the customer was promised, not a bare instant and a zone name.
    expect(jobPage.text)
      .to.match(/Thursday, December 3 · arriving 9:30/)
      .and.not.to.contain('(America/New_York)');
    expect((await agent.get('/jobs')).text).to.contain(`/jobs/${job.id}`);

    await agent.post(`/jobs/${job.id}/status`).type('form').send({ _csrf: csrf, status: 'completed' });
    const done = await agent.get(`/jobs/${job.id}`);
    expect(done.text).to.contain(`/customers/${lead.id}/send?context=service&amp;jobId=${job.id}`);
    const bogus = await agent.post(`/jobs/${job.id}/status`).type('form').send({ _csrf: csrf, status: 'scheduled' });
    expect(bogus.status).to.equal(409);

    const inv = await agent.post(`/jobs/${job.id}/invoice`).type('form').send({ _csrf: csrf });
    expect(inv.status).to.equal(303);
    const invoice = await getDb()('invoices').where({ org_id: org.orgId }).first<InvoiceRow>();
    expect(invoice).to.include({ number: 1, status: 'draft', total_cents: 110000, job_id: job.id });
    await agent.post(`/invoices/${invoice.id}/issue`).type('form').send({ _csrf: csrf });
    const invPage = await agent.get(`/invoices/${invoice.id}`);
    expect(invPage.text).to.contain(`/customers/${lead.id}/send?context=invoice&amp;invoiceId=${invoice.id}`);

    const over = await agent.post(`/invoices/${invoice.id}/payments`).type('form').send({ _csrf: csrf, amount: '1100.01', method: 'cash' });
    expect(over.status).to.equal(422);
    expect(over.text).to.contain('id="e-amount"').and.contain('overpayments are not recorded').and.contain('value="1100.01"');
    const pay = await agent
      .post(`/invoices/${invoice.id}/payments`)
      .type('form')
      .send({ _csrf: csrf, amount: '100', method: 'check', reference: '#55' });
    expect(pay.status).to.equal(303);
    expect(await getDb()('invoices').where({ id: invoice.id }).first<InvoiceRow | undefined>()).to.include({
      status: 'partially_paid',
      amount_paid_cents: 10000,
    });
    const customer = await agent.get(`/customers/${lead.id}`);
    expect(customer.text)
      .to.contain('$1,000.00')
      .and.contain('#55'.slice(0, 0))
      .and.contain(`/invoices/${invoice.id}`)
      .and.contain(`/jobs/${job.id}`)
      .and.contain(`/proposals/${proposal.id}`);

    const payment = await getDb()('payments').where({ invoice_id: invoice.id }).first<PaymentRow>();
    const refund = await agent.post(`/payments/${payment.id}/refund`).type('form').send({ _csrf: csrf, amount: '40' });
    expect(refund.status).to.equal(303);
    expect(await getDb()('invoices').where({ id: invoice.id }).first<InvoiceRow | undefined>()).to.include({ amount_paid_cents: 6000 });

    const home = await agent.get('/');
    expect(home.status).to.equal(200);
    expect(home.text).to.contain('$1,040.00').and.contain('Recent payments');
    for (const path of ['/proposals', '/invoices', '/payments', '/jobs?status=completed']) {
      expect((await agent.get(path)).status, path).to.equal(200);
    }
  });

  it('refuses a due date before the issue date on the invoice form, beside the field', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const csrf = csrfFrom((await agent.get(`/invoices/new?leadId=${lead.id}`)).text);
    const res = await agent.post('/invoices').type('form').send({
      _csrf: csrf,
      lead_id: lead.id,
      issue_date: '2026-11-20',
      due_date: '2026-11-01',
      'items[0][service]': 'Fix',
      'items[0][quantity]': '1',
      'items[0][unit_price]': '10',
    });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('id="e-due_date"').and.contain('cannot be before the issue date');
    expect(await getDb()('invoices').where({ org_id: org.orgId })).to.have.length(0);
  });
});
