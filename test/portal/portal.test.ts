// The customer side of the portal: tabs, detail pages, 404 sameness, headers,
// the failed-lookup rate limit, round trips, view counts and what never leaks.
import crypto from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import type { PortalLinkRecord } from '../support/rows.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { SECRET_NOTE, seedCustomerRecords } from './fixtures.js';
import { countRoundTrips, linkFor, resetPortalMisses } from './support.js';
import { withOrg } from '../../src/db/tenancy.js';
import { activeLinkDetails } from '../../src/portal-links/queries.js';
import { markCheckoutReturned } from '../../src/payments/stripe/checkout.js';
import { checkoutExpiriesSettled } from '../../src/payments/stripe/sessions.js';
import { connectedOrg, openInvoice, startCheckout, startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';

const TABS = ['proposals', 'invoices', 'payments', 'history'] as const;
/** Failed token lookups a client may make in 10 minutes before 429 (the product's number, not imported). */
const PORTAL_MISS_LIMIT = 20;

function expectPortalHeaders(res: supertest.Response): void {
  expect(res.headers['cache-control']).to.equal('no-store');
  expect(res.headers['referrer-policy']).to.equal('no-referrer');
  expect(res.headers['x-robots-tag']).to.match(/^noindex/);
  const csp = String(res.headers['content-security-policy']);
  const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
  expect(scriptSrc).to.contain("'self'");
  expect(scriptSrc).not.to.contain('unsafe-inline');
  expect(csp).to.contain("default-src 'self'");
}

/** Headers that must not tell a revoked link from an unknown one (nonce and date aside). */
function comparableHeaders(res: supertest.Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (k === 'date' || k.startsWith('ratelimit')) continue;
    out[k] = String(v).replace(/'nonce-[^']+'/g, "'nonce-*'");
  }
  return out;
}

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

