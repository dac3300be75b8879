// Requests a stranger or a confused browser can send: refused with a 4xx, nothing written.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfToken, loginAgent, testApp } from '../support/http.js';

describe('input hardening', () => {
  it('checks CSRF on multipart posts to every route but the logo upload', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const agent = await loginAgent(org.email, org.password);
    const res = await agent.post(`/customers/${lead.id}/portal-link`).field('note', 'forged');
    expect(res.status).to.equal(403);
    const links = await getDb()('portal_links').where({ lead_id: lead.id }).count<{ count: string }[]>('* as count');
    expect(Number(links[0].count)).to.equal(0);
  });

  it('refuses a NUL character in a form with 400 and creates nothing', async () => {
    const agent = supertest.agent(testApp());
    const _csrf = await csrfToken(agent, '/signup');
    const res = await agent
      .post('/signup')
      .type('form')
      .send({ orgName: 'Nul\u0000Works', name: 'Nia', email: 'nul-works@example.test', password: 'copper downspout mornings', _csrf });
    expect(res.status).to.equal(400);
    const users = await getDb()('users').where({ email: 'nul-works@example.test' }).count<{ count: string }[]>('* as count');
    expect(Number(users[0].count)).to.equal(0);
  });

  it('refuses a NUL character in a query string with 400', async () => {
    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    const res = await agent.get('/customers?q=ab%00c');
    expect(res.status).to.equal(400);
  });

  it('starts a customer list from the first page when its cursor is malformed', async () => {
    const org = await createTestOrg();
    await createTestLead(org.orgId, { first_name: 'Cursor', last_name: 'Check' });
    const agent = await loginAgent(org.email, org.password);
    const cursors = [
      `2026-11-25 20:01:11.748763+00|${'-'.repeat(36)}`,
      '2026-02-30 10:00:00+00|00000000-0000-4000-8000-000000000000',
      '2026-13-45 99:99:99+00|00000000-0000-4000-8000-000000000000',
    ].map((c) => Buffer.from(c).toString('base64url'));
    for (const cursor of cursors) {
      for (const param of ['after', 'before']) {
        const res = await agent.get(`/customers?${param}=${cursor}`);
        expect(res.status, `${param}=${cursor}`).to.equal(200);
        expect(res.text).to.contain('Cursor');
      }
    }
  });
});
