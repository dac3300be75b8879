// Several properties per customer (issue #14, point 5), through the dashboard's routes:
// the customer page lists and adds them, each has an edit page, proposals, jobs and
// invoices name one of their own customer's (never another's), and search finds a
// customer by any of their addresses.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import type { InvoiceRow, JobRow, LeadRow, PropertyRow, ProposalRow } from '../../src/db/rows.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoiceFromJob } from '../../src/invoices/commands.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { markProposalSent } from '../../src/proposals/commands.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, type Agent } from '../support/http.js';

async function addProperty(agent: Agent, leadId: string, fields: Record<string, string>) {
  const csrf = csrfFrom((await agent.get(`/customers/${leadId}`)).text);
  return agent
    .post(`/customers/${leadId}/properties`)
    .type('form')
    .send({ _csrf: csrf, ...fields });
}

const propertiesOf = (leadId: string) => getDb()('properties').where({ lead_id: leadId }).orderBy('created_at').select<PropertyRow[]>('*');

describe('several properties per customer (dashboard)', () => {
  let org: TestOrg;
  let agent: Agent;

  beforeEach(async () => {
    org = await createTestOrg();
    agent = await loginAgent(org.email, org.password);
  });

  it('makes a new customer’s address their main property', async () => {
    const csrf = csrfFrom((await agent.get('/customers/new')).text);
    const res = await agent
      .post('/customers')
      .type('form')
      .send({ _csrf: csrf, first_name: 'Lana', last_name: 'Lord', address: '4 Birch Lane', stage: 'new' });
    expect(res.status).to.equal(303);
    const lead = await getDb()('leads').where({ org_id: org.orgId, first_name: 'Lana' }).first<LeadRow>();
    expect((await propertiesOf(lead.id)).map((p) => p.address)).to.deep.equal(['4 Birch Lane']);
    const page = await agent.get(`/customers/${lead.id}`);
    expect(page.text).to.contain('id="properties"').and.contain('4 Birch Lane').and.contain('(main)');
  });

  it('adds a property on the customer page, refuses a bad one with nothing written, and edits one', async () => {
    const lead = await createTestLead(org.orgId, { first_name: 'Otto' });
    const empty = await addProperty(agent, lead.id, { label: 'Shop', address: '   ' });
    expect(empty.status).to.equal(422);
    expect(empty.text).to.contain('Enter the address').and.contain('value="Shop"');
    const long = await addProperty(agent, lead.id, { label: 'x'.repeat(101), address: '1 Long Rd' });
    expect(long.status).to.equal(422);
    expect(long.text).to.contain('Name can be at most 100 characters');
    expect(await propertiesOf(lead.id)).to.have.length(0);

    const ok = await addProperty(agent, lead.id, { label: 'Elm duplex', address: '77 Elm Street' });
    expect(ok.status).to.equal(303);
    expect(ok.headers.location).to.equal(`/customers/${lead.id}#properties`);
    const [property] = await propertiesOf(lead.id);
    expect(property).to.include({ label: 'Elm duplex', address: '77 Elm Street', org_id: org.orgId });
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, action: 'property.added' });
    expect(audit).to.have.length(1);

    const edit = await agent.get(`/customers/${lead.id}/properties/${property.id}/edit`);
    expect(edit.status).to.equal(200);
    expect(edit.text).to.contain('value="77 Elm Street"');
    const bad = await agent
      .post(`/customers/${lead.id}/properties/${property.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text), label: 'Elm', address: '' });
    expect(bad.status).to.equal(422);
    expect((await propertiesOf(lead.id))[0].address).to.equal('77 Elm Street');
    const saved = await agent
      .post(`/customers/${lead.id}/properties/${property.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text), label: 'Elm', address: '79 Elm Street' });
    expect(saved.status).to.equal(303);
    expect((await propertiesOf(lead.id))[0]).to.include({ label: 'Elm', address: '79 Elm Street' });

    // Another customer's property is not this customer's: 404, unchanged.
    const other = await createTestLead(org.orgId, { first_name: 'Other' });
    expect((await agent.get(`/customers/${other.id}/properties/${property.id}/edit`)).status).to.equal(404);
    const cross = await agent
      .post(`/customers/${other.id}/properties/${property.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text), label: 'Hijack', address: '1 Hijack Rd' });
    expect(cross.status).to.equal(404);
    expect((await propertiesOf(lead.id))[0].address).to.equal('79 Elm Street');
  });

  it('finds a customer by any of their properties’ addresses, including one just edited', async () => {
    const lead = await createTestLead(org.orgId, { first_name: 'Petra', address: '1 Main Road' });
    await addProperty(agent, lead.id, { label: '', address: '15 Quillfeather Court' });
    await addProperty(agent, lead.id, { label: 'Lakeside', address: '8 Zanzibar Wharf' });
    for (const q of ['quillfeather', 'Zanzibar Wharf', 'main road']) {
      const list = await agent.get('/customers').query({ q });
      expect(list.text, q).to.contain(`/customers/${lead.id}`);
    }
    const [first] = await propertiesOf(lead.id);
    expect(first.address).to.equal('15 Quillfeather Court');
    const edit = await agent.get(`/customers/${lead.id}/properties/${first.id}/edit`);
    await agent
      .post(`/customers/${lead.id}/properties/${first.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text), label: '', address: '15 Marigold Court' });
    expect((await agent.get('/customers').query({ q: 'marigold' })).text).to.contain(`/customers/${lead.id}`);
    expect((await agent.get('/customers').query({ q: 'quillfeather' })).text).to.not.contain(`/customers/${lead.id}`);
  });

  describe('proposals, jobs and invoices belong to one property', () => {
    let leadId: string;
    let second: PropertyRow;
    let foreign: PropertyRow;

    beforeEach(async () => {
      leadId = (await createTestLead(org.orgId, { first_name: 'Ivy' })).id;
      await addProperty(agent, leadId, { label: 'Home', address: '1 Home Row' });
      await addProperty(agent, leadId, { label: 'Rental', address: '2 Rental Row' });
      [, second] = await propertiesOf(leadId);
      const otherLead = await createTestLead(org.orgId, { first_name: 'Ned' });
      await addProperty(agent, otherLead.id, { label: '', address: '9 Ned Street' });
      [foreign] = await propertiesOf(otherLead.id);
    });

    it('offers only that customer’s properties on the forms', async () => {
      for (const path of ['/proposals/new', '/jobs/new', '/invoices/new']) {
        const page = await agent.get(path).query({ leadId });
        expect(page.status, path).to.equal(200);
        expect(page.text, path).to.contain('name="property_id"').and.contain(`value="${second.id}"`).and.contain('Main property (Home)');
        expect(page.text, path).to.not.contain(foreign.id);
      }
      // A customer with one property gets no select.
      const single = await createTestLead(org.orgId, { first_name: 'Solo' });
      await addProperty(agent, single.id, { label: '', address: '5 Solo St' });
      expect((await agent.get('/jobs/new').query({ leadId: single.id })).text).to.not.contain('name="property_id"');
    });

    it('stores the chosen property on a job (its address too) and refuses another customer’s with nothing written', async () => {
      const csrf = csrfFrom((await agent.get('/jobs/new').query({ leadId })).text);
      const job = { _csrf: csrf, lead_id: leadId, service_type: 'Boiler service', arrival_window_minutes: '120' };
      for (const property_id of [foreign.id, 'not-an-id']) {
        const refused = await agent
          .post('/jobs')
          .type('form')
          .send({ ...job, property_id });
        expect(refused.status, property_id).to.equal(422);
        expect(refused.text).to.contain('Choose one of this customer’s properties').and.contain('id="e-property_id"');
      }
      expect(await getDb()('jobs').where({ org_id: org.orgId })).to.have.length(0);

      const created = await agent
        .post('/jobs')
        .type('form')
        .send({ ...job, property_id: second.id });
      expect(created.status).to.equal(303);
      const row = await getDb()('jobs').where({ org_id: org.orgId }).first<JobRow>();
      expect(row).to.include({ property_id: second.id, address: '2 Rental Row' });
      const edit = await agent.get(`/jobs/${row.id}/edit`);
      expect(edit.text).to.match(new RegExp(`value="${second.id}" selected`));
    });

    it('stores the chosen property on a proposal and an invoice, and refuses another customer’s', async () => {
      let csrf = csrfFrom((await agent.get('/proposals/new').query({ leadId })).text);
      const proposal = {
        _csrf: csrf,
        lead_id: leadId,
        title: 'Roof',
        tax_rate: '0',
        'items[0][service]': 'Shingles',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '50',
      };
      const refused = await agent
        .post('/proposals')
        .type('form')
        .send({ ...proposal, property_id: foreign.id });
      expect(refused.status).to.equal(422);
      expect(await getDb()('proposals').where({ org_id: org.orgId })).to.have.length(0);
      expect(
        (
          await agent
            .post('/proposals')
            .type('form')
            .send({ ...proposal, property_id: second.id })
        ).status,
      ).to.equal(303);
      const saved = await getDb()('proposals').where({ org_id: org.orgId }).first<ProposalRow>();
      expect(saved.property_id).to.equal(second.id);
      // Empty is the main property.
      expect(
        (
          await agent
            .post('/proposals')
            .type('form')
            .send({ ...proposal, property_id: '' })
        ).status,
      ).to.equal(303);
      const mainOne = await getDb()('proposals').where({ org_id: org.orgId, number: 2 }).first<ProposalRow>();
      expect(mainOne.property_id).to.equal(null);

      csrf = csrfFrom((await agent.get('/invoices/new').query({ leadId })).text);
      const invoice = {
        _csrf: csrf,
        lead_id: leadId,
        issue_date: '2026-11-01',
        due_date: '2026-11-15',
        'items[0][service]': 'Fix',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '10',
      };
      expect(
        (
          await agent
            .post('/invoices')
            .type('form')
            .send({ ...invoice, property_id: foreign.id })
        ).status,
      ).to.equal(422);
      expect(await getDb()('invoices').where({ org_id: org.orgId })).to.have.length(0);
      expect(
        (
          await agent
            .post('/invoices')
            .type('form')
            .send({ ...invoice, property_id: second.id })
        ).status,
      ).to.equal(303);
      expect((await getDb()('invoices').where({ org_id: org.orgId }).first<InvoiceRow>()).property_id).to.equal(second.id);

      // The customer page says which property each record is for (no property: the main one).
      const page = await agent.get(`/customers/${leadId}`);
      expect(page.text).to.contain('<th>Property</th>');
      expect(page.text).to.match(/Roof<\/td><td data-label="Property">Rental<\/td>/);
      expect(page.text).to.match(/Roof<\/td><td data-label="Property">Home<\/td>/);
    });

    it('carries a proposal’s property to the job its approval makes and to that job’s invoice', async () => {
      const csrf = csrfFrom((await agent.get('/proposals/new').query({ leadId })).text);
      await agent.post('/proposals').type('form').send({
        _csrf: csrf,
        lead_id: leadId,
        property_id: second.id,
        title: 'Rental roof',
        tax_rate: '0',
        'items[0][service]': 'Shingles',
        'items[0][quantity]': '1',
        'items[0][unit_price]': '50',
      });
      const proposal = await getDb()('proposals').where({ org_id: org.orgId }).first<ProposalRow>();
      const actor = { type: 'user' as const, userId: org.userId };
      const invoice = await withOrg(org.orgId, async (db) => {
        await markProposalSent(db, proposal.id, actor);
        const { jobId } = await approveProposal(db, proposal.id, { source: 'staff', approverName: 'Ivy' }, actor);
        await setJobStatus(db, jobId, 'completed', actor);
        return createInvoiceFromJob(db, jobId, { currency: 'USD', time_zone: 'UTC' }, actor);
      });
      const job = await getDb()('jobs').where({ proposal_id: proposal.id }).first<JobRow>();
      expect(job).to.include({ property_id: second.id, address: '2 Rental Row' });
      expect(invoice.property_id).to.equal(second.id);
    });

    it('keeps the database from pointing a document at another customer’s property', async () => {
      const err: unknown = await getDb()('jobs')
        .insert({ org_id: org.orgId, lead_id: leadId, property_id: foreign.id, service_type: 'x' })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(String(err)).to.contain('jobs_property_fk');
    });
  });
});
