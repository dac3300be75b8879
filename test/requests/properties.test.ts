// Issue #14, points 5 and 6: a request for work says which of the customer's
// properties it is for. The portal's form offers them (or somewhere else), the
// server accepts only the customer's own, a reschedule takes its visit's property,
// and turning the request into a proposal or a job carries the property over.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';

const app = () => supertest(testApp());

function formTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

async function addProperty(orgId: string, leadId: string, label: string, address: string, createdAt: string): Promise<string> {
  const [row] = await withOrg(orgId, (db) =>
    db('properties').insert({ org_id: orgId, lead_id: leadId, label, address, created_at: createdAt }).returning<{ id: string }[]>('id'),
  );
  return row.id;
}

async function landlord() {
  const org = await createTestOrg({ plan: 'starter', name: 'Roof & Gutter Co' });
  const lead = await createTestLead(org.orgId, { first_name: 'Lee', last_name: 'Landlord', email: 'lee@example.com', address: null });
  const home = await addProperty(org.orgId, lead.id, 'Home', '1 Main St', '2026-01-01T00:00:00Z');
  const duplex = await addProperty(org.orgId, lead.id, 'Elm duplex', '77 Elm Street', '2026-02-01T00:00:00Z');
  const { token } = await linkFor(org.orgId, lead.id);
  return { org, lead, home, duplex, token, form: `/p/${token}/request` };
}

async function post(form: string, fields: Record<string, string>) {
  const page = await app().get(form);
  return app()
    .post(form)
    .type('form')
    .send({ _csrf: formTokenFrom(page.text), ...fields });
}

const requestsOf = (orgId: string) =>
  getDb()('work_requests')
    .where({ org_id: orgId })
    .orderBy('created_at')
    .select<{ id: string; property_id: string | null; address: string | null }[]>();

describe('requests for work: which property', () => {
  beforeEach(resetPortalMisses);

  it('offers every property of the customer and "somewhere else", and stores the one chosen with its address', async () => {
    const { org, duplex, form } = await landlord();
    const page = await app().get(form).expect(200);
    expect(page.text).to.contain('Which property?').and.to.contain('Home · 1 Main St').and.to.contain('Elm duplex · 77 Elm Street');
    expect(page.text).to.contain('Somewhere else');

    const res = await post(form, { description: 'Gutter over the porch drips', property_id: duplex, address: '', preferred_times: '' });
    expect(res.status).to.equal(303);
    const [row] = await requestsOf(org.orgId);
    expect(row).to.include({ property_id: duplex, address: '77 Elm Street' });
  });

  it('keeps a typed address for "somewhere else", with no property', async () => {
    const { org, form } = await landlord();
    expect(
      (await post(form, { description: 'Fence at my sister’s', property_id: '', address: '9 Side Rd', preferred_times: '' })).status,
    ).to.equal(303);
    const [row] = await requestsOf(org.orgId);
    expect(row).to.include({ property_id: null, address: '9 Side Rd' });
  });

  it('takes the main property when the customer names neither', async () => {
    const { org, home, form } = await landlord();
    expect((await post(form, { description: 'Check the roof', address: '', preferred_times: '' })).status).to.equal(303);
    const [row] = await requestsOf(org.orgId);
    expect(row).to.include({ property_id: home, address: '1 Main St' });
  });

  it('refuses another customer’s property with 422 and the form again, and stores nothing', async () => {
    const { org, form } = await landlord();
    const other = await createTestLead(org.orgId, { first_name: 'Ola', last_name: 'Other', email: 'ola@example.com', address: null });
    const theirs = await addProperty(org.orgId, other.id, '', '5 Their Rd', '2026-03-01T00:00:00Z');
    const res = await post(form, { description: 'Sneaky', property_id: theirs, address: '', preferred_times: '' });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Choose one of your properties');
    const notUuid = await post(form, { description: 'Sneaky', property_id: 'x', address: '', preferred_times: '' });
    expect(notUuid.status).to.equal(422);
    expect(await requestsOf(org.orgId)).to.have.length(0);
    const deliveries = await getDb()('message_deliveries').where({ org_id: org.orgId }).count<{ count: string }[]>('* as count');
    expect(Number(deliveries[0].count)).to.equal(0);
  });

  it('carries the property into the job or proposal made from the request', async () => {
    const { org, duplex, form } = await landlord();
    expect((await post(form, { description: 'New downspout', property_id: duplex, address: '', preferred_times: '' })).status).to.equal(
      303,
    );
    expect((await post(form, { description: 'Quote a new roof', property_id: duplex, address: '', preferred_times: '' })).status).to.equal(
      303,
    );
    const [first, second] = await requestsOf(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const csrf = csrfFrom((await agent.get(`/requests/${first.id}`)).text);
    await agent.post(`/requests/${first.id}/convert`).type('form').send({ _csrf: csrf, to: 'job' }).expect(303);
    await agent.post(`/requests/${second.id}/convert`).type('form').send({ _csrf: csrf, to: 'proposal' }).expect(303);
    const converted = await getDb()('work_requests')
      .whereIn('id', [first.id, second.id])
      .orderBy('created_at')
      .select<{ converted_job_id: string; proposal_id: string }[]>();
    const job = await getDb()('jobs').where({ id: converted[0].converted_job_id }).first<{ property_id: string }>();
    const proposal = await getDb()('proposals').where({ id: converted[1].proposal_id }).first<{ property_id: string }>();
    expect(job.property_id).to.equal(duplex);
    expect(proposal.property_id).to.equal(duplex);
  });

  it('reads "which property" in Spanish for a Spanish customer', async () => {
    const { org, lead, form } = await landlord();
    await withOrg(org.orgId, (db) => db('leads').where({ id: lead.id }).update({ language: 'es' }));
    const page = await app().get(form).expect(200);
    expect(page.text).to.contain('¿En qué propiedad?').and.to.contain('En otro lugar');
  });
});
