// Dashboard pages carry customers' details and portal links (credentials): no
// browser or proxy may keep a copy.
import { expect } from 'chai';
import supertest from 'supertest';
import { adminRoutes, routeUrl, seedRouteFixtures } from '../support/route-walk.js';
import { createTestOrg } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';

describe('Cache-Control on dashboard pages', () => {
  it('sends no-store on every dashboard GET route, the customer page with its portal link included', async function () {
    this.timeout(60_000);
    const org = await createTestOrg({ plan: 'pro' });
    const fx = await seedRouteFixtures(org);
    const agent = await loginAgent(org.email, org.password);
    const customer = await agent.get(`/customers/${fx.lead}`);
    expect(customer.status).to.equal(200);
    expect(customer.text).to.match(/\/p\/[A-Za-z0-9_-]{43}/);
    const checked: string[] = [];
    for (const route of adminRoutes()) {
      if (!route.methods.includes('get')) continue;
      const url = routeUrl(route.path, fx);
      const res = await agent.get(url);
      expect(res.headers['cache-control'], `GET ${url} (${res.status})`).to.equal('no-store');
      checked.push(`${res.status} ${url}`);
    }
    expect(checked.filter((c) => c.startsWith('200 ')).length, checked.join(', ')).to.be.greaterThan(25);
  });

  it('sends no-store on the account pages and on a 404 outside the portal', async () => {
    for (const url of ['/login', '/signup', '/forgot-password', '/', '/no-such-page']) {
      const res = await supertest(testApp()).get(url);
      expect(res.headers['cache-control'], url).to.equal('no-store');
    }
  });
});
