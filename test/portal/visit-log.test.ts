// The visit log (issue #14, point 3): each portal page served records when, which
// tab or document and the device family, with the network hashed, inside the page's
// one SQL call; the first view of each proposal and invoice is stamped; the contractor
// sees both; visits older than 90 days are deleted by a scheduled job.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { deviceFamily, truncatedNetwork, visitNetworkHash } from '../../src/portal/visit.js';
import { pruneOldVisits } from '../../src/portal/visit-retention.js';
import { activeLinkDetails, listActivePortalLinks, recentVisits } from '../../src/portal-links/queries.js';
import { closeQueues } from '../../src/queue/queues.js';
import { startVisitsRetention } from '../../workers/portal-visits-retention.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { countRoundTrips, customerWithLink, resetPortalMisses } from './support.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

interface VisitRecord {
  link_id: string;
  lead_id: string;
  org_id: string;
  viewed_at: Date;
  view: string;
  document_id: string | null;
  device: string | null;
  ip_hash: string | null;
}

async function visitsOf(leadId: string): Promise<VisitRecord[]> {
  return getDb()('portal_visits').where({ lead_id: leadId }).orderBy('id').select<VisitRecord[]>('*');
}

function customer() {
  return customerWithLink('starter', { proposals: 2, pendingProposals: 1, invoices: 2, openInvoices: 1, jobs: 1 });
}

