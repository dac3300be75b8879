// The portal token's lookup, portal_link_by_token_hash(): every portal request calls
// it (portal_page() for a view, lookups.ts for the forms), so it keeps its plan per
// connection (migrations/20261231030000_portal_link_lookup_plan_kept.ts, issue 16).
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { portalLinkByTokenHash } from '../../src/db/lookups.js';
import { LOOKUP_ROLE } from '../../src/db/rls.js';
import { withoutOrg } from '../../src/db/tenancy.js';
import { hashPortalToken } from '../../src/portal-links/token.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor } from './support.js';

describe('portal link lookup', () => {
  it('finds a live link on every call of one connection, and never a revoked, expired or unknown one', async () => {
    const org = await createTestOrg();
    const [live, revoked, expired, later] = await Promise.all([0, 1, 2, 3].map(() => createTestLead(org.orgId)));
    const links = {
      live: await linkFor(org.orgId, live.id),
      revoked: await linkFor(org.orgId, revoked.id),
      expired: await linkFor(org.orgId, expired.id),
      later: await linkFor(org.orgId, later.id),
    };
    await getDb()('portal_links').where({ id: links.revoked.id }).update({ revoked_at: new Date() });
    await getDb()('portal_links')
      .where({ id: links.expired.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    await getDb()('portal_links')
      .where({ id: links.later.id })
      .update({ expires_at: new Date(Date.now() + 60_000) });

    // One connection, more calls than Postgres plans afresh before it settles on a kept
    // (generic) plan: the answers must not change when it does.
    const answers = await withoutOrg(async (db) => {
      const seen: (string | null)[] = [];
      for (let round = 0; round < 4; round++) {
        for (const token of [links.live.token, links.revoked.token, links.expired.token, links.later.token, 'x'.repeat(43)]) {
          seen.push((await portalLinkByTokenHash(hashPortalToken(token), db))?.link_id ?? null);
        }
      }
      return seen;
    });
    const once = [links.live.id, null, null, links.later.id, null];
    expect(answers).to.deep.equal([...once, ...once, ...once, ...once]);
    const found = await portalLinkByTokenHash(hashPortalToken(links.live.token));
    expect(found).to.deep.equal({ link_id: links.live.id, org_id: org.orgId, lead_id: live.id });
  });

  it('is PL/pgSQL, owned by the lookup role: a SECURITY DEFINER SQL function would be planned again on every call', async () => {
    const { rows } = await getDb().raw<{ rows: { language: string; owner: string; definer: boolean }[] }>(
      `select l.lanname as language, p.proowner::regrole::text as owner, p.prosecdef as definer
         from pg_proc p join pg_language l on l.oid = p.prolang
        where p.oid = 'portal_link_by_token_hash(text)'::regprocedure`,
    );
    expect(rows).to.deep.equal([{ language: 'plpgsql', owner: LOOKUP_ROLE, definer: true }]);
  });
});
