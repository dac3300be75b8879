// PDFs of proposals, invoices and receipts, and a visit's calendar file: what they
// hold (parsed back with pdf-parse and node-ical), the portal's token rules on
// them, and the dashboard's org scoping.
import { expect } from 'chai';
import ical, { type VEvent } from 'node-ical';
import { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import supertest from 'supertest';
import { withOrg } from '../../src/db/tenancy.js';
import { normalizeLogo } from '../../src/orgs/logo.js';
import { saveOrgLogo } from '../../src/orgs/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { revokePortalLink } from '../../src/portal-links/commands.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { seedCustomerRecords } from '../portal/fixtures.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';

const app = () => supertest(testApp());

function binary(res: supertest.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

async function getPdf(agent: supertest.Agent | ReturnType<typeof app>, path: string, acceptLanguage?: string): Promise<supertest.Response> {
  const request = agent.get(path);
  if (acceptLanguage) void request.set('Accept-Language', acceptLanguage);
  return request.buffer(true).parse(binary);
}

async function pdfText(buf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(buf) });
  try {
    const { text } = await parser.getText({ pageJoiner: '' });
    return text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

function mediaBox(buf: Buffer): string {
  return /\/MediaBox \[([^\]]+)\]/.exec(buf.toString('latin1'))?.[1].trim() ?? '';
}

/** node-ical gives a property as its text, or as { val, params } when it had parameters. */
function paramValue(value: string | { val: string } | undefined): string {
  return typeof value === 'object' ? value.val : (value ?? '');
}

async function brand(org: TestOrg, fields: Record<string, unknown>): Promise<void> {
  await withOrg(org.orgId, (db) => db('organizations').where({ id: org.orgId }).update(fields));
}

describe('documents: PDFs and calendar files', () => {
  beforeEach(resetPortalMisses);

  let org: TestOrg;
  let token: string;
  let leadId: string;
  let records: Awaited<ReturnType<typeof seedCustomerRecords>>;
  let paymentId: string;

  before(async () => {
    org = await createTestOrg({ name: 'Łódź Façades & Ελληνικά Ltd' });
    await brand(org, {
      locale: 'en-US',
      currency: 'USD',
      time_zone: 'Europe/Lisbon',
      brand_color: '#0f766e',
      phone: '+15550100199',
      email: 'office@facades.example',
      address: '1 Rua Augusta, Lisboa',
    });
    leadId = (await createTestLead(org.orgId, { first_name: 'Zoë', last_name: 'Кириллова' })).id;
    records = await seedCustomerRecords(org.orgId, leadId, {
      proposals: 2,
      pendingProposals: 1,
      draftProposals: 1,
      invoices: 2,
      openInvoices: 1,
      draftInvoices: 1,
      payments: 1,
    });
    paymentId = await withOrg(org.orgId, async (db) => (await db('payments').first<{ id: string }>('id')).id);
    token = (await linkFor(org.orgId, leadId)).token;
  });

  describe('PDFs from the portal', () => {
    it('a proposal PDF names the number, every line and the total, with accents and non-Latin names intact', async () => {
      const id = records.pendingProposalIds[0];
      const res = await getPdf(app(), `/p/${token}/proposals/${id}/pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/pdf');
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['content-disposition']).to.match(/^attachment; filename="?proposal-\d+\.pdf"?$/);
      const body = res.body as Buffer;
      expect(body.subarray(0, 5).toString()).to.equal('%PDF-');
      const { number, total_cents } = await withOrg(org.orgId, (db) =>
        db('proposals').where({ id }).first<{ number: number; total_cents: number }>('number', 'total_cents'),
      );
      const text = await pdfText(body);
      expect(text).to.contain(`Proposal #${number}`);
      expect(text).to.contain(`Gutter cleaning ${number}`);
      expect(text).to.contain('Leaf guard');
      expect(text).to.contain(`Total $${(total_cents / 100).toFixed(2)}`);
      expect(text).to.contain('Łódź Façades & Ελληνικά Ltd');
      expect(text).to.contain('Zoë Кириллова');
      expect(text).to.contain('office@facades.example');
      // en-US: US Letter (612 × 792 pt)
      expect(mediaBox(body)).to.equal('0 0 612 792');
    });

    it('an invoice PDF names the number, the line, the total and the balance', async () => {
      const id = records.invoiceIds[0];
      const res = await getPdf(app(), `/p/${token}/invoices/${id}/pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      const inv = await withOrg(org.orgId, (db) =>
        db('invoices').where({ id }).first<{ number: number; total_cents: number }>('number', 'total_cents'),
      );
      const text = await pdfText(res.body as Buffer);
      expect(text).to.contain(`Invoice #${inv.number}`);
      expect(text).to.contain(`Service visit ${inv.number}`);
      expect(text).to.contain(`Total $${(inv.total_cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`);
      expect(text).to.contain('Balance due');
      // A customer on "automatic" whose page is in Spanish gets the PDF in Spanish; the business's copy stays its own.
      const spanish = await pdfText((await getPdf(app(), `/p/${token}/invoices/${id}/pdf`, 'es-MX,es;q=0.9')).body as Buffer);
      expect(spanish).to.contain(`Factura n.º ${inv.number}`).and.to.contain('Saldo pendiente');
      expect(spanish).to.not.contain('Balance due');
    });

    it('a payment receipt PDF names the invoice and the amount paid', async () => {
      const res = await getPdf(app(), `/p/${token}/payments/${paymentId}/pdf`);
      expect(res.status).to.equal(200);
      const pay = await withOrg(org.orgId, (db) =>
        db('payments as y')
          .join('invoices as v', 'v.id', 'y.invoice_id')
          .where('y.id', paymentId)
          .first<{ amount_cents: number; number: number }>('y.amount_cents', 'v.number'),
      );
      const text = await pdfText(res.body as Buffer);
      expect(text).to.contain(`Receipt #${pay.number}`);
      expect(text).to.contain(`Amount paid $${(pay.amount_cents / 100).toFixed(2)}`);
    });

    it('each payment on one invoice has its own receipt: number and file name', async () => {
      const lead = await createTestLead(org.orgId);
      const [invoiceId] = (await seedCustomerRecords(org.orgId, lead.id, { invoices: 1, openInvoices: 1 })).invoiceIds;
      const actor = { type: 'user' as const, userId: org.userId, label: 'o' };
      const paid = [];
      for (const amountCents of [1_000, 2_000])
        paid.push((await withOrg(org.orgId, (db) => recordPayment(db, { invoiceId, amountCents, method: 'check' }, actor))).payment.id);
      const number = (await withOrg(org.orgId, (db) => db('invoices').where({ id: invoiceId }).first<{ number: number }>('number'))).number;
      const own = (await linkFor(org.orgId, lead.id)).token;
      for (const [i, id] of paid.entries()) {
        const res = await getPdf(app(), `/p/${own}/payments/${id}/pdf`);
        expect(res.headers['content-disposition']).to.contain(`receipt-${number}-${i + 1}.pdf`);
        const text = await pdfText(res.body as Buffer);
        expect(text).to.contain(`Receipt #${number}-${i + 1}`);
        expect(text).to.contain(`Payment receipt — invoice #${number}`);
      }
    });

    it('the portal pages link to the PDFs', async () => {
      const proposal = await app().get(`/p/${token}/proposals/${records.pendingProposalIds[0]}`);
      expect(proposal.text).to.contain(`/p/${token}/proposals/${records.pendingProposalIds[0]}/pdf`);
      const invoice = await app().get(`/p/${token}/invoices/${records.invoiceIds[0]}`);
      expect(invoice.text).to.contain(`/p/${token}/invoices/${records.invoiceIds[0]}/pdf`);
      const payments = await app().get(`/p/${token}/payments`);
      expect(payments.text).to.contain(`/p/${token}/payments/${paymentId}/pdf`);
    });

    it('drafts, another customer’s documents, unknown and revoked tokens all get the one plain 404 with no-store', async () => {
      const other = await createTestLead(org.orgId);
      const otherRecords = await seedCustomerRecords(org.orgId, other.id, { invoices: 1, openInvoices: 1 });
      const otherOrg = await createTestOrg();
      const otherOrgLead = await createTestLead(otherOrg.orgId);
      const otherOrgRecords = await seedCustomerRecords(otherOrg.orgId, otherOrgLead.id, { proposals: 1, pendingProposals: 1 });
      const revoked = await linkFor(org.orgId, other.id);
      await withOrg(org.orgId, (db) => revokePortalLink(db, revoked.id, { type: 'system', label: 'test' }));
      const unknown = 'A'.repeat(token.length);
      const paths = [
        `/p/${token}/proposals/${records.draftProposalIds[0]}/pdf`,
        `/p/${token}/invoices/${records.draftInvoiceIds[0]}/pdf`,
        `/p/${token}/invoices/${otherRecords.invoiceIds[0]}/pdf`,
        `/p/${token}/proposals/${otherOrgRecords.proposalIds[0]}/pdf`,
        `/p/${token}/proposals/not-a-uuid/pdf`,
        `/p/${unknown}/proposals/${records.pendingProposalIds[0]}/pdf`,
        `/p/${revoked.token}/invoices/${otherRecords.invoiceIds[0]}/pdf`,
      ];
      const bodies = new Set<string>();
      for (const path of paths) {
        const res = await app().get(path);
        expect(res.status, path).to.equal(404);
        expect(res.headers['cache-control'], path).to.equal('no-store');
        expect(res.headers['content-type'], path).to.match(/^text\/html/);
        bodies.add(res.text);
      }
      expect(bodies.size).to.equal(1);
    });

    it('misses on document URLs count against the portal’s failed-lookup limit', async () => {
      const unknown = 'B'.repeat(token.length);
      for (let i = 0; i < 20; i++) {
        // the portal's failed-lookup limit: 20 per 10 minutes
        expect((await app().get(`/p/${unknown}/invoices/${records.invoiceIds[0]}/pdf`)).status).to.equal(404);
      }
      const over = await app().get(`/p/${unknown}/invoices/${records.invoiceIds[0]}/pdf`);
      expect(over.status).to.equal(429);
      expect(over.headers['cache-control']).to.equal('no-store');
    });
  });

  describe('PDFs from the dashboard', () => {
    it('serves the org’s own documents and a 404 for another org’s ids', async () => {
      const agent = await loginAgent(org.email, org.password);
      const ok = await getPdf(agent, `/invoices/${records.invoiceIds[0]}/pdf`);
      expect(ok.status).to.equal(200);
      expect(ok.headers['content-type']).to.equal('application/pdf');
      expect(ok.headers['cache-control']).to.contain('no-store');
      expect(await pdfText(ok.body as Buffer)).to.contain('Service visit');
      expect((await getPdf(agent, `/payments/${paymentId}/pdf`)).status).to.equal(200);
      expect((await getPdf(agent, `/proposals/${records.proposalIds[0]}/pdf`)).status).to.equal(200);

      const otherOrg = await createTestOrg();
      const otherLead = await createTestLead(otherOrg.orgId);
      const otherRecords = await seedCustomerRecords(otherOrg.orgId, otherLead.id, { proposals: 1, invoices: 1 });
      expect((await agent.get(`/invoices/${otherRecords.invoiceIds[0]}/pdf`)).status).to.equal(404);
      expect((await agent.get(`/proposals/${otherRecords.proposalIds[0]}/pdf`)).status).to.equal(404);
      expect((await agent.get(`/proposals/${records.draftProposalIds[0]}/pdf`)).status).to.equal(404);
    });

    it('A4 outside Letter countries, and the logo is drawn', async () => {
      const euro = await createTestOrg({ name: 'Atelier Ångström' });
      await brand(euro, { locale: 'en-GB', currency: 'EUR' });
      const png = await sharp({ create: { width: 80, height: 40, channels: 3, background: '#ff0000' } })
        .png()
        .toBuffer();
      await withOrg(euro.orgId, async (db) => {
        const logo = await normalizeLogo(png);
        await saveOrgLogo(db, euro.orgId, logo, { type: 'system', label: 'test' }, png.length);
      });
      const lead = await createTestLead(euro.orgId);
      const recs = await seedCustomerRecords(euro.orgId, lead.id, { invoices: 1, openInvoices: 1 });
      const agent = await loginAgent(euro.email, euro.password);
      const res = await getPdf(agent, `/invoices/${recs.invoiceIds[0]}/pdf`);
      expect(res.status).to.equal(200);
      const body = res.body as Buffer;
      expect(mediaBox(body)).to.equal('0 0 595.28 841.89');
      expect(body.toString('latin1')).to.contain('/Subtype /Image');
      expect(await pdfText(body)).to.contain('Atelier Ångström');
    });
  });

  describe('Add to calendar', () => {
    let jobId: string;
    let completedJobId: string;

    before(async () => {
      [jobId, completedJobId] = await withOrg(org.orgId, async (db) => {
        const base = { org_id: org.orgId, lead_id: leadId, technician: 'Terry Tech', internal_notes: 'secret' };
        const [upcoming] = await db('jobs')
          .insert({
            ...base,
            service_type: 'Gutter cleaning',
            status: 'scheduled',
            // 08:30 UTC on a summer day is 09:30 in Lisbon (WEST, UTC+1).
            scheduled_at: new Date('2030-07-15T08:30:00Z'),
            arrival_window_minutes: 180,
            address: '12 Rua das Flores, Porto',
            customer_notes: 'Gate code 4321',
          })
          .returning<{ id: string }[]>('id');
        const [done] = await db('jobs')
          .insert({
            ...base,
            service_type: 'Old visit',
            status: 'completed',
            scheduled_at: new Date('2020-01-01T10:00:00Z'),
            completed_at: new Date('2020-01-01T12:00:00Z'),
          })
          .returning<{ id: string }[]>('id');
        return [upcoming.id, done.id];
      });
    });

    it('an upcoming visit’s .ics parses back with the wall time in the org’s zone, the address and the contact', async () => {
      const res = await app().get(`/p/${token}/visits/${jobId}/ics`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/calendar/);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['content-disposition']).to.contain('visit-2030-07-15.ics');
      expect(res.text).to.contain('DTSTART;TZID=Europe/Lisbon:20300715T093000');
      // When the file was made, in UTC as RFC 5545 requires, and now.
      const stamp = /^DTSTAMP:(\d{8}T\d{6})Z\r?$/m.exec(res.text)?.[1];
      expect(stamp, 'DTSTAMP in UTC').to.be.a('string');
      const [, y, mo, d, h, mi, sec] = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)$/.exec(stamp!)!;
      expect(Math.abs(Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}Z`) - Date.now())).to.be.below(120_000);
      expect(res.text).to.contain('BEGIN:VTIMEZONE');
      const events = Object.values(ical.sync.parseICS(res.text)).filter((c): c is VEvent => c?.type === 'VEVENT');
      expect(events).to.have.length(1);
      const [event] = events;
      expect(event.start.toISOString()).to.equal('2030-07-15T08:30:00.000Z');
      expect(event.start.tz).to.equal('Europe/Lisbon');
      // The arrival window: 3 hours from the scheduled time.
      expect(event.end?.toISOString()).to.equal('2030-07-15T11:30:00.000Z');
      expect(event.location).to.equal('12 Rua das Flores, Porto');
      expect(paramValue(event.summary)).to.contain('Gutter cleaning');
      expect(paramValue(event.description))
        .to.contain('(555) 010-0199')
        .and.to.contain('office@facades.example')
        .and.not.to.contain('secret');
    });

    it('Service History links each upcoming visit to its .ics', async () => {
      const res = await app().get(`/p/${token}/history`);
      expect(res.text).to.contain(`/p/${token}/visits/${jobId}/ics`);
      expect(res.text).not.to.contain(`/visits/${completedJobId}/ics`);
    });

    it('a completed visit, another customer’s visit and a revoked link get the plain 404', async () => {
      expect((await app().get(`/p/${token}/visits/${completedJobId}/ics`)).status).to.equal(404);
      const other = await createTestLead(org.orgId);
      const otherLink = await linkFor(org.orgId, other.id);
      const res = await app().get(`/p/${otherLink.token}/visits/${jobId}/ics`);
      expect(res.status).to.equal(404);
      expect(res.headers['cache-control']).to.equal('no-store');
      await withOrg(org.orgId, (db) => revokePortalLink(db, otherLink.id, { type: 'system', label: 'test' }));
      expect((await app().get(`/p/${otherLink.token}/visits/${jobId}/ics`)).status).to.equal(404);
    });
  });
});
