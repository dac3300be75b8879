// The portal of a customer with several properties (issue #14, point 5): lists grouped
// by property, a filter (?property=<id>, a plain GET form) that shows only that
// property's documents, a document without a property under the main one, and still
// one portal_page() call per page view. A customer with one property sees no filter.
import { expect } from 'chai';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { countRoundTrips, linkFor, resetPortalMisses } from './support.js';

const app = () => supertest(testApp());

interface Seeded {
  orgId: string;
  leadId: string;
  home: string;
  rental: string;
  token: string;
}

/** Ivy has two properties: a proposal and an invoice on each (the home's without property_id), a visit at the rental. */
async function seedLandlord(): Promise<Seeded> {
  const { orgId } = await createTestOrg({ plan: 'pro' });
  const { id: leadId } = await createTestLead(orgId, { first_name: 'Ivy' });
  const ids = await withOrg(orgId, async (db) => {
    const [home] = await db('properties')
      .insert({ org_id: orgId, lead_id: leadId, label: 'Home', address: '1 Home Row', created_at: new Date(Date.now() - 60_000) })
      .returning<{ id: string }[]>('id');
    const [rental] = await db('properties')
      .insert({ org_id: orgId, lead_id: leadId, label: 'Rental', address: '2 Rental Row' })
      .returning<{ id: string }[]>('id');
    const proposal = (n: number, title: string, property: string | null) => ({
      org_id: orgId,
      lead_id: leadId,
      property_id: property,
      number: n,
      title,
      status: 'pending',
      subtotal_cents: 1000,
      tax_cents: 0,
      total_cents: 1000,
      sent_at: new Date(),
    });
    await db('proposals').insert([proposal(1, 'Kitchen tap', null), proposal(2, 'Rental roof', rental.id)]);
    const invoice = (n: number, property: string | null) => ({
      org_id: orgId,
      lead_id: leadId,
      property_id: property,
      number: n,
      currency: 'USD',
      issue_date: '2026-11-01',
      due_date: '2026-11-15',
      subtotal_cents: 1000 * n,
      total_cents: 1000 * n,
      status: 'open',
    });
    await db('invoices').insert([invoice(1, home.id), invoice(7, rental.id)]);
    await db('jobs').insert({ org_id: orgId, lead_id: leadId, property_id: rental.id, service_type: 'Gutter clean at rental' });
    return { home: home.id, rental: rental.id };
  });
  const { token } = await linkFor(orgId, leadId);
  return { orgId, leadId, token, ...ids };
}

describe('portal: several properties per customer', () => {
  let s: Seeded;

  before(async () => {
    s = await seedLandlord();
  });
  beforeEach(resetPortalMisses);

  it('groups the lists by property under headings, with a property filter', async () => {
    const res = await app().get(`/p/${s.token}/proposals`);
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('class="property-filter"').and.contain('<option value="" selected>All properties</option>');
    expect(res.text).to.contain(`<option value="${s.rental}">Rental</option>`);
    const home = res.text.indexOf('<h2 class="property-heading">Home');
    const rental = res.text.indexOf('<h2 class="property-heading">Rental');
    expect(home).to.be.greaterThan(0);
    expect(rental).to.be.greaterThan(home);
    // The document without a property sits under the main (first) property.
    const tap = res.text.indexOf('Kitchen tap');
    const roof = res.text.indexOf('Rental roof');
    expect(tap).to.be.greaterThan(home).and.lessThan(rental);
    expect(roof).to.be.greaterThan(rental);
  });

  it('shows only the chosen property’s documents on every list, and keeps the filter on the tabs and pages', async () => {
    const rental = await app().get(`/p/${s.token}/proposals`).query({ property: s.rental });
    expect(rental.status).to.equal(200);
    expect(rental.text).to.contain('Rental roof').and.not.contain('Kitchen tap');
    expect(rental.text).to.contain(`<option value="${s.rental}" selected>Rental</option>`).and.contain('2 Rental Row');
    expect(rental.text.replace(/&#x3D;/g, '=')).to.contain(`/p/${s.token}/invoices?property=${s.rental}`);
    expect(rental.text).to.not.contain('property-heading');

    const home = await app().get(`/p/${s.token}/proposals`).query({ property: s.home });
    expect(home.text).to.contain('Kitchen tap').and.not.contain('Rental roof');
    // The portal's front page (the tab that needs the customer) keeps the filter too.
    const front = await app().get(`/p/${s.token}`).query({ property: s.rental });
    expect(front.status).to.equal(200);
    expect(front.text).to.contain('Rental roof').and.not.contain('Kitchen tap');

    const invoices = await app().get(`/p/${s.token}/invoices`).query({ property: s.rental });
    expect(invoices.text).to.contain('Invoice #7').and.not.contain('Invoice #1<');
    const history = await app().get(`/p/${s.token}/history`).query({ property: s.home });
    expect(history.text).to.not.contain('Gutter clean at rental');
    const rentalHistory = await app().get(`/p/${s.token}/history`).query({ property: s.rental });
    expect(rentalHistory.text).to.contain('Gutter clean at rental').and.contain('2 Rental Row');
    const payments = await app().get(`/p/${s.token}/payments`).query({ property: s.home });
    expect(payments.text).to.contain('$10.00').and.not.contain('$70.00');
  });

  it('treats another customer’s property or a malformed value as no filter', async () => {
    const { orgId } = await createTestOrg();
    const { id: otherLead } = await createTestLead(orgId);
    const [foreign] = await withOrg(orgId, (db) =>
      db('properties').insert({ org_id: orgId, lead_id: otherLead, address: '5 Elsewhere' }).returning<{ id: string }[]>('id'),
    );
    for (const property of [foreign.id, 'junk', '']) {
      const res = await app().get(`/p/${s.token}/proposals`).query({ property });
      expect(res.status, property).to.equal(200);
      expect(res.text, property).to.contain('Kitchen tap').and.contain('Rental roof').and.not.contain('5 Elsewhere');
    }
  });

  it('keeps each filtered page to one portal_page() call (at most two round trips)', async () => {
    for (const path of ['', '/proposals', '/invoices', '/payments', '/history']) {
      const { result, roundTrips } = await countRoundTrips(() => app().get(`/p/${s.token}${path}`).query({ property: s.rental }));
      expect(result.status, path).to.equal(200);
      expect(roundTrips, path).to.be.at.most(2);
    }
  });

  it('shows no filter to a customer with a single property', async () => {
    const { orgId } = await createTestOrg();
    const { id: leadId } = await createTestLead(orgId);
    await withOrg(orgId, (db) => db('properties').insert({ org_id: orgId, lead_id: leadId, address: '3 Only Lane' }));
    const { token } = await linkFor(orgId, leadId);
    for (const tab of ['proposals', 'invoices', 'payments', 'history']) {
      const res = await app().get(`/p/${token}/${tab}`);
      expect(res.status, tab).to.equal(200);
      expect(res.text, tab).to.not.contain('property-filter').and.not.contain('property-heading');
    }
  });
});
