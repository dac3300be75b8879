// The web server src/server.ts makes: each request and response is created with
// the Express app's own prototypes (issue 16: Express otherwise changes both
// objects' prototypes on every request), and the app behaves through it exactly
// as through the plain Node server the other tests use.
import { expect } from 'chai';
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { createWebServer } from '../../src/http/listen.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, testApp } from '../support/http.js';
import { closeServer } from '../support/browser.js';
import { linkFor } from '../portal/support.js';

async function served(app: express.Express): Promise<{ server: http.Server; base: string }> {
  const server = createWebServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the web server', () => {
  it("creates each request and response with the app's prototypes before Express sees them", async () => {
    const app = express();
    app.get(
      '/echo',
      (req, res) => void res.status(201).json({ query: req.query, path: req.path, host: req.hostname, accepts: req.accepts('json') }),
    );
    const { server, base } = await served(app);
    const seen: { request: boolean; response: boolean; incoming: boolean; outgoing: boolean }[] = [];
    // Before the app's own listener: what Node made, not what Express made of it.
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push({
        request: Object.getPrototypeOf(req) === app.request,
        response: Object.getPrototypeOf(res) === app.response,
        incoming: req instanceof http.IncomingMessage,
        outgoing: res instanceof http.ServerResponse,
      });
    });
    try {
      for (let i = 0; i < 3; i += 1) {
        const res = await fetch(`${base}/echo?a=${i}`, { headers: { accept: 'application/json' } });
        expect(res.status).to.equal(201);
        expect(await res.json()).to.deep.equal({ query: { a: String(i) }, path: '/echo', host: '127.0.0.1', accepts: 'json' });
      }
      expect(seen).to.deep.equal(Array(3).fill({ request: true, response: true, incoming: true, outgoing: true }));
    } finally {
      await closeServer(server);
    }
  });

  it('serves the app as the plain Node server does: a portal page, a form posted with its CSRF token, an unknown link', async function () {
    this.timeout(30_000);
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const link = await linkFor(org.orgId, lead.id);
    const { server } = await served(testApp());
    try {
      const plain = await supertest(testApp()).get(`/p/${link.token}/invoices`);
      const page = await supertest(server).get(`/p/${link.token}/invoices`);
      expect(page.status).to.equal(200);
      expect(page.text).to.equal(plain.text);
      for (const header of ['content-type', 'content-security-policy', 'cache-control', 'referrer-policy', 'x-robots-tag']) {
        expect(page.headers[header], header).to.equal(plain.headers[header]);
      }
      expect((await supertest(server).get('/p/not-a-real-link-token-at-all-000000000000000/invoices')).status).to.equal(404);

      const agent = supertest.agent(server);
      const form = await agent.get('/login');
      const login = await agent
        .post('/login')
        .type('form')
        .send({ email: org.email, password: org.password, _csrf: csrfFrom(form.text) });
      expect(login.status).to.equal(303);
      expect((await agent.get('/')).status).to.equal(200);
      const refused = await agent.post('/logout').type('form').send({ _csrf: 'not-the-token' });
      expect(refused.status).to.equal(403);
    } finally {
      await closeServer(server);
    }
  });
});
