// Portal-link rules, stated literally: usage against the plan limit (10 on Free),
// the refusal's wording, the Settings list (newest first, 50 a page, stale after
// 90 days without a view), and the audit trail of regenerate and revoke.
import { expect } from 'chai';
import { HOSTILE_NAME, OWNER_NAME } from '../support/hostile.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { HttpError } from '../../src/lib/errors.js';
import { generatePortalLink, regeneratePortalLink, revokeCustomerLink, revokePortalLink } from '../../src/portal-links/commands.js';
import {
  activeLinkDetails,
  listActivePortalLinks,
  portalLimitMessage,
  portalLinkUsage,
  usageFrom,
} from '../../src/portal-links/queries.js';
import { PLANS } from '../../src/plans.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { translate } from '../../src/i18n/index.js';

const user = (org: TestOrg) => ({ type: 'user' as const, userId: org.userId });
const DAY = 86_400_000;

async function auditFor(orgId: string, subjectId: string) {
  return getDb()('audit_events')
    .where({ org_id: orgId, subject_id: subjectId })
    .orderBy('created_at')
    .select<{ action: string; data: Record<string, unknown>; actor_user_id: string | null }[]>('action', 'data', 'actor_user_id');
}

describe('portal-link rules (src/portal-links/queries.ts, commands.ts)', () => {
  it('counts usage against the plan: 10 on Free, unlimited on Starter', () => {
    expect(usageFrom(PLANS.free, 0)).to.deep.include({ active: 0, limit: 10, remaining: 10, overLimit: false, atLimit: false });
    expect(usageFrom(PLANS.free, 9)).to.deep.include({ remaining: 1, overLimit: false, atLimit: false });
    expect(usageFrom(PLANS.free, 10)).to.deep.include({ remaining: 0, overLimit: false, atLimit: true });
    expect(usageFrom(PLANS.free, 12)).to.deep.include({ remaining: 0, overLimit: true, atLimit: true });
    expect(usageFrom(PLANS.starter, 500)).to.deep.include({ limit: null, remaining: null, overLimit: false, atLimit: false });
    expect(usageFrom(PLANS.free, 3).plan).to.equal(PLANS.free);
  });

  it('words the refusal with the plan, the numbers and what to do', () => {
    expect(translate('en', portalLimitMessage(usageFrom(PLANS.free, 10)))).to.equal(
      'The Free plan allows 10 active portal links and 10 are in use. To give this customer a link, revoke a link you no longer need ' +
        'under Settings → Customer Portal (the customer’s records stay), or upgrade to Starter for unlimited links.',
    );
    expect(translate('en', portalLimitMessage(usageFrom(PLANS.free, 12))))
      .to.contain('and 12 are in use')
      .and.to.contain('revoke at least 3 links you no longer need under');
    expect(translate('en', portalLimitMessage(usageFrom(PLANS.free, 11)))).to.contain('revoke at least 2 links');
    expect(translate('en', portalLimitMessage(usageFrom(PLANS.starter, 0)))).to.contain('allows 0 active portal links');
  });

  it('refuses an unknown customer with 404, and gives a customer who has a link the same link', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const err = await withOrg(org.orgId, (db) => generatePortalLink(db, '00000000-0000-4000-8000-000000000001', user(org))).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(404);
    const regen = await withOrg(org.orgId, (db) => regeneratePortalLink(db, '00000000-0000-4000-8000-000000000001', user(org))).catch(
      (e: unknown) => e,
    );
    expect((regen as HttpError).status).to.equal(404);
    const lead = await createTestLead(org.orgId);
    const first = await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, user(org)));
    const again = await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, user(org)));
    expect(first.created).to.equal(true);
    expect(again).to.deep.equal({ link: first.link, created: false });
    expect((await auditFor(org.orgId, lead.id)).map((a) => a.action)).to.deep.equal(['portal_link.created']);
  });

  it('regenerate audits the revoked link; with no link it creates one and counts against the limit', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const lead = await createTestLead(org.orgId);
    const fresh = await withOrg(org.orgId, (db) => regeneratePortalLink(db, lead.id, user(org)));
    const next = await withOrg(org.orgId, (db) => regeneratePortalLink(db, lead.id, user(org)));
    expect(next.id).not.to.equal(fresh.id);
    expect(next.url).not.to.equal(fresh.url);
    const audit = await auditFor(org.orgId, lead.id);
    expect(audit.map((a) => [a.action, a.data])).to.deep.equal([
      ['portal_link.created', { linkId: fresh.id }],
      ['portal_link.regenerated', { linkId: next.id, revokedLinkId: fresh.id }],
    ]);
    expect(audit.every((a) => a.actor_user_id === org.userId)).to.equal(true);
    const old = await getDb()('portal_links').where({ id: fresh.id }).first<{ revoked_at: Date | null; revoked_by: string | null }>();
    expect(old.revoked_at).to.be.instanceOf(Date);
    expect(old.revoked_by).to.equal(org.userId);
    const created = await getDb()('portal_links').where({ id: next.id }).first<{ created_by: string | null }>();
    expect(created.created_by).to.equal(org.userId);

    // At the Free limit, a customer without a link can't get one by "regenerate".
    for (let i = 0; i < 9; i++) {
      const other = await createTestLead(org.orgId);
      await withOrg(org.orgId, (db) => generatePortalLink(db, other.id, user(org)));
    }
    const eleventh = await createTestLead(org.orgId);
    const err = await withOrg(org.orgId, (db) => regeneratePortalLink(db, eleventh.id, user(org))).catch((e: unknown) => e);
    expect((err as HttpError).status).to.equal(409);
    expect((err as HttpError).id).to.equal('portal_link_limit');
    expect(err).to.have.property('name', 'PortalLinkLimitError');
    // …while the customer who has one still can.
    await withOrg(org.orgId, (db) => regeneratePortalLink(db, lead.id, user(org)));
    expect((await withOrg(org.orgId, (db) => portalLinkUsage(db))).active).to.equal(10);
  });

  it('revoking: 404 twice, by customer when they have none; a system actor is recorded as no user', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const err = await withOrg(org.orgId, (db) => revokeCustomerLink(db, lead.id, user(org))).catch((e: unknown) => e);
    expect((err as HttpError).status).to.equal(404);
    expect(translate('en', (err as Error).message)).to.equal('This customer has no active portal link.');
    const { link } = await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, { type: 'system', label: 'test' }));
    const made = await getDb()('portal_links').where({ id: link.id }).first<{ created_by: string | null }>();
    expect(made.created_by).to.equal(null);
    await withOrg(org.orgId, (db) => revokeCustomerLink(db, lead.id, { type: 'system', label: 'test' }));
    const row = await getDb()('portal_links').where({ id: link.id }).first<{ revoked_at: Date | null; revoked_by: string | null }>();
    expect(row.revoked_at).to.be.instanceOf(Date);
    expect(row.revoked_by).to.equal(null);
    const again = await withOrg(org.orgId, (db) => revokePortalLink(db, link.id, user(org))).catch((e: unknown) => e);
    expect((again as HttpError).status).to.equal(404);
    expect(translate('en', (again as Error).message)).to.equal('This link does not exist or was already revoked.');
    const audit = await auditFor(org.orgId, lead.id);
    expect(audit.map((a) => [a.action, a.data])).to.deep.equal([
      ['portal_link.created', { linkId: link.id }],
      ['portal_link.revoked', { linkId: link.id }],
    ]);
  });

  it('lists active links newest first, 50 a page, and "stale" means no view for 90 days', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const ids: string[] = [];
    for (let i = 0; i < 53; i++) {
      const lead = await createTestLead(org.orgId, { first_name: `L${i}` });
      ids.push((await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, user(org)))).link.id);
    }
    // Distinct creation times, L0 oldest; L52 revoked.
    for (let i = 0; i < 53; i++) {
      await getDb()('portal_links')
        .where({ id: ids[i] })
        .update({ created_at: new Date(Date.now() - (60 - i) * 3_600_000) });
    }
    await withOrg(org.orgId, (db) => revokePortalLink(db, ids[52], user(org)));
    const page1 = await withOrg(org.orgId, (db) => listActivePortalLinks(db, { stale: false, page: 1 }));
    expect(page1.total).to.equal(52);
    expect(page1.rows).to.have.length(50);
    expect(page1.rows[0].first_name).to.equal('L51');
    expect(page1.rows[49].first_name).to.equal('L2');
    expect(page1.rows[0]).to.include({ lead_id: page1.rows[0].lead_id, last_name: HOSTILE_NAME, view_count: 0, last_viewed_at: null });
    const page2 = await withOrg(org.orgId, (db) => listActivePortalLinks(db, { stale: false, page: 2 }));
    expect(page2.rows.map((r) => r.first_name)).to.deep.equal(['L1', 'L0']);
    expect(page2.total).to.equal(52);

    const at = (days: number) => new Date(Date.now() - days * DAY);
    await getDb()('portal_links')
      .where({ id: ids[0] })
      .update({ created_at: at(200), last_viewed_at: at(91) }); // stale
    await getDb()('portal_links')
      .where({ id: ids[1] })
      .update({ created_at: at(200), last_viewed_at: at(89) }); // viewed recently
    await getDb()('portal_links')
      .where({ id: ids[2] })
      .update({ created_at: at(91), last_viewed_at: null }); // stale, never viewed
    await getDb()('portal_links')
      .where({ id: ids[3] })
      .update({ created_at: at(89), last_viewed_at: null }); // new, never viewed
    await getDb()('portal_links')
      .where({ id: ids[52] })
      .update({ created_at: at(300), last_viewed_at: null }); // revoked
    const stale = await withOrg(org.orgId, (db) => listActivePortalLinks(db, { stale: true, page: 1 }));
    expect(stale.rows.map((r) => r.first_name)).to.deep.equal(['L2', 'L0']);
    expect(stale.total).to.equal(2);
  });

  it('gives the customer page its active link with who made it and its views, or null', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    expect(await withOrg(org.orgId, (db) => activeLinkDetails(db, lead.id))).to.equal(null);
    const { link } = await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, user(org)));
    await getDb()('portal_links').where({ id: link.id }).update({ view_count: 4 });
    const details = await withOrg(org.orgId, (db) => activeLinkDetails(db, lead.id));
    expect(details).to.include({ id: link.id, url: link.url, view_count: 4, last_viewed_at: null, created_by_name: OWNER_NAME });
    expect(details).not.to.have.property('token_ciphertext');
    await withOrg(org.orgId, (db) => revokePortalLink(db, link.id, user(org)));
    expect(await withOrg(org.orgId, (db) => activeLinkDetails(db, lead.id))).to.equal(null);
  });
});