describe('customer portal pages', () => {
  const app = () => supertest(testApp());
  beforeEach(resetPortalMisses);

  describe('a customer with records', () => {
    let orgId: string;
    let token: string;
    let linkId: string;
    let leadId: string;
    let records: Awaited<ReturnType<typeof seedCustomerRecords>>;

    before(async () => {
      const org = await createTestOrg({ plan: 'starter', name: 'Bright Gutters' });
      orgId = org.orgId;
      await getDb()('organizations')
        .where({ id: orgId })
        .update({
          phone: '+15555550199',
          email: 'office@bright.example',
          whatsapp_number: '+1 555 555 0177'.replace(/\s/g, ''),
          brand_color: '#ffd400',
        });
      const lead = await createTestLead(orgId, { first_name: 'Sarah', last_name: 'Homeowner' });
      leadId = lead.id;
      records = await seedCustomerRecords(orgId, lead.id, {
        proposals: 30,
        pendingProposals: 2,
        draftProposals: 1,
        invoices: 27,
        openInvoices: 3,
        draftInvoices: 1,
        payments: 30,
        jobs: 12,
        upcomingJobs: 3,
      });
      ({ token, id: linkId } = await linkFor(orgId, lead.id));
    });

    it('opens on Proposals when one is pending, and shows the four tabs in order', async () => {
      const res = await app().get(`/p/${token}`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('<h1>Proposals</h1>');
      const labels = [...res.text.matchAll(/<li><a href="\/p\/[^"]+\/(\w+)"/g)].map((m) => m[1]);
      expect(labels).to.deep.equal(['proposals', 'invoices', 'payments', 'history']);
      // Tabs with something waiting carry a count: pending proposals, unpaid invoices.
      expect(res.text).to.match(/>Proposals <span class="count">\d+<span class="visually-hidden"> waiting<\/span><\/span><\/a>/);
      expect(res.text)
        .to.match(/>Invoices <span class="count">3</)
        .and.to.contain('>Payments</a>')
        .and.to.contain('>Service History</a>');
      expectPortalHeaders(res);
    });

    it('paginates lists at 25 and leaves drafts out', async () => {
      const first = await app().get(`/p/${token}/proposals`);
      expect((first.text.match(/class="doc"/g) ?? []).length).to.equal(25);
      expect(first.text).to.contain('Page 1 of 2');
      const second = await app().get(`/p/${token}/proposals?page=2`);
      expect((second.text.match(/class="doc"/g) ?? []).length).to.equal(5);
      for (const html of [first.text, second.text]) expect(html).not.to.contain(records.draftProposalIds[0]);
      const invoices = await app().get(`/p/${token}/invoices?page=2`);
      expect((invoices.text.match(/class="doc"/g) ?? []).length).to.equal(2);
      const payments = await app().get(`/p/${token}/payments?page=2`);
      expect((payments.text.match(/class="doc"/g) ?? []).length).to.equal(5);
    });

    it('shows each tab with its figures', async () => {
      const proposals = await app().get(`/p/${token}/proposals`);
      expect(proposals.text).to.match(/Proposal #\d+ · Gutter work option/);
      expect(proposals.text).to.contain('badge pending');
      const invoices = await app().get(`/p/${token}/invoices`);
      expect(invoices.text).to.match(/Invoice #\d+/);
      expect(invoices.text)
        .to.contain('badge open')
        .and.to.contain('badge paid')
        .and.to.match(/Balance due<\/span>\s*<span class="doc-amount">\$200\.00/);
      const payments = await app().get(`/p/${token}/payments`);
      // 3 open invoices of $200.00, $201.00, $202.00.
      expect(payments.text).to.match(/Open balance<\/p>\s*<p class="balance-amount">\$603\.00/);
      expect(payments.text).to.contain('Card in person').and.to.contain('Invoice #');
      const history = await app().get(`/p/${token}/history`);
      expect(history.text.indexOf('<h2>Upcoming</h2>')).to.be.lessThan(history.text.indexOf('<h2>Past visits</h2>'));
      expect(history.text).to.contain('Upcoming visit 0').and.to.contain('Completed visit 11').and.to.contain('Technician: Terry Tech');
      expect(history.text).to.contain('12 Maple Street');
      expect(history.text.indexOf('Upcoming visit 0')).to.be.lessThan(history.text.indexOf('Upcoming visit 2'));
      expect(history.text.indexOf('Completed visit 3')).to.be.lessThan(history.text.indexOf('Completed visit 11'));
    });

    it('shows a proposal and an invoice with lines, quantities, unit prices, totals, paid and balance', async () => {
      const proposal = await app().get(`/p/${token}/proposals/${records.pendingProposalIds[0]}`);
      expect(proposal.status).to.equal(200);
      expect(proposal.text).to.contain('Gutter cleaning').and.to.contain('2 × $75.00').and.to.contain('1.5 × $120.00');
      expect(proposal.text).to.contain('$330.00').and.to.contain('$16.50').and.to.contain('$346.50');
      // The rate beside the tax, as the PDF and the dashboard give it.
      expect(proposal.text).to.contain('<dt>Tax (5%)</dt>');
      const invoice = await app().get(`/p/${token}/invoices/${records.invoiceIds[5]}`);
      expect(invoice.status).to.equal(200);
      expect(invoice.text).to.contain('Service visit').and.to.contain('Paid').and.to.contain('Balance due');
      expect(invoice.text).to.contain('Payments on this invoice');
    });

    it('brands the page: colours in a style block the CSP allows by its hash, readable text, footer contacts', async () => {
      const res = await app().get(`/p/${token}/history`);
      const css = /<style>([^<]*)<\/style>/.exec(res.text)?.[1];
      expect(css).to.be.a('string');
      const hash = crypto.createHash('sha256').update(css!).digest('base64');
      expect(/style-src ([^;]+)/.exec(String(res.headers['content-security-policy']))?.[1]).to.equal(`'self' 'sha256-${hash}'`);
      expect(res.text).to.contain('--brand: #ffd400; --on-brand: #000000;');
      expect(res.text).to.contain('Bright Gutters').and.to.contain('tel:+15555550199').and.to.contain('mailto:office@bright.example');
      expect(res.text).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    });

    it('has a WhatsApp button naming the customer, and the document on a document page', async () => {
      const list = await app().get(`/p/${token}/invoices`);
      const href = /class="whatsapp-button" href="([^"]+)"/.exec(list.text)?.[1]?.replace(/&#x3D;/g, '=');
      expect(href).to.match(/^https:\/\/wa\.me\/15555550177\?text=/);
      expect(decodeURIComponent(href!.split('text=')[1])).to.equal('Hello Bright Gutters, this is Sarah Homeowner.');
      const detail = await app().get(`/p/${token}/invoices/${records.invoiceIds[0]}`);
      const docHref = /class="whatsapp-button" href="([^"]+)"/.exec(detail.text)![1].replace(/&#x3D;/g, '=');
      expect(decodeURIComponent(docHref.split('text=')[1])).to.match(
        /^Hello Bright Gutters, this is Sarah Homeowner\. I have a question about invoice #\d+\.$/,
      );
    });

    it('never shows internal notes or other private fields on any page', async () => {
      const paths = [
        '',
        ...TABS.map((t) => `/${t}`),
        ...TABS.map((t) => `/${t}?page=2`),
        ...records.proposalIds.slice(0, 4).map((id) => `/proposals/${id}`),
        ...records.invoiceIds.slice(0, 4).map((id) => `/invoices/${id}`),
      ];
      for (const path of paths) {
        // A page past a short list's end leads to its last page.
        const res = await app().get(`/p/${token}${path}`).redirects(1);
        expect(res.status, path).to.equal(200);
        expect(res.text, path).not.to.contain(SECRET_NOTE);
      }
    });

    it('reads each page in at most two database round trips and counts the view without another', async () => {
      const linkVersion = async () =>
        (await getDb()('portal_links').where({ id: linkId }).first<PortalLinkRecord & { xmin: string }>('xmin')).xmin;
      const versionBefore = await linkVersion();
      const before = (await withOrg(orgId, (db) => activeLinkDetails(db, leadId)))!;
      const paths = ['', ...TABS.map((t) => `/${t}`), `/proposals/${records.proposalIds[0]}`, `/invoices/${records.invoiceIds[0]}`];
      for (const path of paths) {
        const { result, roundTrips } = await countRoundTrips(() => app().get(`/p/${token}${path}`));
        expect(result.status).to.equal(200);
        expect(roundTrips, path).to.be.at.most(2);
      }
      // As the contractor sees the link: every view counted, the last one just now.
      const after = (await withOrg(orgId, (db) => activeLinkDetails(db, leadId)))!;
      expect(after.view_count - before.view_count).to.equal(paths.length);
      expect(after.last_viewed_at!.getTime()).to.be.greaterThan(Date.now() - 60_000);
      // A view writes its visit, never the link's row (issue 16: every rewrite left a dead row behind for the next lookup).
      expect(await linkVersion()).to.equal(versionBefore);
    });

    it('keeps an invoice page with the Pay panel (Starter, connected account that can take charges) within two round trips', async () => {
      const standIn = await startStandIn();
      try {
        const org = await connectedOrg(standIn, { plan: 'starter' });
        const invoiceId = await openInvoice(org.orgId, org.leadId, 12_500);
        const { token: payToken } = await linkFor(org.orgId, org.leadId);
        const page = `/p/${payToken}/invoices/${invoiceId}`;
        const shown = await countRoundTrips(() => app().get(page));
        expect(shown.result.status).to.equal(200);
        expect(shown.result.text).to.contain('Pay with card').and.to.contain('value="125.00"');
        expect(shown.roundTrips).to.be.at.most(2);

        // Back from Checkout, before the payment is recorded: "processing", still within two.
        const sessionId = await startCheckout(org, invoiceId);
        await withOrg(org.orgId, (db) => markCheckoutReturned(db, invoiceId, org.leadId, sessionId));
        const processing = await countRoundTrips(() => app().get(page));
        expect(processing.result.text).to.contain('Payment processing').and.not.to.contain('Pay with card');
        expect(processing.roundTrips).to.be.at.most(2);
      } finally {
        await checkoutExpiriesSettled();
        await stopStandIn(standIn);
      }
    });

    it("answers another customer's or another org's document, and drafts, with the same 404 under the customer's page", async () => {
      const otherLead = await createTestLead(orgId, { first_name: 'Neighbour' });
      const mine = await seedCustomerRecords(orgId, otherLead.id, { proposals: 1, pendingProposals: 1, invoices: 1, openInvoices: 1 });
      const otherOrg = await createTestOrg({ plan: 'starter' });
      const foreignLead = await createTestLead(otherOrg.orgId);
      const foreign = await seedCustomerRecords(otherOrg.orgId, foreignLead.id, {
        proposals: 1,
        pendingProposals: 1,
        invoices: 1,
        openInvoices: 1,
      });
      // The link is good: a document it doesn't show is said so under the customer's own page, the same
      // whether it is someone else's, a draft or no document at all, with the way back to the list.
      const answers = new Map<string, string>();
      for (const [kind, ids] of [
        ['proposals', [mine.proposalIds[0], foreign.proposalIds[0], records.draftProposalIds[0], records.invoiceIds[0], NO_SUCH_ID]],
        ['invoices', [mine.invoiceIds[0], foreign.invoiceIds[0], records.draftInvoiceIds[0], records.proposalIds[0], NO_SUCH_ID]],
      ] as const) {
        for (const id of ids) {
          const res = await app().get(`/p/${token}/${kind}/${id}`);
          expect(res.status, `${kind}/${id}`).to.equal(404);
          expectPortalHeaders(res);
          // Each response's own: its CSP nonce, and the id it was asked for.
          answers.set(
            `${kind}/${id}`,
            res.text
              .split(id)
              .join('<id>')
              .replace(/nonce="[^"]*"/g, ''),
          );
        }
        const texts = [...answers].filter(([key]) => key.startsWith(kind)).map(([, text]) => text);
        expect(new Set(texts).size, kind).to.equal(1);
        expect(texts[0]).to.contain(kind === 'proposals' ? 'This proposal isn’t here.' : 'This invoice isn’t here.');
        expect(texts[0]).to.contain(`href="/p/${token}/${kind}"`).and.to.contain('Sarah');
        expect(texts[0]).to.not.contain('Neighbour');
      }
      // The token was right, so none of these counts as a guess: past the miss limit, still the page, never a 429.
      for (let i = 0; i < 25; i += 1) expect((await app().get(`/p/${token}/invoices/${NO_SUCH_ID}`)).status).to.equal(404);
      // A path no page has stays the one plain 404 of a dead link.
      const unknown = await app().get(`/p/${'A'.repeat(43)}`);
      for (const path of ['/proposals/not-a-uuid', '/nonsense']) {
        const res = await app().get(`/p/${token}${path}`);
        expect(res.status, path).to.equal(404);
        expect(res.text, path).to.equal(unknown.text);
      }
    });

    it('reads a page number that is none as the first page, and one past the end as the last page', async () => {
      for (const bad of ['-1', '0', 'abc', '1.5']) {
        const res = await app().get(`/p/${token}/proposals?page=${bad}`);
        expect(res.status, bad).to.equal(200);
        expect(res.text, bad).to.contain('Page 1 of 2');
      }
      const past = await app().get(`/p/${token}/proposals?page=99999`);
      expect(past.status).to.equal(303);
      expect(past.headers.location).to.equal(`/p/${token}/proposals?page=2`);
    });
  });

  it('opens on Invoices with an open invoice and no pending proposal, else on Service History', async () => {
    const org = await createTestOrg();
    const a = await createTestLead(org.orgId);
    await seedCustomerRecords(org.orgId, a.id, { proposals: 2, invoices: 2, openInvoices: 1 });
    const b = await createTestLead(org.orgId);
    await seedCustomerRecords(org.orgId, b.id, { proposals: 2, invoices: 2, jobs: 1 });
    const c = await createTestLead(org.orgId);
    expect((await app().get(`/p/${(await linkFor(org.orgId, a.id)).token}`)).text).to.contain('<h1>Invoices</h1>');
    expect((await app().get(`/p/${(await linkFor(org.orgId, b.id)).token}`)).text).to.contain('<h1>Service History</h1>');
    const empty = await app().get(`/p/${(await linkFor(org.orgId, c.id)).token}`);
    // Nothing yet: a welcome naming the business, not an empty tab.
    expect(empty.text).to.contain('Welcome, ').and.to.contain('This is your private page with').and.not.to.contain('aria-current');
    expect((await app().get(`/p/${(await linkFor(org.orgId, c.id)).token}/history`)).text).to.contain('No service visits yet');
    expect(empty.text).not.to.contain('whatsapp-button');
  });

  it('a visit whose day has gone by is past, even before the business marks it done: no calendar file, no reschedule', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const day = 86_400_000;
    const job = (service_type: string, status: string, daysAway: number) =>
      getDb()('jobs')
        .insert({
          org_id: org.orgId,
          lead_id: lead.id,
          service_type,
          status,
          scheduled_at: new Date(Date.now() + daysAway * day),
          completed_at: status === 'completed' ? new Date(Date.now() + daysAway * day) : null,
        })
        .returning<{ id: string }[]>('id')
        .then(([row]) => row.id);
    const coming = await job('Coming visit', 'scheduled', 2);
    const forgotten = await job('Forgotten visit', 'scheduled', -3);
    await job('Done visit', 'completed', -1);
    const page = (await app().get(`/p/${(await linkFor(org.orgId, lead.id)).token}/history`)).text;
    const [upcoming, past] = page.split('<h2>Past visits</h2>');
    expect(upcoming).to.contain('Coming visit').and.not.to.contain('Forgotten visit');
    expect(past).to.not.contain('Coming visit');
    // Latest first: the one done yesterday, then the one three days ago.
    expect(past.indexOf('Done visit')).to.be.greaterThan(-1).and.lessThan(past.indexOf('Forgotten visit'));
    expect(page).to.contain(`/visits/${coming}/ics`).and.to.contain(`/visits/${coming}/reschedule`);
    expect(page).to.not.contain(`/visits/${forgotten}/`);
  });

  it('gives unknown and revoked tokens the same plain 404: same body, same headers', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const { token, id } = await linkFor(org.orgId, lead.id);
    expect((await app().get(`/p/${token}`)).status).to.equal(200);
    await getDb()('portal_links').where({ id }).update({ revoked_at: new Date() });
    const revoked = await app().get(`/p/${token}`);
    const unknown = await app().get(`/p/${token.slice(0, -4)}AAAA`);
    const malformed = await app().get('/p/short');
    for (const res of [revoked, unknown, malformed]) {
      expect(res.status).to.equal(404);
      expectPortalHeaders(res);
    }
    expect(revoked.text).to.equal(unknown.text);
    expect(malformed.text).to.equal(unknown.text);
    expect(revoked.text).to.contain('This link isn’t available');
    expect(revoked.text).not.to.contain(org.orgId);
    expect(comparableHeaders(revoked)).to.deep.equal(comparableHeaders(unknown));
    for (const tab of TABS) expect((await app().get(`/p/${token}/${tab}`)).status).to.equal(404);
  });

  it('rate-limits failed lookups per client: 429 after a burst, with the portal headers', async () => {
    for (let i = 0; i < PORTAL_MISS_LIMIT; i++) {
      expect((await app().get(`/p/${'B'.repeat(42)}${i % 10}`)).status).to.equal(404);
    }
    const limited = await app().get(`/p/${'C'.repeat(43)}`);
    expect(limited.status).to.equal(429);
    expectPortalHeaders(limited);
    expect(limited.text).to.contain('Too many attempts');
    // Every kind of miss stays refused: unknown tab, malformed token, unknown document.
    expect((await app().get(`/p/${'C'.repeat(43)}/history`)).status).to.equal(429);
    expect((await app().get('/p/short')).status).to.equal(429);
    await resetPortalMisses();
    expect((await app().get(`/p/${'C'.repeat(43)}`)).status).to.equal(404);
  });

  it('never locks a valid link out because of someone else’s misses from the same IP', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const recs = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
    const { token } = await linkFor(org.orgId, lead.id);
    // A guesser behind the same office NAT uses up the miss limit.
    for (let i = 0; i < PORTAL_MISS_LIMIT + 3; i++) await app().get(`/p/${'G'.repeat(42)}${i % 10}`);
    expect((await app().get(`/p/${'G'.repeat(43)}`)).status).to.equal(429);

    // The customer's own link still opens, on every page, and its form still posts.
    expect((await app().get(`/p/${token}`)).status).to.equal(200);
    for (const tab of TABS) expect((await app().get(`/p/${token}/${tab}`)).status).to.equal(200);
    const page = `/p/${token}/proposals/${recs.pendingProposalIds[0]}`;
    const view = await app().get(page);
    expect(view.status).to.equal(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(view.text)![1].replace(/&#x3D;/g, '=');
    const rejected = await app().post(`${page}/reject`).type('form').send({ _csrf: csrf, reason: 'Not now' });
    expect(rejected.status).to.equal(303);
    expect(rejected.headers.location).to.equal(`${page}?result=rejected`);

    // Misses are still refused, and the customer's visits never count as misses.
    expect((await app().get(`/p/${'H'.repeat(43)}`)).status).to.equal(429);
    await resetPortalMisses();
    for (let i = 0; i < PORTAL_MISS_LIMIT + 5; i++) expect((await app().get(`/p/${token}/history`)).status).to.equal(200);
    expect((await app().get(`/p/${'H'.repeat(43)}`)).status).to.equal(404);
  });

  it('robots.txt keeps crawlers out of /p/', async () => {
    const res = await app().get('/robots.txt');
    expect(res.status).to.equal(200);
    expect(res.text).to.match(/^Disallow: \/p\/$/m);
  });

  it('never writes the token to the log during a visit (URL, Referer, redirect Location)', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const recs = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1 });
    const { token } = await linkFor(org.orgId, lead.id);
    const { text, lines } = await captureLogs(async () => {
      await app().get(`/p/${token}`).set('Referer', `http://127.0.0.1/p/${token}/invoices`);
      await app().get(`/p/${token}/proposals/${recs.proposalIds[0]}`);
      const page = await app().get(`/p/${token}/proposals/${recs.proposalIds[0]}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1].replace(/&#x3D;/g, '=');
      const contentSha256 = /name="contentSha256" value="([0-9a-f]{64})"/.exec(page.text)![1];
      const post = await app()
        .post(`/p/${token}/proposals/${recs.proposalIds[0]}/approve`)
        .type('form')
        .send({ _csrf: csrf, contentSha256, approverName: 'Sarah Homeowner', agree: 'yes' });
      expect(post.status).to.equal(303);
      expect(post.headers.location).to.contain(token);
    });
    expect(lines).to.be.at.least(4);
    expect(text).to.contain('/p/[token]');
    expect(text).not.to.contain(token);
    expect(text).not.to.contain(token.slice(0, 20));
  });
});