describe('portal visit log', () => {
  beforeEach(resetPortalMisses);

  it('records each page with its tab or document and the device family, in the page’s one round trip', async () => {
    const { org, lead, records, link } = await customer();
    const app = testApp();
    const paths: [string, string][] = [
      ['', IPHONE],
      ['/history', ANDROID],
      [`/invoices/${records.invoiceIds[0]}`, IPHONE],
      [`/proposals/${records.proposalIds[0]}`, WINDOWS],
    ];
    for (const [path, ua] of paths) {
      const { result, roundTrips } = await countRoundTrips(() => supertest(app).get(`/p/${link.token}${path}`).set('User-Agent', ua));
      expect(result.status, path).to.equal(200);
      // The same bound as every portal page before the log existed (portal.test.ts).
      expect(roundTrips, path).to.be.at.most(2);
    }
    // Warm (a pooled connection): exactly one round trip, the visit included.
    const warm = await countRoundTrips(() => supertest(app).get(`/p/${link.token}/payments`).set('User-Agent', MAC));
    expect(warm.result.status).to.equal(200);
    expect(warm.roundTrips).to.equal(1);
    await getDb()('portal_visits').where({ lead_id: lead.id, view: 'payments' }).del();
    const visits = await visitsOf(lead.id);
    expect(visits.map((v) => [v.view, v.document_id, v.device])).to.deep.equal([
      ['proposals', null, 'iPhone'], // home opens the tab with something waiting
      ['history', null, 'Android phone'],
      ['invoice', records.invoiceIds[0], 'iPhone'],
      ['proposal', records.proposalIds[0], 'Windows PC'],
    ]);
    for (const v of visits) {
      expect(v.link_id).to.equal(link.id);
      // A keyed hash of the /24, never the address.
      expect(v.ip_hash).to.match(/^[0-9a-f]{32}$/);
      expect(v.ip_hash).to.equal(visitNetworkHash('127.0.0.1'));
    }

    // The contractor reads each one: a tab by its name, a document by its number (or without one when the
    // visit no longer names it), and the device in words.
    await getDb()('portal_visits').insert({ org_id: org.orgId, link_id: link.id, lead_id: lead.id, view: 'invoice', device: 'Mac' });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/customers/${lead.id}`);
    const proposalNumber = await getDb()('proposals').where({ id: records.proposalIds[0] }).first<{ number: number }>('number');
    const invoiceNumber = await getDb()('invoices').where({ id: records.invoiceIds[0] }).first<{ number: number }>('number');
    // Newest first.
    const entries = [
      'Viewed invoice on a Mac',
      `Viewed proposal #${proposalNumber.number} on a Windows PC`,
      `Viewed invoice #${invoiceNumber.number} on an iPhone`,
      'Opened the Service history tab on an Android phone',
      'Opened the Proposals tab on an iPhone',
    ];
    const at = entries.map((entry) => page.text.indexOf(entry));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).to.equal(true);
    expect([...at].sort((a, b) => a - b)).to.deep.equal(at);
    // In Spanish each stored device family has its Spanish words ("Android phone" the Spanish way round), in
    // brackets: English's "a"/"an" can't be carried over (una tableta, un teléfono).
    await getDb()('organizations').where({ id: org.orgId }).update({ locale: 'es-MX' });
    for (const device of ['Phone', 'Tablet', 'TV', 'Linux computer', 'iPad tablet'])
      await getDb()('portal_visits').insert({ org_id: org.orgId, link_id: link.id, lead_id: lead.id, view: 'payments', device });
    const spanish = await agent.get(`/customers/${lead.id}`);
    for (const words of [
      'Abrió la pestaña Historial de servicio (teléfono Android)',
      '(PC con Windows)',
      '(teléfono)',
      '(tableta)',
      '(televisor)',
      '(computadora Linux)',
      '(tableta iPad)',
    ])
      expect(spanish.text).to.contain(words);
  });

  it('records nothing for a miss: an unknown document, another customer’s document, an expired link', async () => {
    const { org, lead, link } = await customer();
    const other = await createTestLead(org.orgId);
    const otherRecords = await seedCustomerRecords(org.orgId, other.id, { invoices: 1, openInvoices: 1 });
    const app = testApp();
    expect((await supertest(app).get(`/p/${link.token}/invoices/${otherRecords.invoiceIds[0]}`)).status).to.equal(404);
    expect((await supertest(app).get(`/p/${link.token}/invoices/00000000-0000-4000-8000-000000000000`)).status).to.equal(404);
    await getDb()('portal_links')
      .where({ id: link.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect((await supertest(app).get(`/p/${link.token}/history`)).status).to.equal(404);
    expect(await visitsOf(lead.id)).to.deep.equal([]);
    const invoice = await getDb()('invoices').where({ id: otherRecords.invoiceIds[0] }).first<{ first_viewed_at: Date | null }>();
    expect(invoice.first_viewed_at).to.equal(null);
  });

  it('stamps the first view of each proposal and invoice once, and shows it with the visit log to the contractor', async () => {
    const { org, lead, records, link } = await customer();
    const app = testApp();
    const invoiceId = records.invoiceIds[0];
    const proposalId = records.proposalIds[0];
    await supertest(app).get(`/p/${link.token}/invoices/${invoiceId}`).set('User-Agent', IPHONE);
    const first = await getDb()('invoices').where({ id: invoiceId }).first<{ first_viewed_at: Date; number: number }>();
    expect(first.first_viewed_at).to.be.an.instanceOf(Date);
    await new Promise((r) => setTimeout(r, 20));
    await supertest(app).get(`/p/${link.token}/invoices/${invoiceId}`).set('User-Agent', MAC);
    const again = await getDb()('invoices').where({ id: invoiceId }).first<{ first_viewed_at: Date }>();
    expect(again.first_viewed_at.getTime()).to.equal(first.first_viewed_at.getTime());
    const untouched = await getDb()('proposals').where({ id: proposalId }).first<{ first_viewed_at: Date | null; number: number }>();
    expect(untouched.first_viewed_at).to.equal(null);

    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get(`/customers/${lead.id}`);
    expect(page.text).to.contain(`Viewed invoice #${first.number} on an iPhone`);
    expect(page.text).to.contain(`Viewed invoice #${first.number} on a Mac`);
    const invoicePage = await agent.get(`/invoices/${invoiceId}`);
    expect(invoicePage.text).to.match(/class="badge viewed"[^>]*>Viewed /);
    const proposalPage = await agent.get(`/proposals/${proposalId}`);
    expect(proposalPage.text).not.to.contain('class="badge viewed"');
    await supertest(app).get(`/p/${link.token}/proposals/${proposalId}`);
    expect((await agent.get(`/proposals/${proposalId}`)).text).to.contain('class="badge viewed"');
    // Another org sees none of it.
    const stranger = await createTestOrg();
    const seen = await withOrg(stranger.orgId, (db) => db('portal_visits').where({ lead_id: lead.id }).select('id'));
    expect(seen).to.deep.equal([]);
  });

  it('lists visits made at the very same moment newest first (the later one stored first), the same every time', async () => {
    const { lead, link } = await customer();
    await supertest(testApp()).get(`/p/${link.token}/history`);
    const [recent] = await visitsOf(lead.id);
    const at = new Date(Date.now() - 60_000);
    const base = { org_id: recent.org_id, link_id: link.id, lead_id: lead.id, viewed_at: at };
    await getDb()('portal_visits').insert({ ...base, view: 'payments' });
    await getDb()('portal_visits').insert({ ...base, view: 'invoices' });
    await getDb()('portal_visits').insert({ ...base, view: 'proposals' });
    const views = await withOrg(recent.org_id, (db) => recentVisits(db, lead.id));
    expect(views.map((v) => v.view)).to.deep.equal(['history', 'proposals', 'invoices', 'payments']);
  });

  it('deletes visits older than 90 days from a scheduled job, and nothing younger', async () => {
    const { lead, link } = await customer();
    await supertest(testApp()).get(`/p/${link.token}/history`);
    const [recent] = await visitsOf(lead.id);
    const base = { org_id: recent.org_id, link_id: link.id, lead_id: lead.id, view: 'history' };
    const day = 86_400_000;
    await getDb()('portal_visits').insert([
      { ...base, viewed_at: new Date(Date.now() - 91 * day) },
      { ...base, viewed_at: new Date(Date.now() - 400 * day) },
      { ...base, viewed_at: new Date(Date.now() - 89 * day) },
    ]);
    const retention = await startVisitsRetention({ everyMs: 200 });
    try {
      const deadline = Date.now() + 8000;
      while ((await visitsOf(lead.id)).length > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await retention.close();
      await closeQueues();
    }
    const left = await visitsOf(lead.id);
    expect(left).to.have.length(2);
    for (const v of left) expect(v.viewed_at.getTime()).to.be.greaterThan(Date.now() - 90 * day);
    // The SQL function itself refuses to touch younger rows, whatever the batch.
    expect(await pruneOldVisits(1)).to.equal(0);
    expect(await visitsOf(lead.id)).to.have.length(2);
  });

  it("keeps pruned visits in the link's totals: the same views and last view before and after", async () => {
    const { lead, link } = await customer();
    const org = (await getDb()('portal_links').where({ id: link.id }).first<{ org_id: string }>('org_id')).org_id;
    const day = 86_400_000;
    const lastOld = new Date(Date.now() - 91 * day);
    const base = { org_id: org, link_id: link.id, lead_id: lead.id, view: 'history' };
    await getDb()('portal_visits').insert([
      { ...base, viewed_at: new Date(Date.now() - 400 * day) },
      { ...base, viewed_at: lastOld },
    ]);
    const details = async () => (await withOrg(org, (db) => activeLinkDetails(db, lead.id)))!;
    expect(await details()).to.include({ view_count: 2 });
    expect((await details()).last_viewed_at!.getTime()).to.equal(lastOld.getTime());

    await pruneOldVisits();
    expect(await visitsOf(lead.id)).to.have.length(0);
    const after = await details();
    expect(after.view_count).to.equal(2);
    expect(after.last_viewed_at!.getTime()).to.equal(lastOld.getTime());
    // Stale in Settings → Customer Portal (not viewed in 90 days), pruned or not.
    const stale = await withOrg(org, (db) => listActivePortalLinks(db, { stale: true, page: 1 }));
    expect(stale.rows.map((r) => [r.id, r.view_count])).to.deep.include([link.id, 2]);

    // A new view counts on top of them, and is the last one; the link is no longer stale.
    await supertest(testApp()).get(`/p/${link.token}/history`);
    const viewed = await details();
    expect(viewed.view_count).to.equal(3);
    expect(viewed.last_viewed_at!.getTime()).to.be.greaterThan(Date.now() - 60_000);
    const staleNow = await withOrg(org, (db) => listActivePortalLinks(db, { stale: true, page: 1 }));
    expect(staleNow.rows.map((r) => r.id)).not.to.include(link.id);
  });

  it('checks a visit against its link alone: its customer must be the link’s, and deleting the link or the org deletes it', async () => {
    const keys = await getDb()
      .select<{ def: string }[]>(getDb().raw('pg_get_constraintdef(oid) as def'))
      .from('pg_constraint')
      .where({ conrelid: getDb().raw("'portal_visits'::regclass"), contype: 'f' });
    // One parent per view's insert (issue 16): the link, whose own keys reach the org and the customer.
    expect(keys.map((k) => k.def)).to.deep.equal([
      'FOREIGN KEY (org_id, lead_id, link_id) REFERENCES portal_links(org_id, lead_id, id) ON DELETE CASCADE',
    ]);

    const { org, lead, link } = await customer();
    const other = await createTestLead(org.orgId);
    const refused = await withOrg(org.orgId, (db) =>
      db('portal_visits').insert({ org_id: org.orgId, link_id: link.id, lead_id: other.id, view: 'history' }),
    ).then(
      () => null,
      (err: { code?: string; constraint?: string }) => err,
    );
    expect(refused?.code, 'another customer’s visit on this link').to.equal('23503');
    expect(refused?.constraint).to.equal('portal_visits_link_fkey');

    await supertest(testApp()).get(`/p/${link.token}/history`).expect(200);
    expect(await visitsOf(lead.id)).to.have.length(1);
    await getDb()('portal_links').where({ id: link.id }).delete();
    expect(await visitsOf(lead.id), 'the link’s visits go with it').to.deep.equal([]);

    const again = await customer();
    await supertest(testApp()).get(`/p/${again.link.token}/history`).expect(200);
    expect(await visitsOf(again.lead.id)).to.have.length(1);
    await getDb()('organizations').where({ id: again.org.orgId }).delete();
    expect(await visitsOf(again.lead.id), 'the org’s visits go with it').to.deep.equal([]);
  });

  it('names device families and truncates addresses before hashing', () => {
    expect(deviceFamily(IPHONE)).to.equal('iPhone');
    expect(deviceFamily(ANDROID)).to.equal('Android phone');
    expect(deviceFamily(WINDOWS)).to.equal('Windows PC');
    expect(deviceFamily(MAC)).to.equal('Mac');
    expect(deviceFamily(undefined)).to.equal(null);
    expect(truncatedNetwork('203.0.113.77')).to.equal('203.0.113.0/24');
    expect(truncatedNetwork('::ffff:203.0.113.77')).to.equal('203.0.113.0/24');
    expect(truncatedNetwork('2001:db8:abcd:12::1')).to.equal('2001:db8:abcd::/48');
    expect(truncatedNetwork('2001:db8::1')).to.equal('2001:db8:0::/48');
    expect(truncatedNetwork('nonsense')).to.equal(null);
    expect(visitNetworkHash('203.0.113.77')).to.equal(visitNetworkHash('203.0.113.5'));
    expect(visitNetworkHash('203.0.113.77')).not.to.equal(visitNetworkHash('203.0.114.77'));
  });
});
