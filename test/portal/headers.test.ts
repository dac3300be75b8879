// Every answer under /p carries the security headers every response gets and the
// portal's own, whichever way it is made: a page rendered, the same page sent again
// as kept (issue 16), the one 404, a refused query, a form the views pass on to.
// The views are routes of the app right after the step that sets the headers
// (src/app.ts), and a request the body parsers or the input check refuse is answered
// before the portal's routers: this spec is what notices one answered without them.
import crypto from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import supertest from 'supertest';
import { securityHeaders } from '../../src/http/security.js';
import { clearKeptPages } from '../../src/portal/page-cache.js';
import { testApp } from '../support/http.js';
import { customerWithLink, resetPortalMisses } from './support.js';

/** The names of the headers securityHeaders sets on any response (Node's own left out). */
async function securityHeaderNames(): Promise<string[]> {
  const bare = await supertest(
    express()
      .disable('x-powered-by')
      .use(securityHeaders)
      .get('/', (_req, res) => void res.end()),
  ).get('/');
  const nodes = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  return Object.keys(bare.headers).filter((name) => !nodes.has(name));
}

describe('portal response headers', () => {
  beforeEach(async () => {
    clearKeptPages();
    await resetPortalMisses();
  });

  it('sends the security headers and the portal’s own on every kind of portal answer', async () => {
    const names = await securityHeaderNames();
    expect(names).to.include.members(['content-security-policy', 'x-frame-options', 'x-content-type-options']);
    const { link, records } = await customerWithLink('pro', { proposals: 1, invoices: 2, payments: 1, jobs: 1 });
    const app = testApp();
    const answers: [string, string, number][] = [
      ['a tab, rendered', `/p/${link.token}/invoices`, 200],
      ['the same tab, sent as kept', `/p/${link.token}/invoices`, 200],
      ['the home page', `/p/${link.token}`, 200],
      ['an unknown document', `/p/${link.token}/invoices/${crypto.randomUUID()}`, 404],
      ['a page past the list’s end, led to its last', `/p/${link.token}/invoices?page=999`, 303],
      ['a NUL in the query', `/p/${link.token}/invoices?note=%00`, 400],
      ['a query key naming a prototype member', `/p/${link.token}/invoices?toString=x`, 400],
      ['a document with a query the page ignores', `/p/${link.token}/invoices/${records.invoiceIds[0]}?utm_source=sms`, 200],
      ['an unknown link', `/p/${'x'.repeat(43)}/invoices`, 404],
      ['a form the views pass on', `/p/${link.token}/request`, 200],
      ['a path no view has', `/p/${link.token}/a/b/c/d`, 404],
      ['an invoice as a PDF', `/p/${link.token}/invoices/${records.invoiceIds[0]}/pdf`, 200],
      ['an unknown PDF', `/p/${link.token}/invoices/${crypto.randomUUID()}/pdf`, 404],
    ];
    for (const [what, path, status] of answers) expectPortalHeaders(await supertest(app).get(path), what, status, names);
  });

  it('sends them on a request refused before the portal’s routes run (a bad body or query)', async () => {
    const names = await securityHeaderNames();
    const { link } = await customerWithLink('pro', { proposals: 1, invoices: 1, payments: 0, jobs: 0 });
    const app = testApp();
    const form = 'application/x-www-form-urlencoded';
    const answers: [string, supertest.Test, number][] = [
      ['a NUL in a form', supertest(app).post(`/p/${link.token}/request`).type(form).send('details=a%00b'), 400],
      [
        'a form field naming a prototype member',
        supertest(app).post(`/p/${link.token}/request`).type(form).send('details[toString]=x'),
        400,
      ],
      ['a body that is not JSON', supertest(app).post(`/p/${link.token}/request`).type('json').send('{"details":'), 400],
      [
        'a body over the limit',
        supertest(app)
          .post(`/p/${link.token}/request`)
          .type(form)
          .send(`details=${'x'.repeat(210_000)}`),
        413,
      ],
      ['a NUL in the query of a form page', supertest(app).get(`/p/${link.token}/request?x=%00`), 400],
      ['a NUL on the way back from Checkout', supertest(app).get(`/return/${'x'.repeat(43)}?x=%00`), 400],
      ['an unknown way back from Checkout', supertest(app).get(`/return/${'x'.repeat(43)}`), 404],
    ];
    for (const [what, request, status] of answers) expectPortalHeaders(await request, what, status, names);
  });
});

function expectPortalHeaders(res: supertest.Response, what: string, status: number, names: string[]): void {
  expect(res.status, what).to.equal(status);
  expect(res.headers, what).to.include.all.keys(names);
  expect(res.headers['cache-control'], what).to.equal('no-store');
  expect(res.headers['referrer-policy'], what).to.equal('no-referrer');
  expect(res.headers['x-robots-tag'], what).to.equal('noindex, nofollow');
  expect(res.headers['content-security-policy'], what).to.contain("frame-ancestors 'none'");
}
