import { expect } from 'chai';
import express from 'express';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { errorHandler, notFoundHandler } from '../../src/http/error-handler.js';
import { setupViews } from '../../src/http/views.js';
import { jsonBody, testApp } from '../support/http.js';

describe('web basics', () => {
  it('answers /healthz while the process is up', async () => {
    const res = await supertest(testApp()).get('/healthz');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('answers /readyz when Postgres and Redis are reachable', async () => {
    const res = await supertest(testApp()).get('/readyz');
    expect(res.status).to.equal(200);
    expect(jsonBody<{ checks: Record<string, string> }>(res).checks).to.deep.equal({ postgres: 'ok', redis: 'ok' });
  });

  it('sends helmet headers with a CSP that allows no inline script', async () => {
    const res = await supertest(testApp()).get('/login');
    const csp = String(res.headers['content-security-policy']);
    const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc.trim()).to.equal("'self'");
    expect(csp).to.contain("default-src 'self'");
    expect(csp).to.contain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-powered-by']).to.equal(undefined);
    expect(res.text).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('renders a 404 page in the layout', async () => {
    const res = await supertest(testApp()).get('/no/such/page').set('Accept', 'text/html');
    expect(res.status).to.equal(404);
    expect(res.text).to.contain('<html');
    expect(res.text).to.contain('Page not found');
  });

  it('disallows /p/ in robots.txt', async () => {
    const res = await supertest(testApp()).get('/robots.txt');
    expect(res.text).to.contain('Disallow: /p/');
  });

  describe('500 page', () => {
    function crashingApp() {
      const app = express();
      setupViews(app);
      app.get('/boom', () => {
        throw new Error('secret internals at line 42');
      });
      app.use(notFoundHandler);
      app.use(errorHandler);
      return app;
    }

    it('shows no stack trace to users in production', async () => {
      const original = config.isProduction;
      config.isProduction = true;
      try {
        const res = await supertest(crashingApp()).get('/boom').set('Accept', 'text/html');
        expect(res.status).to.equal(500);
        expect(res.text).to.contain('Something went wrong');
        expect(res.text).not.to.contain('secret internals');
      } finally {
        config.isProduction = original;
      }
    });

    it('answers JSON to machine endpoints', async () => {
      const res = await supertest(crashingApp()).get('/webhooks/nothing');
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ error: 'not_found', message: 'Not found' });
    });
  });
});
