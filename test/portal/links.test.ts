// Portal links on the contractor side: the token at rest, the Free limit (also
// under concurrency), revoke, regenerate, the customer-page panel and Settings.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { OWNER_NAME } from '../support/hostile.js';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { loadPortalPanel } from '../../src/portal-links/panel.js';
import { activePortalLink, PortalLinkLimitError, portalUrl } from '../../src/portal-links/queries.js';
import { generatePortalLink, regeneratePortalLink, revokePortalLink } from '../../src/portal-links/commands.js';
import { decryptPortalToken } from '../../src/portal-links/token.js';
import { config } from '../../src/config.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import type { AuditEventRecord, PortalLinkRecord } from '../support/rows.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { activeLinkCount, linkFor, resetPortalMisses } from './support.js';
import { translate } from '../../src/i18n/index.js';

const user = (org: TestOrg) => ({ type: 'user' as const, userId: org.userId, label: org.email });

async function leads(orgId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createTestLead(orgId, { first_name: `Customer${i}` })).id);
  return ids;
}

describe('portal links (contractor side)', () => {
  beforeEach(resetPortalMisses);

  it('stores only the SHA-256 and an AES-GCM ciphertext of the token, never the token', async () => {
    const org = await createTestOrg();
    const [leadId] = await leads(org.orgId, 1);
    const { id, token, url } = await linkFor(org.orgId, leadId, org.userId);
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).to.have.length(32);
    expect(url).to.equal(portalUrl(token)).and.to.equal(`${config.publicUrl}/p/${token}`);
    const row = await getDb()('portal_links').where({ id }).first<PortalLinkRecord>();
    expect(row.token_sha256).to.equal(crypto.createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.to.contain(token);
    expect(decryptPortalToken(row.token_ciphertext)).to.equal(token);
    // Tampering with the ciphertext is detected (GCM tag).
    const parts = row.token_ciphertext.split('.');
    parts[2] = Buffer.from('x'.repeat(43)).toString('base64url');
    expect(() => decryptPortalToken(parts.join('.'))).to.throw();
    // Nowhere else in the database either.
    const { rows } = await getDb().raw<{ rows: { n: number }[] }>(`select count(*)::int as n from audit_events where data::text like ?`, [
      `%${token}%`,
    ]);
    expect(rows[0].n).to.equal(0);
  });

  it('activePortalLink gives the decrypted URL of the active link, or null', async () => {
    const org = await createTestOrg();
    const [a, b] = await leads(org.orgId, 2);
    const { id, url } = await linkFor(org.orgId, a);
    await withOrg(org.orgId, async (db) => {
      expect(await activePortalLink(db, a)).to.deep.equal({ id, url });
      expect(await activePortalLink(db, b)).to.equal(null);
    });
  });

  it('keeps one active link per customer: generating again returns the existing link', async () => {
    const org = await createTestOrg();
    const [leadId] = await leads(org.orgId, 1);
    const first = await withOrg(org.orgId, (db) => generatePortalLink(db, leadId, user(org)));
    const second = await withOrg(org.orgId, (db) => generatePortalLink(db, leadId, user(org)));
    expect(first.created).to.equal(true);
    expect(second.created).to.equal(false);
    expect(second.link).to.deep.equal(first.link);
    expect(await activeLinkCount(org.orgId)).to.equal(1);
  });

  it('refuses an 11th active link on the Free plan with a way out, and revoking frees a slot', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const ids = await leads(org.orgId, 11);
    const links: Awaited<ReturnType<typeof linkFor>>[] = [];
    for (const leadId of ids.slice(0, 10)) links.push(await linkFor(org.orgId, leadId));
    const err = await withOrg(org.orgId, (db) => generatePortalLink(db, ids[10], user(org))).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PortalLinkLimitError);
    expect(translate('en', (err as Error).message))
      .to.contain('10 active portal links')
      .and.to.contain('revoke')
      .and.to.contain('upgrade');
    expect(await activeLinkCount(org.orgId)).to.equal(10);
    await withOrg(org.orgId, (db) => revokePortalLink(db, links[0].id, user(org)));
    const eleventh = await withOrg(org.orgId, (db) => generatePortalLink(db, ids[10], user(org)));
    expect(eleventh.created).to.equal(true);
    expect(await activeLinkCount(org.orgId)).to.equal(10);
  });

  it('lets Starter and Pro have more than 10 active links', async () => {
    for (const plan of ['starter', 'pro'] as const) {
      const org = await createTestOrg({ plan });
      for (const leadId of await leads(org.orgId, 12)) await linkFor(org.orgId, leadId);
      expect(await activeLinkCount(org.orgId)).to.equal(12);
    }
  });

  it('holds the limit under concurrency: 50 generations at once with 9 active → exactly one succeeds', async function () {
    this.timeout(60_000);
    const org = await createTestOrg({ plan: 'free' });
    const ids = await leads(org.orgId, 59);
    for (const leadId of ids.slice(0, 9)) await linkFor(org.orgId, leadId);
    const outcomes = await Promise.allSettled(
      ids.slice(9).map((leadId) => withOrg(org.orgId, (db) => generatePortalLink(db, leadId, user(org)))),
    );
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof PortalLinkLimitError);
    expect(ok).to.have.length(1);
    expect(refused).to.have.length(49);
    expect(await activeLinkCount(org.orgId)).to.equal(10);
  });

  it('regenerate revokes the old link and issues a new one, even at the Free limit', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const ids = await leads(org.orgId, 10);
    const links: Awaited<ReturnType<typeof linkFor>>[] = [];
    for (const leadId of ids) links.push(await linkFor(org.orgId, leadId));
    const fresh = await withOrg(org.orgId, (db) => regeneratePortalLink(db, ids[0], user(org)));
    expect(fresh.id).not.to.equal(links[0].id);
    expect(await activeLinkCount(org.orgId)).to.equal(10);
    const old = await getDb()('portal_links').where({ id: links[0].id }).first<PortalLinkRecord>();
    expect(old.revoked_at).to.be.instanceOf(Date);
    expect(old.revoked_by).to.equal(org.userId);
    const app = testApp();
    expect((await supertest(app).get(`/p/${links[0].token}`)).status).to.equal(404);
    expect((await supertest(app).get(new URL(fresh.url).pathname)).status).to.equal(200);
    const regenerated = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'portal_link.regenerated' })
      .select<AuditEventRecord[]>();
    expect(regenerated).to.have.length(1);
    expect(regenerated[0]).to.include({ subject_type: 'lead', subject_id: ids[0] });
    expect(regenerated[0].data).to.deep.equal({ linkId: fresh.id, revokedLinkId: links[0].id });
  });

  it('revoking never deletes or hides CRM records', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const [leadId] = await leads(org.orgId, 1);
    await seedCustomerRecords(org.orgId, leadId, { proposals: 2, invoices: 2, payments: 2, jobs: 2 });
    const count = async () =>
      withOrg(org.orgId, async (db) => {
        const out: Record<string, number> = {};
        for (const t of ['leads', 'proposals', 'invoices', 'payments', 'jobs']) {
          const [{ n }] = await db(t).count<{ n: string }[]>('* as n');
          out[t] = Number(n);
        }
        return out;
      });
    const before = await count();
    const { id } = await linkFor(org.orgId, leadId);
    await withOrg(org.orgId, (db) => revokePortalLink(db, id, user(org)));
    expect(await count()).to.deep.equal(before);
    expect(await getDb()('portal_links').where({ id }).first<PortalLinkRecord | undefined>()).to.be.an('object');
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, action: 'portal_link.revoked' }).first<AuditEventRecord>();
    expect(audit.actor_user_id).to.equal(org.userId);
    expect(audit).to.include({ subject_type: 'lead', subject_id: leadId });
    expect(audit.data).to.deep.equal({ linkId: id });
  });

  it('a downgraded org over the limit keeps its links working but cannot add one until under the limit', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const ids = await leads(org.orgId, 13);
    const links: Awaited<ReturnType<typeof linkFor>>[] = [];
    for (const leadId of ids.slice(0, 12)) links.push(await linkFor(org.orgId, leadId));
    await getDb()('organizations').where({ id: org.orgId }).update({ plan: 'free' });
    const app = testApp();
    for (const l of links) expect((await supertest(app).get(`/p/${l.token}/history`)).status).to.equal(200);
    const refuse = () => withOrg(org.orgId, (db) => generatePortalLink(db, ids[12], user(org))).catch((e: unknown) => e);
    expect(await refuse()).to.be.instanceOf(PortalLinkLimitError);
    // Revoking two leaves 10: still at the limit.
    for (const l of links.slice(0, 2)) await withOrg(org.orgId, (db) => revokePortalLink(db, l.id, user(org)));
    expect(await refuse()).to.be.instanceOf(PortalLinkLimitError);
    await withOrg(org.orgId, (db) => revokePortalLink(db, links[2].id, user(org)));
    expect((await withOrg(org.orgId, (db) => generatePortalLink(db, ids[12], user(org)))).created).to.equal(true);

    const agent = await loginAgent(org.email, org.password);
    await getDb()('organizations').where({ id: org.orgId }).update({ plan: 'starter' });
    for (const leadId of ids.slice(0, 2)) await linkFor(org.orgId, leadId);
    await getDb()('organizations').where({ id: org.orgId }).update({ plan: 'free' });
    const page = await agent.get('/settings/portal');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('12 of 10 active links');
    expect(page.text).to.contain('existing links keep working');
  });

  describe('admin routes', () => {
    it('generates, revokes and regenerates from the customer page actions, with audit events', async () => {
      const org = await createTestOrg();
      const [leadId, neighbourId] = await leads(org.orgId, 2);
      // Another customer of the same business, whose link none of this customer's actions may touch.
      const neighbour = await linkFor(org.orgId, neighbourId);
      const agent = await loginAgent(org.email, org.password);
      let res = await agent.post(`/customers/${leadId}/portal-link`).type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(`/customers/${leadId}`);
      const first = await withOrg(org.orgId, (db) => activePortalLink(db, leadId));
      expect(first).to.not.equal(null);
      res = await agent.post(`/customers/${leadId}/portal-link/regenerate`).type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      const second = await withOrg(org.orgId, (db) => activePortalLink(db, leadId));
      expect(second!.id).not.to.equal(first!.id);
      res = await agent.post(`/customers/${leadId}/portal-link/revoke`).type('form').send({ _csrf: agent.csrf, confirm: '1' });
      expect(res.status).to.equal(303);
      expect(await withOrg(org.orgId, (db) => activePortalLink(db, leadId))).to.equal(null);
      // Revoking again finds nothing of this customer's to revoke (404), and still leaves the neighbour's link alone.
      res = await agent.post(`/customers/${leadId}/portal-link/revoke`).type('form').send({ _csrf: agent.csrf, confirm: '1' });
      expect(res.status).to.equal(404);
      expect((await withOrg(org.orgId, (db) => activePortalLink(db, neighbourId)))?.id).to.equal(neighbour.id);
      const actions = await getDb()('audit_events')
        .where({ org_id: org.orgId })
        .whereNot({ subject_id: neighbourId })
        .whereLike('action', 'portal_link.%')
        .orderBy('id')
        .pluck('action');
      expect(actions).to.deep.equal(['portal_link.created', 'portal_link.regenerated', 'portal_link.revoked']);
    });

    it('revoke on the customer page asks first: the panel, a GET and an unconfirmed POST only show the question', async () => {
      const org = await createTestOrg();
      const [leadId] = await leads(org.orgId, 1);
      const link = await linkFor(org.orgId, leadId);
      const agent = await loginAgent(org.email, org.password);
      const page = await agent.get(`/customers/${leadId}`);
      expect(page.status).to.equal(200);
      // The panel's Revoke only opens the question; the form inside it is the one that says yes.
      expect(page.text).to.match(
        /<details class="confirm">\s*<summary[^>]*>Revoke…<\/summary>\s*<form method="post" action="\/customers\/[^"]+\/portal-link\/revoke">/,
      );
      expect(page.text).to.contain('name="confirm" value="1"');
      const asked = await agent.get(`/customers/${leadId}/portal-link/revoke`);
      expect(asked.status).to.equal(200);
      expect(asked.text).to.contain('portal link?');
      expect(asked.text).to.contain('name="confirm" value="1"');
      const unconfirmed = await agent.post(`/customers/${leadId}/portal-link/revoke`).type('form').send({ _csrf: agent.csrf });
      expect(unconfirmed.status).to.equal(200);
      expect(unconfirmed.text).to.contain('stops working at once');
      expect((await withOrg(org.orgId, (db) => activePortalLink(db, leadId)))!.id).to.equal(link.id);
      expect(await getDb()('audit_events').where({ org_id: org.orgId, action: 'portal_link.revoked' }).pluck('id')).to.deep.equal([]);
      const confirmed = await agent.post(`/customers/${leadId}/portal-link/revoke`).type('form').send({ _csrf: agent.csrf, confirm: '1' });
      expect(confirmed.status).to.equal(303);
      expect(await withOrg(org.orgId, (db) => activePortalLink(db, leadId))).to.equal(null);
      const after = await agent.get(`/customers/${leadId}/portal-link/revoke`);
      expect(after.text).to.contain('nothing to revoke');
    });

    it('refuses the 11th link on Free with 409 and the Settings list to free a slot; nothing written', async () => {
      const org = await createTestOrg({ plan: 'free' });
      const ids = await leads(org.orgId, 11);
      for (const leadId of ids.slice(0, 10)) await linkFor(org.orgId, leadId);
      const agent = await loginAgent(org.email, org.password);
      const res = await agent.post(`/customers/${ids[10]}/portal-link`).type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(409);
      expect(res.text).to.contain('10 of 10 active links');
      expect(res.text).to.contain('upgrade to Starter');
      expect(res.text).to.contain('/settings/portal/links/');
      expect(await activeLinkCount(org.orgId)).to.equal(10);
    });

    it("refuses a POST without the CSRF token (403) and another org's customer (404)", async () => {
      const org = await createTestOrg();
      const other = await createTestOrg();
      const [leadId] = await leads(org.orgId, 1);
      const [otherLead] = await leads(other.orgId, 1);
      const agent = await loginAgent(org.email, org.password);
      expect((await agent.post(`/customers/${leadId}/portal-link`).type('form').send({})).status).to.equal(403);
      expect((await agent.post(`/customers/${otherLead}/portal-link`).type('form').send({ _csrf: agent.csrf })).status).to.equal(404);
      expect((await agent.post(`/customers/not-a-uuid/portal-link`).type('form').send({ _csrf: agent.csrf })).status).to.equal(404);
      expect(await activeLinkCount(org.orgId)).to.equal(0);
      expect(await activeLinkCount(other.orgId)).to.equal(0);
      const otherLink = await linkFor(other.orgId, otherLead);
      expect((await agent.post(`/settings/portal/links/${otherLink.id}/revoke`).type('form').send({ _csrf: agent.csrf })).status).to.equal(
        404,
      );
      expect(await activeLinkCount(other.orgId)).to.equal(1);
    });

    it('Settings → Customer Portal lists active links with usage, filters stale ones and revokes', async () => {
      const org = await createTestOrg({ plan: 'free' });
      const ids = await leads(org.orgId, 7);
      const links: Awaited<ReturnType<typeof linkFor>>[] = [];
      for (const leadId of ids) links.push(await linkFor(org.orgId, leadId, org.userId));
      // One viewed recently, one viewed long ago, one created long ago and never viewed.
      await getDb()('portal_links')
        .where({ id: links[0].id })
        .update({ last_viewed_at: getDb().raw("now() - interval '120 days'"), view_count: 3 });
      await getDb()('portal_links')
        .where({ id: links[1].id })
        .update({ created_at: getDb().raw("now() - interval '100 days'") });
      // The others made at the very same moment: newest first, then the same order every time (by id).
      const others = links.filter((_, i) => i !== 1);
      await getDb()('portal_links')
        .whereIn(
          'id',
          others.map((l) => l.id),
        )
        .update({ created_at: getDb().raw("date_trunc('second', now())") });
      const agent = await loginAgent(org.email, org.password);
      const page = await agent.get('/settings/portal');
      expect(page.status).to.equal(200);
      expect(page.text).to.contain('7 of 10 active links');
      const revokeForms = [...page.text.matchAll(/action="\/settings\/portal\/links\/([^/"]+)\/revoke"/g)].map((m) => m[1]);
      expect(revokeForms).to.deep.equal([
        ...others
          .map((l) => l.id)
          .sort()
          .reverse(),
        links[1].id,
      ]);
      expect(page.text).to.contain('Customer6');
      expect(page.text).to.contain('Olive &quot;Ollie&quot; O&#x27;Owner 🦉');
      const stale = await agent.get('/settings/portal?stale=1');
      expect(stale.text).to.contain('Customer0').and.to.contain('Customer1');
      expect(stale.text).not.to.contain('Customer2');
      const csrf = csrfFrom(page.text);
      const res = await agent.post(`/settings/portal/links/${links[3].id}/revoke`).type('form').send({ _csrf: csrf });
      expect(res.status).to.equal(303);
      expect(await activeLinkCount(org.orgId)).to.equal(6);
      expect((await agent.get('/settings/portal')).text).to.contain('6 of 10 active links');
    });

    it('loadPortalPanel gives the customer page the link, its URL and the usage', async () => {
      const org = await createTestOrg({ plan: 'free' });
      const [leadId] = await leads(org.orgId, 1);
      const panel = async () => withOrg(org.orgId, (db) => loadPortalPanel(db, { id: leadId, first_name: 'Customer0' }));
      const empty = await panel();
      expect(empty.link).to.equal(null);
      expect(empty.canGenerate).to.equal(true);
      const { url } = await linkFor(org.orgId, leadId, org.userId);
      const full = (await panel()) as { link: { url: string; created_by_name: string }; usage: { active: number; limit: number } };
      expect(full.link.url).to.equal(url);
      expect(full.link.created_by_name).to.equal(OWNER_NAME);
      expect(full.usage).to.include({ active: 1, limit: 10 });
    });
  });
});
