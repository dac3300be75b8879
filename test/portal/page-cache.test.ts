// Issue 16: a portal page whose data is unchanged is sent as last rendered, with
// this response's CSP nonce; the visit is still logged in the page's one round
// trip; any change to the data, a revoked link or a page carrying a request's
// outcome is never answered from what was kept. (page-versions.test.ts: what
// changes a page's version.)
import type { Express } from 'express';
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { clearKeptPages, keepPage, keptPage, NONCE_MARK, pageChunks } from '../../src/portal/page-cache.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { seedCustomerRecords } from './fixtures.js';
import { countRoundTrips, linkFor, resetPortalMisses } from './support.js';

/** Counts renders by the app's view engine while fn runs. */
async function countRenders<T>(app: Express, fn: () => Promise<T>): Promise<{ result: T; renders: number }> {
  const original = app.render.bind(app);
  let renders = 0;
  app.render = (...args: Parameters<Express['render']>) => {
    renders += 1;
    return original(...args);
  };
  try {
    return { result: await fn(), renders };
  } finally {
    app.render = original;
  }
}

/** The nonce the CSP header allows, and every nonce the page's markup carries. */
function nonces(res: supertest.Response): { header: string; inPage: string[] } {
  const header = /'nonce-([^']+)'/.exec(String(res.headers['content-security-policy']))?.[1] ?? '';
  return { header, inPage: [...res.text.matchAll(/nonce="([^"]+)"/g)].map((m) => m[1]) };
}

async function customer() {
  const org = await createTestOrg({ plan: 'pro' });
  const lead = await createTestLead(org.orgId);
  const records = await seedCustomerRecords(org.orgId, lead.id, {
    proposals: 2,
    pendingProposals: 1,
    invoices: 3,
    openInvoices: 2,
    jobs: 2,
  });
  const link = await linkFor(org.orgId, lead.id);
  return { org, lead, records, link };
}

describe('portal page cache', () => {
  beforeEach(async () => {
    clearKeptPages();
    await resetPortalMisses();
  });

  it('sends an unchanged page without rendering it again, with this response’s nonce, and still logs the visit in one round trip', async () => {
    const { lead, link } = await customer();
    const app = testApp();
    const url = `/p/${link.token}/invoices`;
    const first = await countRenders(app, () => supertest(app).get(url).expect(200));
    expect(first.renders).to.equal(1);
    const second = await countRenders(app, () => countRoundTrips(() => supertest(app).get(url).expect(200)));
    expect(second.renders, 'the kept page is sent').to.equal(0);
    expect(second.result.roundTrips).to.equal(1);

    const a = nonces(first.result);
    const b = nonces(second.result.result);
    expect(a.inPage.length).to.be.greaterThan(0);
    expect(a.inPage.every((n) => n === a.header)).to.equal(true);
    expect(
      b.inPage.every((n) => n === b.header),
      'the second response carries its own nonce',
    ).to.equal(true);
    expect(b.header).to.not.equal(a.header);
    expect(second.result.result.text).to.not.contain(NONCE_MARK);
    expect(second.result.result.text.replaceAll(b.header, 'N')).to.equal(first.result.text.replaceAll(a.header, 'N'));
    expect(second.result.result.headers['content-type']).to.match(/^text\/html/);

    // Sent in parts, its length is still exact; a HEAD gets the same headers and no body.
    expect(Number(second.result.result.headers['content-length'])).to.equal(Buffer.byteLength(second.result.result.text));
    const head = await countRenders(app, () => supertest(app).head(url).expect(200));
    expect(head.renders, 'a HEAD is the kept GET page without its body').to.equal(0);
    expect(head.result.headers['content-length']).to.equal(second.result.result.headers['content-length']);
    expect(head.result.text ?? '').to.equal('');

    const visits = await getDb()('portal_visits').where({ lead_id: lead.id, view: 'invoices' }).count<{ count: string }[]>('* as count');
    expect(Number(visits[0].count), 'every view is in the visit log').to.equal(3);
  });

  it('shows a change to the data on the next view', async () => {
    const { org, records, link } = await customer();
    const app = testApp();
    const url = `/p/${link.token}/invoices/${records.invoiceIds[0]}`;
    await supertest(app).get(url).expect(200);
    await withOrg(org.orgId, (db) =>
      db('invoice_items').where({ invoice_id: records.invoiceIds[0] }).update({ service: 'Gutter guard, north side' }),
    );
    const after = await countRenders(app, () => supertest(app).get(url).expect(200));
    expect(after.renders).to.equal(1);
    expect(after.result.text).to.contain('Gutter guard, north side');
  });

  it('answers a revoked link with the not-found page, never the kept one', async () => {
    const { org, link } = await customer();
    const app = testApp();
    const url = `/p/${link.token}/history`;
    await supertest(app).get(url).expect(200);
    await withOrg(org.orgId, (db) => db('portal_links').where({ id: link.id }).update({ revoked_at: new Date() }));
    const gone = await supertest(app).get(url).expect(404);
    expect(gone.text).to.not.contain('Service History');
  });

  it('keeps pages per language, and never a page carrying a request’s outcome', async () => {
    const { link } = await customer();
    const app = testApp();
    const url = `/p/${link.token}/proposals`;
    await supertest(app).get(url).set('Accept-Language', 'en').expect(200);
    const spanish = await countRenders(app, () => supertest(app).get(url).set('Accept-Language', 'es').expect(200));
    expect(spanish.renders, 'another language is rendered, not sent as the English page').to.equal(1);

    const withQuery = await countRenders(app, () => supertest(app).get(`${url}?paid=several`).expect(200));
    expect(withQuery.renders, 'a query the page does not list by is rendered').to.equal(1);
  });

  it('keeps a page with the version of its data under its key, and the nonce is put back everywhere', () => {
    const html = `<p>Señora O’Brien — 1.250,00 €</p><style nonce="${NONCE_MARK}"></style><p>x</p><script nonce="${NONCE_MARK}"></script>`;
    expect(Buffer.concat(pageChunks(keepPage('k', '41.7', html), 'AAA')).toString()).to.equal(
      '<p>Señora O’Brien — 1.250,00 €</p><style nonce="AAA"></style><p>x</p><script nonce="AAA"></script>',
    );
    const again = keptPage('k')!;
    expect(again.version).to.equal('41.7');
    expect(Buffer.concat(pageChunks(again.parts, 'BBB')).toString()).to.equal(
      '<p>Señora O’Brien — 1.250,00 €</p><style nonce="BBB"></style><p>x</p><script nonce="BBB"></script>',
    );
    expect(keptPage('other')).to.equal(undefined);
  });
});
