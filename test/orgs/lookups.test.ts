import { expect } from 'chai';
import sharp from 'sharp';
import { withOrg, withoutOrg } from '../../src/db/tenancy.js';
import { orgLogoBySha256 } from '../../src/db/lookups.js';
import { normalizeLogo } from '../../src/orgs/logo.js';
import { saveOrgLogo } from '../../src/orgs/commands.js';
import { createTestOrg } from '../support/factories.js';

describe('settings: lookups before the org is known', () => {
  it('finds a logo by hash through the definer function, returning only its type and bytes', async () => {
    const org = await createTestOrg();
    const logo = await normalizeLogo(
      await sharp({ create: { width: 40, height: 20, channels: 3, background: '#123456' } })
        .png()
        .toBuffer(),
    );
    await withOrg(org.orgId, (db) => saveOrgLogo(db, org.orgId, logo, { type: 'system', label: 'test' }, logo.bytes.length));
    const found = await withoutOrg(async (db) => {
      const { rows } = await db.raw<{ rows: Record<string, unknown>[] }>('select * from org_logo_by_sha256(?)', [logo.sha256]);
      return rows;
    });
    expect(found).to.have.length(1);
    expect(Object.keys(found[0]).sort()).to.deep.equal(['bytes', 'content_type']);
    expect(Buffer.compare(found[0].bytes as Buffer, logo.bytes)).to.equal(0);
    expect(await orgLogoBySha256('f'.repeat(64))).to.equal(null);
  });

  it('keeps the tables themselves closed to the app role without an org', async () => {
    await createTestOrg();
    await withoutOrg(async (db) => {
      for (const table of ['org_logos', 'invitations', 'password_resets', 'organizations']) {
        const rows = await db(table).select('*');
        expect(rows, table).to.have.length(0);
      }
    });
  });

  it('finds an org by its Stripe customer and nothing else', async () => {
    const org = await createTestOrg();
    await withOrg(org.orgId, (db) => db('organizations').update({ stripe_customer_id: 'cus_lookup_test' }));
    const lookup = (id: string) =>
      withoutOrg(
        async (db) =>
          (await db.raw<{ rows: { org_id: string | null }[] }>('select org_by_stripe_customer(?) as org_id', [id])).rows[0].org_id,
      );
    expect(await lookup('cus_lookup_test')).to.equal(org.orgId);
    expect(await lookup('cus_nobody')).to.equal(null);
  });
});
