// Issue 16: a portal page whose data is unchanged is sent as last rendered, byte
// for byte, its inline style allowed by its hash in the CSP; the visit is still logged in the page's one round
// trip; any change to the data, a revoked link or a page carrying a request's
// outcome is never answered from what was kept. (page-versions.test.ts: what
// changes a page's version.)
import crypto from 'node:crypto';
import type { Express } from 'express';
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { clearKeptPages, keepPage, keptPage, NONCE_MARK } from '../../src/portal/page-cache.js';
import { testApp } from '../support/http.js';
import { countRoundTrips, customerWithLink, resetPortalMisses } from './support.js';

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

/** The style sources the CSP header allows, and the SHA-256 of each style element's text in the page. */
function styles(res: supertest.Response): { allowed: string[]; inPage: string[] } {
  const styleSrc = /style-src ([^;]+)/.exec(String(res.headers['content-security-policy']))?.[1] ?? '';
  return {
    allowed: styleSrc.trim().split(/\s+/),
    inPage: [...res.text.matchAll(/<style>([^<]*)<\/style>/g)].map(
      (m) => `'sha256-${crypto.createHash('sha256').update(m[1]).digest('base64')}'`,
    ),
  };
}

function customer() {
  return customerWithLink('pro', { proposals: 2, pendingProposals: 1, invoices: 3, openInvoices: 2, jobs: 2 });
}

describe('portal page cache', () => {
  beforeEach(async () => {
    clearKeptPages();
    await resetPortalMisses();
  });

  it('sends an unchanged page without rendering it again, byte for byte with its style allowed by its hash, and still logs the visit in one round trip', async () => {
    const { lead, link } = await customer();
    const app = testApp();
    const url = `/p/${link.token}/invoices`;
    const first = await countRenders(app, () => supertest(app).get(url).expect(200));
    expect(first.renders).to.equal(1);
    const second = await countRenders(app, () => countRoundTrips(() => supertest(app).get(url).expect(200)));
    expect(second.renders, 'the kept page is sent').to.equal(0);
    expect(second.result.roundTrips).to.equal(1);

    const sent = second.result.result;
    expect(sent.text).to.equal(first.result.text);
    expect(sent.text).to.not.contain(NONCE_MARK);
    expect(sent.text).to.not.match(/nonce=/);
    const { allowed, inPage } = styles(sent);
    expect(inPage, 'the brand colours are an inline style').to.have.length(1);
    expect(allowed).to.deep.equal(["'self'", ...inPage]);
    expect(sent.headers['content-security-policy']).to.equal(first.result.headers['content-security-policy']);
    expect(String(sent.headers['content-security-policy'])).to.contain("script-src 'self'").and.not.contain('nonce-');
    expect(sent.headers['content-type']).to.match(/^text\/html/);
    expect(sent.headers['cache-control']).to.equal('no-store');

    // Its length is exact; a HEAD gets the same headers and no body.
    expect(Number(sent.headers['content-length'])).to.equal(Buffer.byteLength(sent.text));
    const head = await countRenders(app, () => supertest(app).head(url).expect(200));
    expect(head.renders, 'a HEAD is the kept GET page without its body').to.equal(0);
    expect(head.result.headers['content-length']).to.equal(sent.headers['content-length']);
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

  it('keeps a page with the version of its data under its key, its style elements allowed by their hashes', () => {
    const css = ':root { --brand: #0f766e; }';
    const html = `<p>Señora O’Brien — 1.250,00 €</p><style nonce="${NONCE_MARK}">${css}</style><p>x</p><style nonce="${NONCE_MARK}"></style>`;
    const page = keepPage('k', '41.7', html)!;
    expect(page.body.toString('utf8')).to.equal(`<p>Señora O’Brien — 1.250,00 €</p><style>${css}</style><p>x</p><style></style>`);
    const hash = (text: string) => `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;
    expect(/style-src ([^;]+)/.exec(page.policy)?.[1]).to.equal(`'self' ${hash(css)} ${hash('')}`);
    const again = keptPage('k')!;
    expect(again.version).to.equal('41.7');
    expect(again.body.equals(page.body)).to.equal(true);
    expect(keptPage('other')).to.equal(undefined);
  });

  it('keeps no page that uses the nonce anywhere but a style element, and none with no styles allows any', () => {
    expect(keepPage('s', '1', `<style nonce="${NONCE_MARK}">p{}</style><script nonce="${NONCE_MARK}"></script>`)).to.equal(null);
    expect(keptPage('s')).to.equal(undefined);
    const plain = keepPage('plain', '1', '<p>no style</p>')!;
    expect(/style-src ([^;]+)/.exec(plain.policy)?.[1]).to.equal("'self'");
  });
});
