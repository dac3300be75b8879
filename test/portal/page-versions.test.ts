// Issue 16: portal_page() builds a page only when what it is built from changed.
// The caller names the version of the page it rendered last; Postgres answers
// SAME_PAGE when that is still current, and logs the visit either way. These
// tests pin what changes a version: a committed write to any of the customer's
// records (every table portal_page() reads them from carries the trigger), an
// update of the org's row; and what does not: a rolled-back write, another
// customer's records.
import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { loadPortalPageText, SAME_PAGE, type PortalView } from '../../src/db/portal-page.js';
import { hashPortalToken } from '../../src/portal-links/token.js';
import { createTestLead } from '../support/factories.js';
import { seedCustomerRecords } from './fixtures.js';
import { customerWithLink } from './support.js';

/** The tables holding a customer's records that portal_page() reads, as the product has them. */
const CUSTOMER_TABLES = [
  'autopay_attempts',
  'checkout_sessions',
  'invoice_items',
  'invoices',
  'jobs',
  'leads',
  'payments',
  'properties',
  'proposal_items',
  'proposal_signatures',
  'proposal_versions',
  'proposals',
  'stripe_customers',
  'work_requests',
];
/** What else it reads: the org (its row's version), its logo (changed only with the org row), and the versions. */
const ORG_TABLES = ['org_logos', 'organizations', 'portal_versions'];

const VIEW: PortalView = { kind: 'list', tab: 'invoices', page: 1 };
const visitor = { device: 'desktop', ipHash: null };

async function customer() {
  const { org, lead, records, link } = await customerWithLink('pro', {
    proposals: 2,
    pendingProposals: 1,
    invoices: 2,
    openInvoices: 1,
    payments: 1,
    jobs: 1,
  });
  const hash = hashPortalToken(link.token);
  /** The page's version now (a full read, which logs a visit). */
  const version = async () => (JSON.parse((await loadPortalPageText(hash, VIEW, visitor))!) as { version: string }).version;
  return { org, lead, records, link, hash, version };
}

describe('portal page versions', () => {
  it('answers SAME_PAGE to the current version, the page to any other, and logs every visit', async () => {
    const { lead, hash, version } = await customer();
    const current = await version();
    expect(current).to.match(/^\d+\.\d+$/);
    expect(await loadPortalPageText(hash, VIEW, visitor, current)).to.equal(SAME_PAGE);
    const other = await loadPortalPageText(hash, VIEW, visitor, `${current}0`);
    expect(JSON.parse(other!)).to.include({ tab: 'invoices', version: current });
    const visits = await getDb()('portal_visits').where({ lead_id: lead.id }).count<{ count: string }[]>('* as count');
    expect(Number(visits[0].count), 'the same page is a visit too').to.equal(3);
    // A document page: the same answer, the visit names the document.
    const invoice = await getDb()('invoices').where({ lead_id: lead.id }).whereNot({ status: 'draft' }).first<{ id: string }>('id');
    const view: PortalView = { kind: 'invoice', id: invoice.id };
    // Its first view stamps when it was first opened: not a change to what the page shows.
    const page = JSON.parse((await loadPortalPageText(hash, view, visitor))!) as { version: string };
    expect(await getDb()('invoices').where({ id: invoice.id }).first('first_viewed_at'))
      .to.have.property('first_viewed_at')
      .that.is.not.equal(null);
    expect(await loadPortalPageText(hash, view, visitor, page.version)).to.equal(SAME_PAGE);
    const logged = await getDb()('portal_visits')
      .where({ lead_id: lead.id, document_id: invoice.id })
      .count<{ count: string }[]>('* as count');
    expect(Number(logged[0].count)).to.equal(2);
  });

  it('an unknown token is still a miss, whatever version is named', async () => {
    expect(await loadPortalPageText(hashPortalToken('x'.repeat(43)), VIEW, visitor, '1.1')).to.equal(null);
  });

  it('every table portal_page() reads a customer’s records from carries the version trigger', async () => {
    const { rows } = await getDb().raw<{ rows: { definition: string }[] }>(
      "select pg_get_functiondef(p.oid) as definition from pg_proc p where p.proname = 'portal_page'",
    );
    expect(rows, 'one portal_page()').to.have.length(1);
    const read = new Set([...rows[0].definition.matchAll(/\b(?:from|join)\s+([a-z_]+)\b(?!\s*\()/g)].map((m) => m[1]));
    expect([...read].sort()).to.deep.equal([...CUSTOMER_TABLES, ...ORG_TABLES].sort());
    const triggered = await getDb()('pg_trigger as t')
      .join('pg_class as c', 'c.oid', 't.tgrelid')
      .where('t.tgname', 'portal_version')
      .orderBy('c.relname')
      .pluck<string[]>('c.relname');
    expect(triggered).to.deep.equal(CUSTOMER_TABLES);
  });

  it('a committed write to any of the customer’s records, or to the org’s row, changes the version', async () => {
    const { org, lead, records, version } = await customer();
    const ofLead = { lead_id: lead.id };
    // One change per table with a row of this customer's (an update that changes nothing is not a change).
    const writes: [string, (db: Parameters<Parameters<typeof withOrg>[1]>[0]) => Promise<unknown>][] = [
      ['leads', (db) => db('leads').where({ id: lead.id }).update({ first_name: 'Siobhán' })],
      ['proposals', (db) => db('proposals').where(ofLead).update({ title: 'Gutters, revised' })],
      ['proposal_items', (db) => db('proposal_items').whereIn('proposal_id', records.proposalIds).update({ description: 'Both sides' })],
      ['invoices', (db) => db('invoices').where(ofLead).update({ customer_message: 'Thank you!' })],
      ['invoice_items', (db) => db('invoice_items').whereIn('invoice_id', records.invoiceIds).update({ description: 'Parts' })],
      ['payments', (db) => db('payments').where(ofLead).update({ reference: 'Check 1042' })],
      ['jobs', (db) => db('jobs').where(ofLead).update({ customer_notes: 'Gate code 4411' })],
      ['organizations', (db) => db('organizations').where({ id: org.orgId }).update({ phone: '+15125550188' })],
      // A delete changes it too.
      ['invoice_items (delete)', (db) => db('invoice_items').where({ invoice_id: records.invoiceIds[0] }).del()],
    ];
    for (const [table, write] of writes) {
      const before = await version();
      const changed = await withOrg(org.orgId, write);
      expect(Number(changed), `${table}: rows written`).to.be.greaterThan(0);
      expect(await version(), table).to.not.equal(before);
    }
  });

  it('a rolled-back write, or another customer’s, leaves the version as it was', async () => {
    const { org, lead, version } = await customer();
    const neighbour = await createTestLead(org.orgId);
    await seedCustomerRecords(org.orgId, neighbour.id, { invoices: 1, openInvoices: 1 });
    const before = await version();
    await withOrg(org.orgId, async (db) => {
      await db('invoices').where({ lead_id: lead.id }).update({ customer_message: 'Never sent' });
      throw new Error('rolled back');
    }).catch((err: Error) => expect(err.message).to.equal('rolled back'));
    await withOrg(org.orgId, (db) => db('invoices').where({ lead_id: neighbour.id }).update({ customer_message: 'For the neighbour' }));
    // An update that changes nothing, and a view's own first-opened stamp, are not changes either.
    await withOrg(org.orgId, (db) => db('invoices').where({ lead_id: lead.id }).update({ org_id: org.orgId }));
    expect(await version()).to.equal(before);
  });
});
