// Link expiry (issue #14, point 4): an org's default lifetime, a per-link expiry,
// an expired link answers like any unknown link, and the Free count leaves it out.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink, regeneratePortalLink } from '../../src/portal-links/commands.js';
import { portalLinkUsage } from '../../src/portal-links/queries.js';
import { createTestLead, createTestOrg, createTestStaff } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import type { PortalLinkRecord } from '../support/rows.js';
import { linkFor, resetPortalMisses } from './support.js';

const DAY = 86_400_000;

async function expire(linkId: string): Promise<void> {
  await getDb()('portal_links')
    .where({ id: linkId })
    .update({ expires_at: new Date(Date.now() - 1000) });
}

async function linkRow(id: string): Promise<PortalLinkRecord> {
  return getDb()('portal_links').where({ id }).first<PortalLinkRecord>();
}

describe('portal link expiry', () => {
  beforeEach(resetPortalMisses);

  it('answers an expired link exactly like an unknown one, on every portal route', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const { id, token } = await linkFor(org.orgId, lead.id);
    const app = testApp();
    expect((await supertest(app).get(`/p/${token}`)).status).to.equal(200);
    await expire(id);
    const unknown = await supertest(app).get(`/p/${'x'.repeat(43)}`);
    for (const path of [`/p/${token}`, `/p/${token}/invoices`, `/p/${token}/history`]) {
      const res = await supertest(app).get(path);
      expect(res.status, path).to.equal(404);
      expect(res.text, path).to.equal(unknown.text);
    }
    // A view of an expired link counts nothing: the one visit is the view before it expired.
    expect(await getDb()('portal_visits').where({ link_id: id }).count<{ count: number }[]>()).to.deep.equal([{ count: 1 }]);
  });

  it('gives new links the org default lifetime, set by the owner in Settings (never by default)', async () => {
    const org = await createTestOrg();
    const [a, b] = [await createTestLead(org.orgId), await createTestLead(org.orgId)];
    const first = await linkFor(org.orgId, a.id);
    expect((await linkRow(first.id)).expires_at).to.equal(null);

    const agent = await loginAgent(org.email, org.password);
    const bad = await agent.post('/settings/portal/lifetime').type('form').send({ _csrf: agent.csrf, lifetime: '7' });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('Choose never, 30, 90 or 365 days.');
    const ok = await agent.post('/settings/portal/lifetime').type('form').send({ _csrf: agent.csrf, lifetime: '30' });
    expect(ok.status).to.equal(303);
    const orgRow = await getDb()('organizations').where({ id: org.orgId }).first<{ portal_link_lifetime_days: number }>();
    expect(orgRow.portal_link_lifetime_days).to.equal(30);
    expect((await agent.get('/settings/portal')).text).to.match(/<option value="30" selected>/);

    const second = await linkFor(org.orgId, b.id);
    const expires = (await linkRow(second.id)).expires_at!.getTime();
    expect(expires).to.be.closeTo(Date.now() + 30 * DAY, 60_000);

    // Staff may not change the org's default.
    const staff = await createTestStaff(org.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    const refused = await staffAgent.post('/settings/portal/lifetime').type('form').send({ _csrf: staffAgent.csrf, lifetime: 'never' });
    expect(refused.status).to.equal(403);
    expect(
      (await getDb()('organizations').where({ id: org.orgId }).first<{ portal_link_lifetime_days: number }>()).portal_link_lifetime_days,
    ).to.equal(30);
  });

  it('lets the contractor set one link’s expiry from the customer page, and shows it', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const { id } = await linkFor(org.orgId, lead.id);
    // Another customer's link: never touched by this one's setting.
    const neighbour = await linkFor(org.orgId, (await createTestLead(org.orgId)).id);
    const agent = await loginAgent(org.email, org.password);
    const res = await agent.post(`/customers/${lead.id}/portal-link/expiry`).type('form').send({ _csrf: agent.csrf, lifetime: '365' });
    expect(res.status).to.equal(303);
    expect((await linkRow(id)).expires_at!.getTime()).to.be.closeTo(Date.now() + 365 * DAY, 60_000);
    expect((await linkRow(neighbour.id)).expires_at).to.equal(null);
    const [first] = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'portal_link.expiry_set' })
      .select<{ subject_type: string; subject_id: string; data: { linkId: string; expiresAt: string } }[]>(
        'subject_type',
        'subject_id',
        'data',
      );
    expect(first).to.deep.include({ subject_type: 'lead', subject_id: lead.id });
    expect(first.data.linkId).to.equal(id);
    expect(Date.parse(first.data.expiresAt)).to.equal((await linkRow(id)).expires_at!.getTime());
    const page = await agent.get(`/customers/${lead.id}`);
    expect(page.text).to.contain('expires ');
    const bad = await agent.post(`/customers/${lead.id}/portal-link/expiry`).type('form').send({ _csrf: agent.csrf, lifetime: 'forever' });
    expect(bad.status).to.equal(422);
    expect((await linkRow(id)).expires_at).not.to.equal(null);
    await agent.post(`/customers/${lead.id}/portal-link/expiry`).type('form').send({ _csrf: agent.csrf, lifetime: 'never' });
    expect((await linkRow(id)).expires_at).to.equal(null);
    // Once it ran out, the panel says so and offers a new link.
    await expire(id);
    const after = await agent.get(`/customers/${lead.id}`);
    expect(after.text)
      .to.match(/link expired on /)
      .and.to.contain('Generate Portal Link');
    // Only this customer's page says so: not that of a customer who never had a link.
    const linkless = await createTestLead(org.orgId);
    expect((await agent.get(`/customers/${linkless.id}`)).text).not.to.match(/link expired on /);
    // No live link left to set: refused, and nothing is audited.
    const none = await agent
      .post(`/customers/${lead.id}/portal-link/expiry`)
      .set('Accept', 'application/json')
      .type('form')
      .send({ _csrf: agent.csrf, lifetime: '30' });
    expect(none.status).to.equal(404);
    expect((none.body as { message: string }).message).to.equal('This customer has no active portal link.');
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'portal_link.expiry_set' })
      .count<{ count: string }[]>('* as count');
    expect(Number(audit[0].count)).to.equal(2);
  });

  it('does not count expired links against the Free limit, and a fresh link replaces an expired one', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const ids: { lead: string; link: string }[] = [];
    for (let i = 0; i < 10; i++) {
      const lead = await createTestLead(org.orgId);
      ids.push({ lead: lead.id, link: (await linkFor(org.orgId, lead.id)).id });
    }
    const eleventh = await createTestLead(org.orgId);
    const actor = { type: 'system' as const, label: 'test' };
    let refused = false;
    await withOrg(org.orgId, (db) => generatePortalLink(db, eleventh.id, actor)).catch(() => (refused = true));
    expect(refused).to.equal(true);

    await expire(ids[0].link);
    expect((await withOrg(org.orgId, (db) => portalLinkUsage(db))).active).to.equal(9);
    const { created } = await withOrg(org.orgId, (db) => generatePortalLink(db, eleventh.id, actor));
    expect(created).to.equal(true);

    // The customer with the expired link gets a fresh one only if a slot is free: none is now.
    refused = false;
    await withOrg(org.orgId, (db) => regeneratePortalLink(db, ids[0].lead, actor)).catch(() => (refused = true));
    expect(refused).to.equal(true);
    await expire(ids[1].link);
    const fresh = await withOrg(org.orgId, (db) => regeneratePortalLink(db, ids[0].lead, actor));
    expect((await linkRow(ids[0].link)).revoked_at).not.to.equal(null);
    expect((await linkRow(fresh.id)).revoked_at).to.equal(null);
    expect((await withOrg(org.orgId, (db) => portalLinkUsage(db))).active).to.equal(10);
  });

  it("retires the expired link a new one replaces: revoked by nobody, and the new link's audit names it", async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const old = await linkFor(org.orgId, lead.id);
    await expire(old.id);
    // Another customer's link ran out too: it stays as it is until that customer gets a new one.
    const other = await linkFor(org.orgId, (await createTestLead(org.orgId)).id);
    await expire(other.id);
    const actor = { type: 'system' as const, label: 'test' };
    const { link, created } = await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, actor));
    expect(created).to.equal(true);
    const retired = await linkRow(old.id);
    expect(retired.revoked_at).to.be.instanceOf(Date);
    expect(retired.revoked_by).to.equal(null);
    expect((await linkRow(other.id)).revoked_at).to.equal(null);
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'portal_link.created', subject_id: lead.id })
      .orderBy('created_at', 'desc')
      .first<{ subject_type: string; data: Record<string, unknown> }>('subject_type', 'data');
    expect(audit).to.deep.equal({ subject_type: 'lead', data: { linkId: link.id, expiredLinkId: old.id } });
  });
});
