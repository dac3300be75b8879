// The job pages: saving a visit whose day has already gone by says what that means.
import { expect } from 'chai';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent } from '../support/http.js';

describe('job pages', () => {
  it('saving a job dated in the past says so, and what to do if the work is done', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const save = (scheduled_date: string) =>
      agent
        .post('/jobs')
        .type('form')
        .send({ _csrf: agent.csrf, lead_id: lead.id, service_type: 'Roof', scheduled_date, scheduled_time: '09:00' });
    const past = await save('2025-01-02');
    expect(past.status).to.equal(303);
    expect((await agent.get(past.headers.location)).text).to.contain(
      'Job saved. Its day has already gone by: if the work is done, mark the job completed.',
    );
    const next = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const future = await save(next);
    const page = (await agent.get(future.headers.location)).text;
    expect(page).to.contain('Job saved.').and.not.to.contain('already gone by');
  });
});
